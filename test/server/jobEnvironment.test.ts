// Jobs get an allow-listed environment: never DATABASE_URL, PG*, CRON_OPS_* or a cloud key of the
// server; `env` adds variables, `inheritEnv` passes the rest; `user` runs the job as another OS user.
// Argv: arguments may be empty strings.
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { allLogs, triggerOk, waitForStatus } from '../support/http';
import { nodeCron, runServerCommand, startServer, TEST_CRON_SECRET, writeConfig, type ServerProcess, type TestConfig, type TestCronDefinition } from '../support/serverProcess';

const ENV_DUMP = 'console.log(JSON.stringify(process.env))';
type Cron = TestCronDefinition & { env?: Record<string, string>; inheritEnv?: boolean; user?: string };
const IS_ROOT = process.getuid?.() === 0;
const AS_NOBODY: Cron = { name: 'as-nobody', description: 'runs as nobody', schedule: '0 0 1 1 *', command: ['sh', '-c', 'echo "$(id -u) $(id -g) $HOME $USER $LOGNAME"'], user: 'nobody' };

async function output(server: ServerProcess, cronName: string, status: 'completed' | 'failed' = 'completed'): Promise<string[]> {
  const id = await triggerOk(server, cronName);
  await waitForStatus(server, id, status, 20_000);
  return (await allLogs(server, id)).lines.map((line) => line.line);
}

describe('job environment', function () {
  let server: ServerProcess;

  before(async () => {
    const crons: Cron[] = [
      nodeCron('env-allowed', ENV_DUMP, { env: { REPORT_DIR: '/srv/reports', LANG: 'fr_FR.UTF-8' } } as Partial<Cron>),
      nodeCron('env-inherit', ENV_DUMP, { inheritEnv: true } as Partial<Cron>),
      ...(IS_ROOT ? [AS_NOBODY] : []),
      { name: 'empty-node-arg', description: 'node -e ""', schedule: '0 0 1 1 *', command: ['node', '-e', ''] },
      { name: 'empty-grep-arg', description: 'grep -v ""', schedule: '0 0 1 1 *', command: ['grep', '-v', ''] },
      { name: 'empty-args', description: 'empty args kept', schedule: '0 0 1 1 *', command: ['sh', '-c', 'printf "[%s]" "$@"; echo', 'sh', '', 'b', ''] },
    ];
    const config: TestConfig = { crons, rateLimits: { perCronSeconds: 0, globalPerMinute: 0 } };
    const configPath = writeConfig(config);
    // The job's working folder is the config's: another user must be able to enter it.
    chmodSync(dirname(configPath), 0o755);
    server = await startServer({
      config: configPath,
      env: { AWS_SECRET_ACCESS_KEY: 'cloud-key-of-the-server', PGAPPNAME: 'cron-ops-server', CRON_OPS_EXTRA_SETTING: 'x', LC_TIME: 'C.UTF-8' },
    });
  });

  after(async () => {
    await server?.stop();
  });

  it('passes only the allow-list, the cron env and the run variables: no server secret', async () => {
    const env = JSON.parse((await output(server, 'env-allowed'))[0]) as Record<string, string>;
    for (const secret of ['DATABASE_URL', 'CRON_OPS_ADMIN_TOKEN', 'CRON_OPS_EXTRA_SETTING', 'AWS_SECRET_ACCESS_KEY', 'PGAPPNAME', 'ELECTRON_RUN_AS_NODE']) {
      assert.equal(env[secret], undefined, `${secret} is not passed`);
    }
    assert.ok(env.PATH, 'PATH is passed');
    assert.equal(env.LC_TIME, 'C.UTF-8', 'LC_* is passed');
    assert.equal(env.REPORT_DIR, '/srv/reports', 'the cron env is added');
    assert.equal(env.LANG, 'fr_FR.UTF-8', 'the cron env wins over the server');
    assert.equal(env.CRON_SECRET, TEST_CRON_SECRET);
    assert.equal(env.CRON_TRIGGER_SERVER_URL, server.url);
    assert.equal(env.CRON_NAME, 'env-allowed');
    assert.ok(env.CRON_EXECUTION_ID);
    const allowed = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_.*|TZ|TMPDIR|TERM|REPORT_DIR|CRON_(SECRET|TRIGGER_SERVER_URL|EXECUTION_ID|NAME|PARAMS|PARAM_.*))$/;
    assert.deepEqual(Object.keys(env).filter((name) => !allowed.test(name)), [], 'nothing else');
  });

  it('inheritEnv passes the server environment, still without DATABASE_URL, PG* and CRON_OPS_*', async () => {
    const env = JSON.parse((await output(server, 'env-inherit'))[0]) as Record<string, string>;
    assert.equal(env.AWS_SECRET_ACCESS_KEY, 'cloud-key-of-the-server');
    for (const secret of ['DATABASE_URL', 'CRON_OPS_ADMIN_TOKEN', 'CRON_OPS_EXTRA_SETTING', 'PGAPPNAME']) assert.equal(env[secret], undefined, `${secret} is not passed`);
  });

  it('"user" runs the job as that OS user, with its HOME and USER (a server not running as root refuses it at start)', async function () {
    if (IS_ROOT) {
      const [line] = await output(server, 'as-nobody');
      assert.equal(line, '65534 65534 /nonexistent nobody nobody');
    } else {
      const result = await runServerCommand(['--config', writeConfig({ crons: [AS_NOBODY] }), '--memory', '--port', '0']);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /crons\[0\]\.user: .*needs the server to run as root/);
    }
  });

  it('a user that does not exist is refused at start, naming the cron and the field', async () => {
    const result = await runServerCommand(['--config', writeConfig({ crons: [{ ...AS_NOBODY, user: 'no-such-user-cron-ops' } as Cron] }), '--memory', '--port', '0']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /crons\[0\]\.user: "no-such-user-cron-ops" is not a user on this host/);
  });

  it('arguments may be empty strings: ["node", "-e", ""], ["grep", "-v", ""]', async () => {
    assert.deepEqual(await output(server, 'empty-node-arg'), []);
    const id = await triggerOk(server, 'empty-grep-arg');
    // grep ran: with no input it selects nothing, which it reports with exit code 1.
    const grep = await waitForStatus(server, id, 'failed', 20_000);
    assert.equal(grep.exitCode, 1);
    assert.deepEqual(await output(server, 'empty-args'), ['[][b][]']);
  });
});
