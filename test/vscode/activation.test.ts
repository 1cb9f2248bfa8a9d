// The extension as VS Code sees it: installed from the manifest, activated the way an operator would, commands registered.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { waitFor } from '../support/waitFor';
import { requestScreenshot } from './harness/protocol';

const EXTENSION_ID = 'cron-ops.cron-ops';

interface Manifest {
  activationEvents?: string[];
  contributes?: {
    commands?: { command: string }[];
    viewsContainers?: { activitybar?: { id: string }[] };
  };
}

describe('Activation', () => {
  let extension: vscode.Extension<unknown>;
  let manifest: Manifest;

  before(async () => {
    extension = await waitFor(() => vscode.extensions.getExtension(EXTENSION_ID), `extension ${EXTENSION_ID} to be installed`);
    manifest = extension.packageJSON as Manifest;
    // `npm run bench` (figure 7) sets CRON_OPS_BENCH_OUT: the host's first activation (load + activate()) is
    // timed here, so the tests below then find the extension already active. Not set in `npm test`.
    const benchOut = process.env.CRON_OPS_BENCH_OUT;
    if (benchOut) {
      let line = 'activation-ms already-active';
      if (!extension.isActive) {
        const started = performance.now();
        await extension.activate();
        line = `activation-ms ${(performance.now() - started).toFixed(2)}`;
      }
      console.log(`[bench] ${line}`);
      writeFileSync(benchOut, line + '\n');
    }
  });

  it('is installed from this repository', () => {
    assert.equal(extension.id, EXTENSION_ID);
    assert.equal((extension.packageJSON as { main?: string }).main, './dist/extension.js');
  });

  it('activates when its view container is opened', async () => {
    const container = manifest.contributes?.viewsContainers?.activitybar?.[0];
    if (container) {
      await vscode.commands.executeCommand(`workbench.view.extension.${container.id}`);
      await waitFor(() => extension.isActive, 'the extension to activate on opening its view', 30_000);
    } else {
      // No view declared yet: activating by hand still proves activate() runs without throwing.
      await extension.activate();
    }
    assert.equal(extension.isActive, true);
  });

  it('registers every command its manifest declares', async () => {
    await extension.activate();
    const declared = (manifest.contributes?.commands ?? []).map((entry) => entry.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      declared.filter((command) => !registered.has(command)),
      [],
      'declared in package.json but not registered by activate()',
    );
  });

  it('shows the Cron Ops view and the status bar (screenshots for the README)', async () => {
    const container = manifest.contributes?.viewsContainers?.activitybar?.[0];
    if (container) await vscode.commands.executeCommand(`workbench.view.extension.${container.id}`);
    // The tree's rows or its welcome view: whichever the extension shows once it has asked the server.
    const viewContent = '#workbench\\.parts\\.sidebar .monaco-list-row, #workbench\\.parts\\.sidebar .welcome-view-content';
    await requestScreenshot('activity-bar-view', container ? { waitForSelector: viewContent } : {});
    await requestScreenshot('status-bar', { selector: '#workbench\\.parts\\.statusbar' });
  });
});
