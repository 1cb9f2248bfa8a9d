// The spawn helper's framing and its launcher, against the real helper bundle (dist/spawnHelper.mjs): bytes
// pass unchanged (binary, split across frames, more than the socket holds), exit codes and signals, a
// program that cannot start, and the helper's death with a job in flight.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HelperLauncher, type JobProcess } from '../../../src/server/jobLauncher';
import { createLogger } from '../../../src/server/logger';
import { encodeFrame, FrameDecoder, FrameKind } from '../../../src/server/spawnProtocol';
import { REPO_ROOT } from '../../support/serverProcess';
import { waitFor } from '../../support/waitFor';

const HELPER = join(REPO_ROOT, 'dist', 'spawnHelper.mjs');

interface Outcome {
  stdout: Buffer;
  stderr: Buffer;
  exit?: { code: number | null; signal: string | null };
  error?: NodeJS.ErrnoException;
}

function collect(job: JobProcess): Promise<Outcome> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  job.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  job.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const closed = (stream: NodeJS.ReadableStream) => new Promise<void>((resolveClose) => stream.once('close', () => resolveClose()));
  const ended = new Promise<Pick<Outcome, 'exit' | 'error'>>((resolveEnd) => {
    job.once('exit', (code: number | null, signal: string | null) => resolveEnd({ exit: { code, signal } }));
    job.once('error', (error: NodeJS.ErrnoException) => resolveEnd({ error }));
  });
  return Promise.all([ended, closed(job.stdout), closed(job.stderr)]).then(([end]) => ({ ...end, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) }));
}

const request = (program: string, args: string[]) => ({ program, args, cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });

describe('spawn protocol frames', () => {
  it('are cut the same whatever the chunking', () => {
    const frames = Buffer.concat([encodeFrame(FrameKind.Spawned, 7, { pid: 42 }), encodeFrame(FrameKind.Stdout, 7, Buffer.from([0, 1, 255])), encodeFrame(FrameKind.StdoutEnd, 7)]);
    for (const size of [1, 2, 5, 9, 10, frames.length]) {
      const seen: string[] = [];
      const decoder = new FrameDecoder((kind, id, payload) => seen.push(`${kind}:${id}:${payload.toString('hex')}`));
      for (let offset = 0; offset < frames.length; offset += size) decoder.push(frames.subarray(offset, offset + size));
      assert.deepEqual(seen, [`10:7:${Buffer.from('{"pid":42}').toString('hex')}`, '12:7:0001ff', '14:7:'], `chunks of ${size}`);
    }
  });
});

