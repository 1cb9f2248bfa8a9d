// Jobs see an allow-listed environment plus their own variables: never the server's secrets.
import { strict as assert } from 'node:assert';
import { jobEnvironment, lookupUser, userProblem } from '../../../src/server/jobEnvironment';

const serverEnv = {
  PATH: '/usr/bin',
  HOME: '/root',
  LANG: 'fr_FR.UTF-8',
  LC_TIME: 'fr_FR.UTF-8',
  TZ: 'Africa/Tunis',
  DATABASE_URL: 'postgres://u:secret@db/x',
  PGPASSWORD: 'secret',
  CRON_OPS_ADMIN_TOKEN: 'admin-token',
  AWS_SECRET_ACCESS_KEY: 'cloud-key',
  ELECTRON_RUN_AS_NODE: '1',
};
const execution = { id: 'e-1', params: { batchSize: 3, dryRun: true } };
const base = { CRON_SECRET: 's', CRON_TRIGGER_SERVER_URL: 'http://127.0.0.1:9998' };

describe('jobEnvironment', () => {
  it('passes the allow-list, the cron env and the run variables, nothing else', () => {
    const env = jobEnvironment({ serverEnv, cron: { name: 'c', env: { REPORT_DIR: '/tmp/r' }, inheritEnv: false }, execution, base });
    assert.deepEqual(env, {
      PATH: '/usr/bin',
      HOME: '/root',
      LANG: 'fr_FR.UTF-8',
      LC_TIME: 'fr_FR.UTF-8',
      TZ: 'Africa/Tunis',
      REPORT_DIR: '/tmp/r',
      CRON_SECRET: 's',
      CRON_TRIGGER_SERVER_URL: 'http://127.0.0.1:9998',
      CRON_PARAM_BATCHSIZE: '3',
      CRON_PARAM_DRYRUN: 'true',
      CRON_PARAMS: '{"batchSize":3,"dryRun":true}',
      CRON_EXECUTION_ID: 'e-1',
      CRON_NAME: 'c',
    });
  });

  it('inheritEnv passes the rest of the environment but never DATABASE_URL, PG* or CRON_OPS_*', () => {
    const env = jobEnvironment({ serverEnv, cron: { name: 'c', env: {}, inheritEnv: true }, execution, base });
    assert.equal(env.AWS_SECRET_ACCESS_KEY, 'cloud-key');
    for (const hidden of ['DATABASE_URL', 'PGPASSWORD', 'CRON_OPS_ADMIN_TOKEN', 'ELECTRON_RUN_AS_NODE']) assert.equal(env[hidden], undefined, hidden);
  });

  it('inheritEnv never passes the variables the server reads its alert secrets from', () => {
    const env = jobEnvironment({ serverEnv: { ...serverEnv, HOOK_SECRET: 'hook' }, cron: { name: 'c', env: {}, inheritEnv: true }, execution, base, serverSecrets: new Set(['HOOK_SECRET']) });
    assert.equal(env.HOOK_SECRET, undefined);
    assert.equal(env.AWS_SECRET_ACCESS_KEY, 'cloud-key');
  });

  it('a user gets HOME, USER, LOGNAME and SHELL from its passwd entry', () => {
    const user = { name: 'backup', uid: 34, gid: 34, home: '/var/backups', shell: '/usr/sbin/nologin' };
    const env = jobEnvironment({ serverEnv, cron: { name: 'c', env: {}, inheritEnv: false }, execution, base, user });
    assert.equal(env.HOME, '/var/backups');
    assert.equal(env.USER, 'backup');
    assert.equal(env.LOGNAME, 'backup');
  });

  it('a user that does not exist, or a server that is not root, is a clear problem', () => {
    assert.match(userProblem('no-such-user-cron-ops') ?? '', /not a user on this host/);
    const root = lookupUser('root');
    assert.equal(root?.uid, 0);
    assert.match(userProblem('root', 1000) ?? '', /needs the server to run as root.*uid 1000/);
    assert.equal(userProblem('root', 0), undefined);
  });
});
