// Checks every request's input before the routes see it, so bad input is a 400 that says what is wrong
// rather than an error from the store or the process launcher (a 500): JSON nested past a sane depth,
// NUL characters and lone UTF-16 surrogates in any string (neither can be stored as text nor passed in
// an environment variable).

/** Deeper JSON than this is refused before it is parsed. */
export const MAX_JSON_DEPTH = 32;

/** The deepest nesting of arrays and objects in a JSON text, counted without parsing it (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
      continue;
    }
    if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (char === 0x7d || char === 0x5d) depth--;
  }
  return deepest;
}

// eslint-disable-next-line no-control-regex
const BAD_CHARACTER = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with a string that no part of the server can take, or undefined. */
export function badStringProblem(text: string): string | undefined {
  const match = BAD_CHARACTER.exec(text);
  if (!match) return undefined;
  return match[0] === '\u0000' ? 'contains a NUL character (\\u0000)' : 'contains a lone UTF-16 surrogate (not valid Unicode text)';
}

/**
 * The first string (key or value) in a parsed value that no part of the server can take, with where it
 * is ("params.label"), or undefined. Iterative, so any depth is safe.
 */
export function findBadString(value: unknown, root: string): string | undefined {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: root }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = badStringProblem(current);
      if (problem) return `${path} ${problem}`;
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        const problem = badStringProblem(key);
        if (problem) return `a key in ${path} ${problem}`;
        stack.push({ value: child, path: path ? `${path}.${key}` : key });
      }
    }
  }
  return undefined;
}