describe('spawn helper launcher', function () {
  this.timeout(30_000);
  let launcher: HelperLauncher;

  beforeEach(() => {
    launcher = new HelperLauncher(HELPER, createLogger({ level: 'error', write: () => undefined }));
  });

  afterEach(async () => {
    await launcher.close();
  });

  it('relays every byte, the pid and the exit code; several jobs at once', async () => {
    // 3 MB of every byte value, more than the socket holds at once: the helper waits for the server.
    const script = 'const b = Buffer.alloc(3 * 1024 * 1024); for (let i = 0; i < b.length; i++) b[i] = i % 256; process.stdout.write(b); process.stderr.write("err\\0"); process.exitCode = 4;';
    const jobs = [launcher.spawn(request(process.execPath, ['-e', script])), launcher.spawn(request('sh', ['-c', 'printf "x\\000y"; exit 0']))];
    const pids = jobs.map((job) => new Promise<number | undefined>((resolvePid) => job.once('spawn', () => resolvePid(job.pid))));
    const [big, small] = await Promise.all(jobs.map(collect));
    assert.equal(big.exit?.code, 4);
    assert.equal(big.stdout.length, 3 * 1024 * 1024);
    assert.ok(big.stdout.every((byte, index) => byte === index % 256), 'bytes unchanged');
    assert.equal(big.stderr.toString('latin1'), 'err\0');
    assert.deepEqual(small, { exit: { code: 0, signal: null }, stdout: Buffer.from('x\0y', 'latin1'), stderr: Buffer.alloc(0) });
    for (const pid of await Promise.all(pids)) assert.ok(typeof pid === 'number' && pid > 0);
    assert.ok(launcher.helperPid, 'one helper runs');
  });

  it('a SIGINT or SIGTERM to the helper (Ctrl+C, systemd) leaves it relaying: the server closes it once its runs ended', async () => {
    const job = launcher.spawn(request('sh', ['-c', 'read line < /dev/null; sleep 0.5; echo still relayed']));
    const outcome = collect(job);
    await new Promise((resolveSpawn) => job.once('spawn', resolveSpawn));
    process.kill(launcher.helperPid!, 'SIGINT');
    process.kill(launcher.helperPid!, 'SIGTERM');
    const done = await outcome;
    assert.equal(done.stdout.toString(), 'still relayed\n');
    assert.deepEqual(done.exit, { code: 0, signal: null });
    assert.equal(job.lost, undefined);
  });

  it('a signal asked for before the pid reached the server ends the job\'s group at once (a cancel does not wait for the pid)', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'cron-ops-early-signal-')), 'done');
    // Its work comes after a second: the signal, sent with the spawn request still on its way, must stop it.
    const job = launcher.spawn(request('sh', ['-c', `sleep 1; touch ${marker}`]));
    assert.equal(job.pid, undefined, 'the pid is not known yet');
    job.signalBeforePid?.('SIGTERM');
    const outcome = await collect(job);
    assert.deepEqual(outcome.exit, { code: null, signal: 'SIGTERM' });
    assert.equal(existsSync(marker), false, 'the job did not do its work');
  });

  it('a helper that does not answer (stopped) is replaced: the job it held fails saying so, the next one runs', async () => {
    const quick = new HelperLauncher(HELPER, createLogger({ level: 'error', write: () => undefined }), 1_000);
    try {
      await collect(quick.spawn(request('true', [])));
      const stopped = quick.helperPid!;
      process.kill(stopped, 'SIGSTOP');
      const held = await collect(quick.spawn(request('sh', ['-c', 'echo never'])));
      assert.match(held.error?.message ?? '', /spawn helper \(pid \d+.*killed by SIGKILL before the job started/);
      const next = await collect(quick.spawn(request('sh', ['-c', 'echo after'])));
      assert.equal(next.stdout.toString(), 'after\n');
      assert.notEqual(quick.helperPid, stopped, 'a new helper');
    } finally {
      await quick.close();
    }
  });

  it('a burst of starts is shared between helpers (their starts overlap); the extra ones close once idle', async () => {
    const errors: string[] = [];
    const pool = new HelperLauncher(HELPER, createLogger({ level: 'error', write: (line) => errors.push(line) }), 20_000, 2, 300);
    try {
      // Each job prints its parent: the helper that started it.
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => collect(pool.spawn(request('sh', ['-c', 'echo $PPID'])))));
      const parents = new Set(outcomes.map((outcome) => Number(outcome.stdout.toString().trim())));
      assert.equal(parents.size, 2, `two helpers started the jobs: ${[...parents].join(', ')}`);
      const helpers = pool.helperPids;
      for (const parent of parents) assert.ok(helpers.includes(parent), `${parent} is one of the helpers ${helpers.join(', ')}`);
      await waitFor(() => pool.helperPids.length === 1, 'the extra helper to close');
      const again = await collect(pool.spawn(request('sh', ['-c', 'echo still'])));
      assert.equal(again.stdout.toString(), 'still\n');
      assert.deepEqual(errors, [], 'closing an idle helper is no failure');
    } finally {
      await pool.close();
    }
  });

  it('says a job was ended by a signal', async () => {
    const job = launcher.spawn(request('sh', ['-c', 'kill -TERM $$']));
    assert.deepEqual((await collect(job)).exit, { code: null, signal: 'SIGTERM' });
  });

  it('a program that does not exist is an error without a pid, with its code', async () => {
    const outcome = await collect(launcher.spawn(request('/no/such/program', [])));
    assert.equal(outcome.error?.code, 'ENOENT');
    assert.equal(outcome.exit, undefined);
  });

  it('the helper killed with a job running: the job is lost (saying why), the next job starts a new helper', async () => {
    const job = launcher.spawn(request('sleep', ['30']));
    await new Promise((resolveSpawn) => job.once('spawn', resolveSpawn));
    const first = launcher.helperPid!;
    const outcome = collect(job);
    process.kill(first, 'SIGKILL');
    assert.deepEqual((await outcome).exit, { code: null, signal: null });
    assert.match(job.lost ?? '', new RegExp(`the spawn helper \\(pid ${first}.*\\) killed by SIGKILL while the run was in progress`));
    process.kill(-job.pid!, 'SIGKILL');
    const next = await collect(launcher.spawn(request('sh', ['-c', 'echo again'])));
    assert.equal(next.stdout.toString(), 'again\n');
    await waitFor(() => launcher.helperPid !== undefined && launcher.helperPid !== first, 'a new helper');
  });
});
