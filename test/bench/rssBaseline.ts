// The idle-RSS baseline, run as its own process: Node alone, or Node with PGlite open on a data folder
// (the floor the embedded store sets). Prints "ready" and idles until killed.
import { PGlite } from '@electric-sql/pglite';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (dataDir) {
    const db = await PGlite.create({ dataDir });
    await db.query('SELECT 1');
  }
  process.stdout.write('ready\n');
  setInterval(() => undefined, 60_000);
}

void main();
