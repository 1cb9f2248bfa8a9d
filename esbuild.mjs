// Builds the shipped bundles (server, its timeline worker and spawn helper, extension, webview) and, with
// --tests, the test suites.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const withTests = process.argv.includes('--tests');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', target: 'node20' };

// CJS dependencies bundled into ESM still call require() for Node built-ins.
const esmRequireBanner = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  "import { dirname as __pathDirname } from 'node:path';",
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  'const __dirname = __pathDirname(__filename);',
].join('\n');

function filesUnder(dir, suffix) {
  let found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found = found.concat(filesUnder(path, suffix));
    else if (path.endsWith(suffix)) found.push(path);
  }
  return found;
}

mkdirSync('dist', { recursive: true });
cpSync('src/server/demo', 'dist/demo', { recursive: true });

const builds = [
  esbuild.build({
    ...common,
    entryPoints: ['src/server/main.ts'],
    outfile: 'dist/server.mjs',
    platform: 'node',
    format: 'esm',
    // A native module: it loads its compiled addon from node_modules, so it stays out of the bundle.
    external: ['better-sqlite3'],
    // As for the extension: jsonc-parser's UMD main cannot be bundled, its ESM build can.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
    banner: { js: '#!/usr/bin/env node\n' + esmRequireBanner },
  }),
  // The server's timeline worker (src/server/store/timelineReader.ts starts it from beside server.mjs).
  esbuild.build({
    ...common,
    entryPoints: ['src/server/store/timelineWorker.ts'],
    outfile: 'dist/timelineWorker.mjs',
    platform: 'node',
    format: 'esm',
    external: ['better-sqlite3'],
    banner: { js: esmRequireBanner },
  }),
  // The server's spawn helper (src/server/jobLauncher.ts starts it from beside server.mjs): kept small, so
  // its forks are cheap; it needs nothing but Node's built-ins.
  esbuild.build({
    ...common,
    entryPoints: ['src/server/spawnHelper.ts'],
    outfile: 'dist/spawnHelper.mjs',
    platform: 'node',
    format: 'esm',
  }),
  esbuild.build({
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    // jsonc-parser's UMD main loads its parts with a require() that a bundle cannot follow: take its ESM build.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  }),
  esbuild.build({
    ...common,
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  }),
];

if (withTests) {
  const testEntries = ['unit', 'server', 'vscode', 'bench']
    .filter((dir) => existsSync(join('test', dir)))
    .flatMap((dir) => filesUnder(join('test', dir), '.ts'))
    .filter((file) => !file.endsWith('.d.ts'));
  builds.push(
    esbuild.build({
      ...common,
      sourcemap: true,
      entryPoints: testEntries,
      outdir: 'out/test',
      outbase: 'test',
      platform: 'node',
      format: 'cjs',
      packages: 'external',
      external: ['vscode'],
    }),
  );
}

await Promise.all(builds);

// V8 keeps a script's source in memory as a string, one byte per character only when every character is
// Latin-1: a single em dash in a dependency's comment (esbuild escapes strings, not comments) made the
// server's 3.7 MB bundle a 7.5 MB string for the server's whole life (issue 10's idle RSS). Anything beyond
// Latin-1 is written as its \u escape, which means the same character in a string, a regular expression or
// an identifier, and is plain text in a comment.
for (const file of ['dist/server.mjs', 'dist/timelineWorker.mjs']) {
  const text = readFileSync(file, 'utf8');
  const latin1 = text.replace(/[\u0100-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (latin1 !== text) writeFileSync(file, latin1);
}
