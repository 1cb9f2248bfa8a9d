// The server's own log goes to stdout; whoever reads it may go away (`cron-ops-server | head`, a log shipper
// restarting). A real server process whose stdout pipe is closed keeps running its crons and serving the API.
import assert from 'node:assert/strict';
import { api, getExecution, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, startServer, type ServerProcess } from '../support/serverProcess';

describe('a server whose stdout is closed', function () {
  this.timeout(120_000);
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop();
  });

  it('keeps serving and running, says once on stderr that log lines are dropped, and stops cleanly', async () => {
    server = await startServer({ config: { crons: [nodeCron('echo', 'console.log("still here")')], rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } } });
    let exited = false;
    void server.exited.then(() => (exited = true));
    // The reading end goes away: the server's next log line meets a closed pipe (EPIPE).
    server.child.stdout!.destroy();
    for (let round = 0; round < 3; round++) {
      const id = await triggerOk(server, 'echo');
      await waitForStatus(server, id, 'completed');
      assert.equal((await getExecution(server, id)).exitCode, 0);
    }
    await server.waitForOutput(/cron-ops-server: stdout failed \(EPIPE\): log lines are dropped from now on/, 30_000);
    const health = await api(server, '/health');
    assert.equal(health.status, 200, health.text);
    assert.equal(exited, false, 'the server is still running');
    assert.equal(server.output().match(/stdout failed/g)?.length, 1, 'said once');
    assert.equal(await server.stop(), 0);
  });
});
