// What the harness (outside) and the suite inside the extension host share: environment variables and file names.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A folder the harness creates and passes to code-server's environment, which the extension host inherits.
 * Unset when the suite runs elsewhere (`npm run test:electron`): then the report goes to the console and
 * screenshot requests are no-ops.
 */
export const HARNESS_DIR_ENV = 'CRON_OPS_HARNESS_DIR';
/** Runs only the tests whose full title matches this regular expression (`npm run test:vscode -- --grep X`). */
export const GREP_ENV = 'CRON_OPS_TEST_GREP';

/** mocha's spec report, written line by line; the harness streams it to its own stdout. */
export const REPORT_FILE = 'mocha-report.txt';
/** `SuiteResults` as JSON, written when the run ends. */
export const RESULTS_FILE = 'mocha-results.json';
/** Screenshot requests `<name>.json` ({selector?}) and replies `<name>.done.json` ({path} or {error}). */
export const SCREENSHOT_REQUESTS_DIR = 'screenshot-requests';

export interface SuiteResults {
  passes: number;
  failures: number;
  pending: number;
  failed: { title: string; error: string }[];
}

export interface ScreenshotRequest {
  /** A CSS selector of the part to capture (e.g. the status bar); the whole page when absent. */
  selector?: string;
  /** A CSS selector to wait for (visible, up to 15 s) before capturing, e.g. the view's first row. */
  waitForSelector?: string;
}

export interface ScreenshotReply {
  path?: string;
  error?: string;
}

export function harnessDir(): string | undefined {
  return process.env[HARNESS_DIR_ENV] || undefined;
}

/**
 * From a test inside the extension host: asks the harness to screenshot the page now and waits for it.
 * Resolves with the PNG's path, or undefined when not running under the harness. Names: [a-z0-9-]+.
 * The harness saves `.vscode-test/screenshots/<name>.png`; a name used twice overwrites the first.
 */
export async function requestScreenshot(name: string, request: ScreenshotRequest = {}, timeoutMs = 20_000): Promise<string | undefined> {
  const dir = harnessDir();
  if (!dir) return undefined;
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`screenshot name ${JSON.stringify(name)} must match [a-z0-9-]+`);
  const requests = join(dir, SCREENSHOT_REQUESTS_DIR);
  mkdirSync(requests, { recursive: true });
  const reply = join(requests, `${name}.done.json`);
  rmSync(reply, { force: true });
  // Written under a temporary name and renamed, so the harness never reads half a request.
  writeFileSync(join(requests, `${name}.tmp`), JSON.stringify(request));
  renameSync(join(requests, `${name}.tmp`), join(requests, `${name}.json`));
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(reply)) {
    if (Date.now() > deadline) throw new Error(`the harness did not take screenshot ${name} within ${timeoutMs} ms`);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 100));
  }
  const answer = JSON.parse(readFileSync(reply, 'utf8')) as ScreenshotReply;
  if (answer.error) throw new Error(`screenshot ${name} failed: ${answer.error}`);
  return answer.path;
}
