// Reloading the cron definitions while the server runs (a real server process, a real file, both stores):
// a valid file takes effect (added, removed, changed crons; a removed cron's run finishes and is recorded;
// pause kept), an invalid one changes nothing and reports every problem with its line (log, /health, event),
// SIGHUP reloads, and every reload is audited. The watch follows the path: a folder replaced as a whole, or a
// config that is a symlink to a file in another folder, still has its saves applied.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PATHS, type Cron } from '../../src/shared/api';
import type { DefinitionsReloadedEvent } from '../../src/shared/events';
import { api, getExecution, listExecutions, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, writeConfig, type ServerProcess, type TestConfig, type TestCronDefinition } from '../support/serverProcess';
import { openSse, type SseEvent, type SseStream } from '../support/sse';
import { waitFor } from '../support/waitFor';

/** The design says 2 s; the bound is wider because the test machine is shared and loaded. */
const RELOAD_BOUND_MS = 10_000;

describe('reload of the cron definitions', function () {
  this.timeout(120_000);
  let server: ServerProcess;
  let stream: SseStream;
  let configPath: string;
  const signals = mkdtempSync(join(tmpdir(), 'cron-ops-reload-'));
  const signal = (name: string) => join(signals, name);
  /** A job that prints, then waits until its signal file exists, then prints what it was given and exits 0. */
  const waiting = (name: string, word: string) =>
    nodeCron(name, `const fs = require("fs"); console.log("started"); const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(signal(name))})) { clearInterval(t); console.log(${JSON.stringify(word)}); } }, 50)`);
  const base: TestCronDefinition[] = [nodeCron('stays', 'console.log("stays")'), waiting('leaves', 'old leaves'), waiting('changes', 'old command'), nodeCron('paused-one', 'console.log("p")')];
  const config = (crons: TestCronDefinition[]): TestConfig => ({ crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 }, killGraceMs: 500 });

  before(async () => {
    configPath = writeConfig(config(base));
    server = await startServer({ config: configPath });
    stream = await openSse(server.url);
  });

  after(async () => {
    stream?.drop();
    await server?.stop();
  });

  /** Writes the file as an editor that saves through a temporary file and a rename does. */
  function save(content: TestConfig | string, viaRename = true): void {
    const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
    if (!viaRename) return writeFileSync(configPath, text);
    const temporary = `${configPath}.tmp-${Date.now()}`;
    writeFileSync(temporary, text);
    renameSync(temporary, configPath);
  }

  /** The first event named `name` received after `mark` events that satisfies `predicate`. */
  async function eventAfter(mark: number, name: string, predicate: (event: SseEvent) => boolean = () => true, what = name): Promise<SseEvent> {
    const events = await stream.until((all) => all.slice(mark).some((event) => event.event === name && predicate(event)), what, RELOAD_BOUND_MS);
    return events.slice(mark).find((event) => event.event === name && predicate(event))!;
  }

  async function crons(): Promise<Cron[]> {
    const reply = await api<{ crons: Cron[] }>(server, API_PATHS.crons);
    assert.equal(reply.status, 200, reply.text);
    return reply.body.crons;
  }

  async function reloadAudit(): Promise<Array<{ actor: string; action: string; target: string; details: Record<string, unknown> }>> {
    const reply = await api(server, `${API_PATHS.audit}?action=crons.reload&limit=50`);
    assert.equal(reply.status, 200, reply.text);
    return reply.body.entries;
  }

  it('applies a valid file: adds, removes and changes crons; a removed cron\'s run finishes completed; pause survives', async () => {
    const paused = await api(server, API_PATHS.pause('paused-one'), { method: 'POST' });
    assert.equal(paused.status, 200, paused.text);
    const leaving = await triggerOk(server, 'leaves');
    const changing = await triggerOk(server, 'changes');
    await waitFor(async () => (await api(server, `${API_PATHS.logs(leaving)}?after=0`)).body.lines.length > 0 || undefined, 'the run of "leaves" to start');
    await waitFor(async () => (await api(server, `${API_PATHS.logs(changing)}?after=0`)).body.lines.length > 0 || undefined, 'the run of "changes" to start');

    const mark = stream.events.length;
    save(
      config([
        base[0],
        { ...nodeCron('changes', 'console.log("new command")'), schedule: '30 4 * * *', timezone: 'Africa/Tunis' },
        { ...base[3], schedule: '15 2 * * *' },
        // Added, every second: it must be scheduled to run on its own.
        { ...nodeCron('arrives', 'console.log("arrived")'), schedule: '* * * * * *' },
      ]),
    );
    const reloaded = await eventAfter(mark, 'definitions.reloaded');
    assert.deepEqual((reloaded.data as DefinitionsReloadedEvent).problems, []);
    assert.equal((reloaded.data as DefinitionsReloadedEvent).path, configPath);
    await eventAfter(mark, 'crons.changed', () => true, 'crons.changed for the tree to reload the list');

    const list = await crons();
    assert.deepEqual(list.map((cron) => cron.name).sort(), ['arrives', 'changes', 'paused-one', 'stays']);
    const changed = list.find((cron) => cron.name === 'changes')!;
    assert.equal(changed.schedule, '30 4 * * *');
    assert.equal(changed.timezone, 'Africa/Tunis');
    assert.ok(changed.nextRunAt, 'the changed cron is scheduled on its new schedule');
    const pausedOne = list.find((cron) => cron.name === 'paused-one')!;
    assert.equal(pausedOne.schedule, '15 2 * * *');
    assert.equal(pausedOne.paused, true, 'a kept cron stays paused across a reload');
    assert.equal(pausedOne.nextRunAt, null);

    // The added cron runs on its schedule.
    const scheduled = await waitFor(async () => (await listExecutions(server, 'cronName=arrives')).find((execution) => execution.triggerType === 'scheduled'), 'the added cron to run on its schedule', 20_000);
    assert.equal((await waitForStatus(server, scheduled.id, 'completed')).exitCode, 0);
    // Its schedule is then removed again so it does not run on through the other tests.
    // The removed cron is refused, its running run is not dropped: it ends and is recorded completed.
    const refused = await api(server, API_PATHS.trigger, { method: 'POST', body: { cronName: 'leaves' } });
    assert.equal(refused.status, 404, refused.text);
    assert.equal((await getExecution(server, leaving)).status, 'running');
    writeFileSync(signal('leaves'), 'go');
    const left = await waitForStatus(server, leaving, 'completed');
    assert.equal(left.exitCode, 0);
    const leftLogs = await api(server, `${API_PATHS.logs(leaving)}?after=0`);
    assert.ok(leftLogs.body.lines.some((line: { line: string }) => line.line === 'old leaves'), 'the removed cron\'s run kept its output');

    // The changed cron's run in progress keeps its old command; the next run has the new one.
    writeFileSync(signal('changes'), 'go');
    await waitForStatus(server, changing, 'completed');
    const oldLogs = await api(server, `${API_PATHS.logs(changing)}?after=0`);
    assert.ok(oldLogs.body.lines.some((line: { line: string }) => line.line === 'old command'));
    const next = await triggerOk(server, 'changes');
    await waitForStatus(server, next, 'completed');
    const newLogs = await api(server, `${API_PATHS.logs(next)}?after=0`);
    assert.deepEqual(newLogs.body.lines.map((line: { line: string }) => line.line), ['new command']);

    const [row] = await reloadAudit();
    assert.equal(row.actor, 'file watch');
    assert.equal(row.target, configPath);
    assert.equal(row.details.result, 'applied');
    assert.deepEqual(row.details.added, ['arrives']);
    assert.deepEqual(row.details.removed, ['leaves']);
    const changes = row.details.changed as Array<{ name: string; fields: string[] }>;
    assert.deepEqual(changes.map((change) => change.name).sort(), ['changes', 'paused-one']);
    assert.deepEqual(changes.find((change) => change.name === 'changes')!.fields.sort(), ['command', 'schedule', 'timezone']);
    assert.match(server.output(), /Reloaded .*crons\.json \(file watch\): added arrives; removed leaves; changed/);

    // Back to a quiet set (the every-second cron removed), written in place this time.
    const quiet = stream.events.length;
    save(config([base[0], nodeCron('changes', 'console.log("new command")'), { ...base[3], schedule: '15 2 * * *' }]), false);
    await eventAfter(quiet, 'definitions.reloaded');
    assert.deepEqual((await crons()).map((cron) => cron.name).sort(), ['changes', 'paused-one', 'stays']);
  });

  it('keeps the crons of an invalid file and reports every problem with its line: log, /health, event; a valid file clears them', async () => {
    const before = (await crons()).map((cron) => cron.name).sort();
    const mark = stream.events.length;
    const text = [
      '{',
      '  "crons": [',
      '    { "name": "stays", "schedule": "0 0 1 1 *", "command": ["node", "-e", "1"] },',
      '    { "name": "Bad_Name", "schedule": "0 0 1 1 *", "command": ["node", "-e", "1"] },',
      '    { "name": "tz", "schedule": "0 0 1 1 *", "timezone": "Mars/Olympus", "command": ["node", "-e", "1"] },',
      '    { "name": "sched", "schedule": "99 * * * *", "command": ["node", "-e", "1"], "colour": "red" },',
      '    { "name": "stays", "schedule": "0 0 1 1 *" }',
      '  ]',
      '}',
    ].join('\n');
    save(text);
    const event = (await eventAfter(mark, 'definitions.reloaded', (candidate) => (candidate.data as DefinitionsReloadedEvent).problems.length > 0)).data as DefinitionsReloadedEvent;
    const fields = event.problems.map((problem) => problem.field);
    for (const field of ['crons[1].name', 'crons[2].timezone', 'crons[3].schedule', 'crons[3].colour', 'crons[4].name', 'crons[4].command']) {
      assert.ok(fields.includes(field), `the event reports ${field}; it has ${JSON.stringify(event.problems)}`);
    }
    const at = (field: string) => event.problems.find((problem) => problem.field === field)!;
    assert.equal(at('crons[1].name').line, 4);
    assert.equal(at('crons[2].timezone').line, 5);
    assert.equal(at('crons[3].colour').line, 6);
    assert.equal(at('crons[3].colour').column, text.split('\n')[5].indexOf('"colour"') + 1);
    assert.equal(at('crons[4].command').line, 7, 'a missing field is placed on its cron');
    assert.equal(event.path, configPath);

    assert.deepEqual((await crons()).map((cron) => cron.name).sort(), before, 'the crons in effect did not change');
    const health = await api(server, API_PATHS.health, { token: null });
    assert.equal(health.status, 200, 'an invalid definitions file does not make the server degraded');
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.definitions.valid, false);
    assert.equal(health.body.definitions.path, configPath);
    assert.equal(health.body.definitions.loadedAt, event.lastGoodLoadAt);
    assert.deepEqual(health.body.definitions.problems, event.problems);
    await server.waitForOutput(/is invalid \(file watch\): 6 problems/);
    assert.match(server.output(), new RegExp(`${configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:\\d+: crons\\[2\\]\\.timezone: "Mars/Olympus"`));
    const [row] = await reloadAudit();
    assert.equal(row.actor, 'file watch');
    assert.deepEqual(row.details, { result: 'invalid', problems: event.problems.length });

    // Bad JSON: every syntax error, each with its place.
    const broken = stream.events.length;
    save('{\n  "crons": [\n    { "name": "a", },\n    { "name" "b" }\n  ]\n');
    const syntax = (await eventAfter(broken, 'definitions.reloaded')).data as DefinitionsReloadedEvent;
    assert.ok(syntax.problems.length >= 3, `all syntax errors: ${JSON.stringify(syntax.problems)}`);
    assert.deepEqual(syntax.problems.slice(0, 2).map((problem) => problem.line), [3, 4]);
    assert.ok(syntax.problems.every((problem) => /^not valid JSON: /.test(problem.message) && problem.column !== undefined));

    // A valid file clears them.
    const fixed = stream.events.length;
    save(config([base[0], nodeCron('changes', 'console.log("new command")'), { ...base[3], schedule: '15 2 * * *' }, nodeCron('fixed', 'console.log(1)')]));
    const cleared = (await eventAfter(fixed, 'definitions.reloaded')).data as DefinitionsReloadedEvent;
    assert.deepEqual(cleared.problems, []);
    const healthy = await api(server, API_PATHS.health, { token: null });
    assert.equal(healthy.body.definitions.valid, true);
    assert.deepEqual(healthy.body.definitions.problems, []);
    assert.ok(Date.parse(healthy.body.definitions.loadedAt) > Date.parse(event.lastGoodLoadAt), 'the last good load is now');
    assert.ok((await crons()).some((cron) => cron.name === 'fixed'));
  });

  it('reads the file again on SIGHUP and audits it as such', async () => {
    const mark = stream.events.length;
    server.child.kill('SIGHUP');
    const event = (await eventAfter(mark, 'definitions.reloaded')).data as DefinitionsReloadedEvent;
    assert.deepEqual(event.problems, []);
    const [row] = await waitFor(async () => {
      const rows = await reloadAudit();
      return rows[0]?.actor === 'SIGHUP' ? rows : undefined;
    }, 'the SIGHUP reload in the audit trail');
    assert.deepEqual(row.details, { result: 'applied', added: [], removed: [], changed: [] });
    assert.equal(server.child.exitCode, null, 'SIGHUP does not stop the server');
    const health = await api(server, API_PATHS.health, { token: null });
    assert.equal(health.status, 200);
  });
});

