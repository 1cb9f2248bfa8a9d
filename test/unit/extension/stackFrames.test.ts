// Traces come from real node, python3, bash and sh processes run here, as the runner would capture them.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { candidateWorkspacePaths, parseStackTraces, workspaceFrames, type ErrorTrace, type PathMappingContext } from '../../../src/extension/problems/stackFrames';

let serverDir: string;

/** Writes `files` under the "server" folder and runs argv there; returns stderr as the runner stores it (lines). */
function stderrOf(files: Record<string, string>, argv: string[]): string[] {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(serverDir, path, '..'), { recursive: true });
    writeFileSync(join(serverDir, path), text);
  }
  const [program, ...args] = argv;
  const result = spawnSync(program === 'node' ? process.execPath : program, args, { cwd: serverDir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.notEqual(result.status, 0, `${argv.join(' ')} was expected to fail`);
  return result.stderr.replace(/\n$/, '').split('\n');
}

const at = (file: string) => join(serverDir, file);
const userFrames = (trace: ErrorTrace) => trace.frames.filter((frame) => !frame.internal).map((frame) => `${frame.function ?? '(anonymous)'} ${frame.file}:${frame.line}${frame.column ? `:${frame.column}` : ''}`);

describe('stackFrames', () => {
  before(() => {
    serverDir = realpathSync(mkdtempSync(join(tmpdir(), 'cron-ops-frames-')));
  });
  after(() => rmSync(serverDir, { recursive: true, force: true }));

  describe('Node', () => {
    it('reads an uncaught error of a CommonJS script: its whole message, frames innermost first, internals flagged', () => {
      const lines = stderrOf(
        {
          'jobs/a.js': "const { fetchBatch } = require('./lib/batch');\nfunction main() {\n  fetchBatch(3);\n}\nmain();\n",
          'jobs/lib/batch.js': "exports.fetchBatch = function fetchBatch(size) {\n  throw new Error(`batch of ${size} failed\\nupstream said: 503`);\n};\n",
        },
        ['node', 'jobs/a.js'],
      );
      const traces = parseStackTraces(lines);
      assert.equal(traces.length, 1, lines.join('\n'));
      const [trace] = traces;
      assert.equal(trace.language, 'node');
      assert.equal(trace.message, 'Error: batch of 3 failed\nupstream said: 503');
      assert.deepEqual(userFrames(trace), [`fetchBatch ${at('jobs/lib/batch.js')}:2:9`, `main ${at('jobs/a.js')}:3:3`, `Object.<anonymous> ${at('jobs/a.js')}:5:1`]);
      assert.ok(trace.frames.some((frame) => frame.internal && frame.file.startsWith('node:internal/')), 'node:internal frames are kept, flagged internal');
      assert.match(lines[trace.lineIndex], /^Error: batch of 3 failed/);
    });

    it('reads an ES module: file:// URLs become paths, async frames keep their function', () => {
      const lines = stderrOf(
        { 'b.mjs': "async function load() {\n  await null;\n  throw new TypeError('cannot read config');\n}\nawait load();\n" },
        ['node', 'b.mjs'],
      );
      const [trace, ...rest] = parseStackTraces(lines);
      assert.equal(rest.length, 0);
      assert.equal(trace.message, 'TypeError: cannot read config');
      assert.deepEqual(userFrames(trace), [`load ${at('b.mjs')}:3:9`, `(anonymous) ${at('b.mjs')}:5:1`]);
    });

    it('reads errors a script logs itself, with their [cause], among ordinary log lines', () => {
      const source = [
        "console.error('starting batch 4');",
        "try { JSON.parse('{'); } catch (error) { console.error('parse failed:', error); }",
        "console.error('WARN: 3 retries left');",
        "console.error(new Error('sync failed', { cause: new RangeError('offset out of range') }));",
        'process.exit(2);',
      ];
      const lines = stderrOf({ 'c.mjs': source.join('\n') }, ['node', 'c.mjs']);
      const column = (text: string) => source[3].indexOf(text) + 1;
      const traces = parseStackTraces(lines);
      assert.deepEqual(
        traces.map((trace) => [trace.message.split('\n')[0], userFrames(trace)]),
        [
          [lines.find((line) => line.startsWith('parse failed: SyntaxError')), [`(anonymous) ${at('c.mjs')}:2:12`]],
          ['Error: sync failed', [`(anonymous) ${at('c.mjs')}:4:${column('new Error')}`]],
          ['RangeError: offset out of range', [`(anonymous) ${at('c.mjs')}:4:${column('new RangeError')}`]],
        ],
      );
    });

    it('reads a frame of a constructor and of a class method', () => {
      const lines = stderrOf(
        { 'd.js': "class Indexer {\n  constructor(size) {\n    this.check(size);\n  }\n  check(size) {\n    if (size > 2) throw new RangeError('too big');\n  }\n}\nnew Indexer(5);\n" },
        ['node', 'd.js'],
      );
      const [trace] = parseStackTraces(lines);
      assert.equal(trace.message, 'RangeError: too big');
      assert.deepEqual(userFrames(trace).slice(0, 2), [`Indexer.check ${at('d.js')}:6:25`, `Indexer ${at('d.js')}:3:10`]);
    });
  });

  describe('Python', () => {
    it('reads a chained traceback as two errors, each innermost first', () => {
      const lines = stderrOf(
        {
          'jobs/d.py': 'import helpers\n\ndef main():\n    try:\n        helpers.parse("abc")\n    except ValueError as e:\n        raise RuntimeError("could not parse batch") from e\n\nmain()\n',
          'jobs/helpers.py': 'def parse(x):\n    return int(x)\n',
        },
        ['python3', 'jobs/d.py'],
      );
      const traces = parseStackTraces(lines);
      assert.equal(traces.length, 2, lines.join('\n'));
      assert.deepEqual(
        traces.map((trace) => [trace.language, trace.message, userFrames(trace)]),
        [
          ['python', "ValueError: invalid literal for int() with base 10: 'abc'", [`parse ${at('jobs/helpers.py')}:2`, `main ${at('jobs/d.py')}:5`]],
          ['python', 'RuntimeError: could not parse batch', [`main ${at('jobs/d.py')}:7`, `<module> ${at('jobs/d.py')}:9`]],
        ],
      );
    });

    it('reads a SyntaxError, which has a frame and no Traceback header', () => {
      const lines = stderrOf({ 'f.py': 'x = 1\ndef f(:\n    pass\n' }, ['python3', 'f.py']);
      const [trace, ...rest] = parseStackTraces(lines);
      assert.equal(rest.length, 0, lines.join('\n'));
      assert.equal(trace.message, 'SyntaxError: invalid syntax');
      assert.deepEqual(userFrames(trace), [`(anonymous) ${at('f.py')}:2`]);
    });

    it('flags frames of code that is not a file (<string>) as internal', () => {
      const lines = stderrOf({}, ['python3', '-c', 'def f():\n    raise KeyError("batchSize")\nf()']);
      const [trace] = parseStackTraces(lines);
      assert.equal(trace.message, "KeyError: 'batchSize'");
      assert.ok(trace.frames.length >= 2 && trace.frames.every((frame) => frame.internal), JSON.stringify(trace.frames));
    });
  });

  describe('shell', () => {
    const script = '#!/bin/sh\necho "indexing"\nfoo_missing_cmd --batch 2\ncd /nonexistent-cron-ops-dir\nexit 3\n';

    it('reads bash errors: one per line, with the script line and the message', () => {
      const lines = stderrOf({ 'scripts/e.sh': script }, ['bash', at('scripts/e.sh')]);
      assert.deepEqual(
        parseStackTraces(lines).map((trace) => [trace.language, trace.message, userFrames(trace)]),
        [
          ['shell', 'foo_missing_cmd: command not found', [`(anonymous) ${at('scripts/e.sh')}:3`]],
          ['shell', 'cd: /nonexistent-cron-ops-dir: No such file or directory', [`(anonymous) ${at('scripts/e.sh')}:4`]],
        ],
      );
    });

    it('reads sh (dash) errors, printed "file: N: message"', () => {
      const lines = stderrOf({ 'scripts/e.sh': script }, ['sh', 'scripts/e.sh']);
      const traces = parseStackTraces(lines);
      assert.deepEqual(traces.map((trace) => [trace.frames[0].file, trace.frames[0].line]), [['scripts/e.sh', 3], ['scripts/e.sh', 4]], lines.join('\n'));
      assert.match(traces[0].message, /foo_missing_cmd: not found/);
    });

    it('merges the two lines bash prints for one syntax error', () => {
      const lines = stderrOf({ 'scripts/s.sh': 'echo ok\nif then\n  echo no\nfi\n' }, ['bash', 'scripts/s.sh']);
      const traces = parseStackTraces(lines);
      assert.equal(traces.length, 1, lines.join('\n'));
      assert.deepEqual(traces[0].frames.map((frame) => `${frame.file}:${frame.line}`), ['scripts/s.sh:2']);
      assert.equal(traces[0].message, "syntax error near unexpected token `then'\n`if then'");
    });

    it('ignores bash -c errors, which name no script', () => {
      const lines = stderrOf({}, ['bash', '-c', 'missing_cmd_xyz']);
      assert.match(lines.join('\n'), /bash: line 1: missing_cmd_xyz: command not found/);
      assert.deepEqual(parseStackTraces(lines), []);
    });
  });

  it('finds nothing in ordinary stderr output', () => {
    const lines = [
      'WARN: 3 retries left',
      'Processed batch.csv: 12: ok',
      '2026-02-14 15:30:00: 5: documents indexed',
      'Error rate: 2%',
      '    at the end of the batch',
      'Traceback is disabled',
      '',
    ];
    assert.deepEqual(parseStackTraces(lines), []);
  });

  describe('path mapping', () => {
    const folders = [
      { name: 'jobs', path: '/home/amira/src/jobs' },
      { name: 'infra', path: '/home/amira/src/infra' },
    ];
    const context = (mappings: Record<string, string>, serverCwd?: string): PathMappingContext => ({ mappings, folders, serverCwd });

    it('maps through the longest matching prefix first, then shorter ones', () => {
      const mappings = { '/srv/cron-ops': '/home/amira/src/infra', '/srv/cron-ops/jobs': '${workspaceFolder:jobs}' };
      assert.deepEqual(candidateWorkspacePaths('/srv/cron-ops/jobs/scripts/a.mjs', context(mappings)), [
        '/home/amira/src/jobs/scripts/a.mjs',
        '/home/amira/src/infra/jobs/scripts/a.mjs',
      ]);
    });

    it('matches prefixes on whole path segments only', () => {
      assert.deepEqual(candidateWorkspacePaths('/srv/cron-ops-old/a.mjs', context({ '/srv/cron-ops': '${workspaceFolder}' })), []);
      assert.deepEqual(candidateWorkspacePaths('/srv/cron-ops/a.mjs', context({ '/srv/cron-ops/': '${workspaceFolder}' })), ['/home/amira/src/jobs/a.mjs']);
    });

    it('resolves a relative target against every workspace folder, ${workspaceFolder} against the first', () => {
      assert.deepEqual(candidateWorkspacePaths('/opt/app/x.py', context({ '/opt/app': 'cron' })), ['/home/amira/src/jobs/cron/x.py', '/home/amira/src/infra/cron/x.py']);
      assert.deepEqual(candidateWorkspacePaths('/opt/app/x.py', context({ '/opt/app': '${workspaceFolder}/cron' })), ['/home/amira/src/jobs/cron/x.py']);
      assert.deepEqual(candidateWorkspacePaths('/opt/app/x.py', context({ '/opt/app': '${workspaceFolder:nope}' })), []);
    });

    it('takes a path already in the workspace as it is, and nothing outside it', () => {
      assert.deepEqual(candidateWorkspacePaths('/home/amira/src/infra/./deploy/../run.sh', context({})), ['/home/amira/src/infra/run.sh']);
      assert.deepEqual(candidateWorkspacePaths('/usr/lib/python3.11/json/decoder.py', context({})), []);
    });

    it('resolves a relative path from the server folder the run started in', () => {
      assert.deepEqual(candidateWorkspacePaths('scripts/e.sh', context({ '/srv/cron-ops': '${workspaceFolder:infra}' }, '/srv/cron-ops')), ['/home/amira/src/infra/scripts/e.sh']);
      assert.deepEqual(candidateWorkspacePaths('scripts/e.sh', context({ '/srv/cron-ops': '${workspaceFolder:infra}' })), []);
    });

    it('accepts Windows paths on either side', () => {
      const windows = { mappings: { 'C:\\cron\\jobs': 'D:\\work\\jobs' }, folders: [{ name: 'jobs', path: 'D:/work/jobs' }] };
      assert.deepEqual(candidateWorkspacePaths('C:\\cron\\jobs\\lib\\a.js', windows), ['D:/work/jobs/lib/a.js']);
    });

    it('maps the user frames of a real failing run to the workspace copy of its scripts', () => {
      const lines = stderrOf(
        {
          'deploy/job.mjs': "import { step } from './lib/step.mjs';\nstep();\n",
          'deploy/lib/step.mjs': "export function step() {\n  throw new Error('step failed');\n}\n",
        },
        ['node', 'deploy/job.mjs'],
      );
      const mapped = workspaceFrames(parseStackTraces(lines), { mappings: { [join(serverDir, 'deploy')]: '${workspaceFolder:jobs}' }, folders });
      assert.deepEqual(
        mapped.map(({ trace, frame, depth, candidates }) => [trace.message, depth, frame.line, candidates]),
        [
          ['Error: step failed', 0, 2, ['/home/amira/src/jobs/lib/step.mjs']],
          ['Error: step failed', 1, 2, ['/home/amira/src/jobs/job.mjs']],
        ],
      );
    });
  });
});
