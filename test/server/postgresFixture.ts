// Mocha global fixture for the suite's PostgreSQL pass: `CRON_OPS_TEST_STORE=postgres` starts a real
// PostgreSQL server for the run (unless CRON_OPS_TEST_POSTGRES_URL points at one) and stops it after.
import { startPostgres, TEST_DATABASE_ENV, type TestPostgres } from '../support/postgres';

let server: TestPostgres | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.CRON_OPS_TEST_STORE !== 'postgres' || process.env[TEST_DATABASE_ENV]) return;
  server = await startPostgres();
  process.env[TEST_DATABASE_ENV] = server.baseUrl;
  process.stdout.write(`  (store: PostgreSQL at ${server.baseUrl}, data in ${server.dir})\n`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  server?.stop();
}
