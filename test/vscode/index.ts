// extensionTestsPath: VS Code's extension host loads this module and awaits run(); mocha (BDD) runs the suite.
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import { GREP_ENV, harnessDir, REPORT_FILE, RESULTS_FILE, type SuiteResults } from './harness/protocol';

/** Each test may start a backend (a store and child processes take seconds on a busy machine) and drive the UI: be generous. */
const TEST_TIMEOUT_MS = 120_000;

function testFiles(): string[] {
  return readdirSync(__dirname, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.js'))
    .sort()
    .map((file) => join(__dirname, file));
}

export async function run(): Promise<void> {
  const dir = harnessDir();
  const report = dir ? join(dir, REPORT_FILE) : undefined;
  if (report) {
    // The extension host's stdout goes nowhere visible under code-server: the harness streams this file instead.
    writeFileSync(report, '');
    Mocha.reporters.Base.consoleLog = (...args: unknown[]) => appendFileSync(report, format(...args) + '\n');
  }
  try {
    await runMocha(dir);
  } catch (error) {
    // A test file that throws while loading never reaches mocha's report: put it there.
    if (report && !(error instanceof TestsFailed)) appendFileSync(report, `\nThe suite could not run: ${(error as Error).stack ?? String(error)}\n`);
    throw error;
  }
}

class TestsFailed extends Error {}

async function runMocha(dir: string | undefined): Promise<void> {
  const grep = process.env[GREP_ENV];
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', timeout: TEST_TIMEOUT_MS, color: !dir, ...(grep ? { grep } : {}) });
  const files = testFiles();
  if (files.length === 0) throw new Error(`no *.test.js under ${__dirname}: build with \`node esbuild.mjs --tests\``);
  for (const file of files) mocha.addFile(file);

  const results: SuiteResults = { passes: 0, failures: 0, pending: 0, failed: [] };
  await new Promise<void>((resolveRun, reject) => {
    const runner = mocha.run((failures) => {
      if (dir) writeFileSync(join(dir, RESULTS_FILE), JSON.stringify(results, null, 2));
      if (failures > 0) reject(new TestsFailed(`${failures} test(s) failed`));
      else resolveRun();
    });
    runner.on(Mocha.Runner.constants.EVENT_TEST_PASS, () => results.passes++);
    runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, () => results.pending++);
    // Hooks fail through EVENT_TEST_FAIL too, with the hook's title.
    runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, (test, error) => {
      results.failures++;
      results.failed.push({ title: test.fullTitle(), error: error instanceof Error ? error.message : String(error) });
    });
  });
}
