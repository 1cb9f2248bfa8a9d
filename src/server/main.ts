// Placeholder until the server lands.
console.log('not yet');