describe('reload of the cron definitions: the watch follows the path', function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), 'cron-ops-reload-path-'));
  const config = (names: string[]): TestConfig => ({ crons: names.map((name) => nodeCron(name, 'console.log(1)')), rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } });
  let server: ServerProcess | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  async function waitForCrons(names: string[], what: string): Promise<void> {
    const expected = [...names].sort();
    await waitFor(
      async () => {
        const reply = await api<{ crons: Cron[] }>(server!, API_PATHS.crons);
        return JSON.stringify(reply.body.crons.map((cron) => cron.name).sort()) === JSON.stringify(expected);
      },
      `${what}: crons ${expected.join(', ')} in effect`,
      RELOAD_BOUND_MS,
    );
  }

  it('applies saves made after the config folder was removed and copied back (cp -a; rm -rf; cp -a)', async () => {
    const folder = join(root, 'cfg');
    mkdirSync(folder);
    const path = join(folder, 'crons.json');
    writeFileSync(path, JSON.stringify(config(['first']), null, 2));
    server = await startServer({ config: path });
    await waitForCrons(['first'], 'the start');

    execFileSync('cp', ['-a', folder, join(root, 'cfg.copy')]);
    execFileSync('rm', ['-rf', folder]);
    execFileSync('cp', ['-a', join(root, 'cfg.copy'), folder]);

    writeFileSync(path, JSON.stringify(config(['first', 'after-replace']), null, 2));
    await waitForCrons(['first', 'after-replace'], 'a save in the new folder');
    // And the saves after it, through a rename as editors do.
    writeFileSync(`${path}.tmp`, JSON.stringify(config(['second-save']), null, 2));
    renameSync(`${path}.tmp`, path);
    await waitForCrons(['second-save'], 'a second save in the new folder');
    const health = await api(server, API_PATHS.health, { token: null });
    assert.equal(health.body.definitions.valid, true);
    assert.equal(health.body.definitions.path, path);
    assert.match(server.output(), /Reloaded .*crons\.json \(file watch\): added after-replace/);
  });

  it('applies an edit of the target when the config path is a symlink to a file in another folder', async () => {
    const linkFolder = join(root, 'etc-cron-ops');
    const targetFolder = join(root, 'shared-config');
    mkdirSync(linkFolder);
    mkdirSync(targetFolder);
    const target = join(targetFolder, 'crons.json');
    writeFileSync(target, JSON.stringify(config(['linked']), null, 2));
    const path = join(linkFolder, 'crons.json');
    symlinkSync(target, path);
    server = await startServer({ config: path });
    await waitForCrons(['linked'], 'the start');

    writeFileSync(target, JSON.stringify(config(['linked', 'edited-target']), null, 2));
    await waitForCrons(['linked', 'edited-target'], 'an edit of the target in place');
    writeFileSync(`${target}.tmp`, JSON.stringify(config(['renamed-target']), null, 2));
    renameSync(`${target}.tmp`, target);
    await waitForCrons(['renamed-target'], 'a save of the target through a rename');
    await server.waitForOutput(/Reloaded .*crons\.json \(file watch\): added renamed-target/);
  });
});
