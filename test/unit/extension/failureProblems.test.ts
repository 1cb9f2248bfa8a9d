// A real failing node process's stderr, as the runner stores it, turned into the problems Cron Ops raises.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { candidatePaths, failureProblems, MAX_PROBLEMS_PER_RUN } from '../../../src/extension/problems/failureProblems';

describe('failureProblems', () => {
  let dir: string;
  let stderr: string[];
  const script = ['function loadConfig() {', "  throw new Error('config missing');", '}', 'function main() {', '  loadConfig();', '}', 'main();', ''].join('\n');
  const execution = { id: '0a1b2c3d-0000-4000-8000-000000000001', cronName: 'nightly-report' };

  before(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'cron-ops-problems-')));
    writeFileSync(join(dir, 'report.js'), script);
    const result = spawnSync(process.execPath, [join(dir, 'report.js')], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    stderr = result.stderr.replace(/\n$/, '').split('\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('raises an error where the error was thrown and a warning on each caller, 0-based, naming the cron and the run', () => {
    const context = { mappings: {}, folders: [{ name: 'app', path: dir }] };
    const problems = failureProblems(execution, stderr, context, () => true);
    assert.deepEqual(
      problems.map((problem) => [problem.path, problem.line, problem.column, problem.raisedHere]),
      [
        [join(dir, 'report.js'), 1, 8, true],
        [join(dir, 'report.js'), 4, 2, false],
        [join(dir, 'report.js'), 6, 0, false],
      ],
    );
    assert.equal(problems[0].message, 'Error: config missing (cron nightly-report, run 0a1b2c3d failed)');
    assert.equal(problems[1].message, 'Error: config missing raised below this call (cron nightly-report, run 0a1b2c3d failed)');
    assert.ok(problems.every((problem) => problem.executionId === execution.id && problem.cronName === 'nightly-report'));
  });

  it('maps server paths through cronOps.pathMappings and keeps only files that exist', () => {
    const context = { mappings: { [dir]: '/home/dev/app' }, folders: [{ name: 'app', path: '/home/dev/app' }] };
    assert.deepEqual(candidatePaths(stderr, context), ['/home/dev/app/report.js']);
    assert.deepEqual(failureProblems(execution, stderr, context, (path) => path === '/home/dev/app/report.js').map((problem) => problem.path), Array(3).fill('/home/dev/app/report.js'));
    assert.deepEqual(failureProblems(execution, stderr, context, () => false), []);
  });

  it('raises nothing for frames outside the workspace, and at most a bounded number per run', () => {
    assert.deepEqual(failureProblems(execution, stderr, { mappings: {}, folders: [{ name: 'other', path: '/elsewhere' }] }, () => true), []);
    const deep = ['Error: deep', ...Array.from({ length: 50 }, (_, index) => `    at f${index} (${join(dir, 'report.js')}:${index + 1}:1)`)];
    assert.equal(failureProblems(execution, deep, { mappings: {}, folders: [{ name: 'app', path: dir }] }, () => true).length, MAX_PROBLEMS_PER_RUN);
  });
});
