// The run's process tree with real processes: its group and a descendant that left it with setsid, found by
// the execution id in its environment; SIGTERM, then SIGKILL after the grace to what ignored it.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describeProcesses, endOrphan, ProcessTree } from '../../../src/server/processTree';

/** A shell (group leader) with a background sleep in its group and a setsid node ignoring SIGTERM. */
function startTree(executionId: string): Promise<{ leader: ChildProcess; pids: number[] }> {
  const script = [
    'sleep 60 &',
    'echo "sleep $!"',
    // The setsid child says when its SIGTERM handler is set: only then is it reported.
    `${JSON.stringify(process.execPath)} -e 'const c = require("node:child_process").spawn(process.execPath, ["-e", "process.on(\\"SIGTERM\\", () => {}); console.log(1); setInterval(() => {}, 1000)"], { detached: true, stdio: ["ignore", "pipe", "ignore"] }); c.stdout.once("data", () => { console.log("setsid " + c.pid); c.stdout.destroy(); c.unref(); })'`,
    // Said once the node that started the setsid child has exited: from then on the tree holds still.
    'echo spawned',
    'wait',
  ].join('\n');
  const leader = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CRON_EXECUTION_ID: executionId } });
  return new Promise((resolveTree) => {
    const pids: number[] = [];
    let text = '';
    leader.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const found = [...text.matchAll(/^(sleep|setsid) (\d+)$/gm)].map((match) => Number(match[2]));
      if (found.length === 2 && /^spawned$/m.test(text)) {
        pids.push(...found);
        resolveTree({ leader, pids });
      }
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('processTree', function () {
  this.timeout(20_000);

  it('finds the group and the setsid descendant; SIGTERM to all, SIGKILL after the grace to what ignored it', async () => {
    const id = randomUUID();
    const { leader, pids } = await startTree(id);
    const [sleeper, setsid] = pids;
    const tree = new ProcessTree(leader.pid!, id, 300);
    const found = await tree.processes();
    assert.deepEqual(tree.processesSync(), found, 'the blocking scan (endOrphan at start-up) finds the same');
    assert.ok(found.some((p) => p.pid === leader.pid && p.inGroup));
    assert.ok(found.some((p) => p.pid === sleeper && p.inGroup && p.name === 'sleep'));
    assert.ok(found.some((p) => p.pid === setsid && !p.inGroup), JSON.stringify(found));
    assert.match(describeProcesses(found), new RegExp(`${setsid} node \\(left the process group\\)`));
    const started = tree.terminate();
    assert.ok(tree.terminating, 'terminating as soon as asked');
    assert.equal(tree.terminate(), started, 'once');
    const termination = await started;
    assert.ok(termination.termed.some((p) => p.pid === setsid));
    const killed = await termination.done;
    assert.deepEqual(killed.map((p) => p.pid), [setsid], 'only the one ignoring SIGTERM got SIGKILL');
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 100));
    for (const pid of [leader.pid!, sleeper, setsid]) assert.ok(!alive(pid), `${pid} gone`);
    assert.deepEqual(await tree.processes(), []);
  });

  it('two runs asking at once (one shared scan of /proc) each find their own processes, not the other ones', async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const trees = await Promise.all([startTree(first), startTree(second)]);
    const [a, b] = [new ProcessTree(trees[0].leader.pid!, first, 300), new ProcessTree(trees[1].leader.pid!, second, 300)];
    try {
      const [foundA, foundB] = await Promise.all([a.processes(), b.processes()]);
      // Each finds its leader, its sleep and its setsid descendant (the node that started it may still be there).
      for (const [found, tree, other] of [[foundA, trees[0], trees[1]], [foundB, trees[1], trees[0]]] as const) {
        const pids = found.map((p) => p.pid);
        for (const pid of [tree.leader.pid!, ...tree.pids]) assert.ok(pids.includes(pid), `${pid} found in ${JSON.stringify(found)}`);
        for (const pid of [other.leader.pid!, ...other.pids]) assert.ok(!pids.includes(pid), `${pid} of the other run not in ${JSON.stringify(found)}`);
      }
    } finally {
      await Promise.all([(await a.terminate()).done, (await b.terminate()).done]);
    }
  });

  it('endOrphan kills only processes naming the execution', async () => {
    const id = randomUUID();
    const { leader, pids } = await startTree(id);
    assert.equal(endOrphan(leader.pid!, randomUUID()), false, 'another execution id: nothing killed');
    assert.ok(alive(pids[1]));
    assert.equal(endOrphan(leader.pid!, id), true);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 200));
    for (const pid of [leader.pid!, ...pids]) assert.ok(!alive(pid), `${pid} gone`);
  });
});
