// `npm run test:electron`: the same suite through @vscode/test-electron, for machines that can download VS Code.
// Offline machines (CI here) use `npm run test:vscode` (code-server in Chromium) instead.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';

const VSCODE_VERSION = '1.100.3'; // the version the code-server harness runs, so both see the same API

const REPO_ROOT = (() => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'esbuild.mjs'))) return dir;
  throw new Error(`cannot find the repository root above ${__dirname}`);
})();

async function main(): Promise<number> {
  let vscodeExecutablePath: string;
  try {
    vscodeExecutablePath = await downloadAndUnzipVSCode({ version: VSCODE_VERSION, cachePath: join(REPO_ROOT, '.vscode-test'), timeout: 30_000 });
  } catch (error) {
    console.error(
      `[test:electron] could not download VS Code ${VSCODE_VERSION}: ${(error as Error).message}\n` +
        '  This runner needs internet access to download VS Code. Without it, run `npm run test:vscode`,\n' +
        '  which runs the same suite offline in code-server (installed from npm) and Debian\'s Chromium.',
    );
    return 2;
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    console.error('[test:electron] no display: on a headless Linux run it under `xvfb-run -a npm run test:electron`.');
  }
  try {
    await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: join(REPO_ROOT, 'out', 'test', 'vscode', 'index.js'),
      launchArgs: [mkdtempSync(join(tmpdir(), 'cron-ops-workspace-')), '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
    return 0;
  } catch (error) {
    console.error(`[test:electron] ${(error as Error).message}`);
    return 1;
  }
}

main().then((code) => process.exit(code));
