// The reads the extension makes, asked once by the server itself before it listens. The first call of
// each costs one-time work on the main thread: V8 compiling the code paths of Fastify, the reply
// serializers and the validators, Kysely building its queries, SQLite preparing its statements, the token
// hash, croner and the time zone data for the overlap forecasts. Measured on a server that just started
// (test/bench/firstReads.ts), that was 20–40 ms of CPU in one turn of the loop for the first /health and
// the first /crons; issue 10 allows no request to hold the loop for more than 20 ms. Start-up pays it now.
// In process (Fastify's inject): no socket is open yet, so nobody else can use the warm-up's credentials.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Execution } from '../../shared/api';
import { Authenticator, type AuthResult } from '../auth';
import { errorText, type Logger } from '../logger';

/** Accepts the warm-up's own bearer token while it runs (before the server listens), and only then. */
export class WarmUpAuthenticator extends Authenticator {
  private warmUpToken: string | undefined;

  override async identify(authorization: string | undefined, cronSecret: string | undefined): Promise<AuthResult> {
    if (this.warmUpToken !== undefined && cronSecret === undefined && authorization === `Bearer ${this.warmUpToken}`) {
      return { ok: true, caller: { actor: 'server:warm-up', role: 'super-admin' } };
    }
    return super.identify(authorization, cronSecret);
  }

  /** A token for the warm-up's requests, valid until `endWarmUp`. */
  beginWarmUp(): string {
    this.warmUpToken = randomBytes(32).toString('base64url');
    return this.warmUpToken;
  }

  endWarmUp(): void {
    this.warmUpToken = undefined;
  }
}

/** Each read path the extension takes, once, in order; what fails is logged and skipped (a start never fails for it). */
export async function warmUp(app: FastifyInstance, auth: WarmUpAuthenticator, cronName: string | undefined, log: Logger): Promise<void> {
  let started = performance.now();
  let cpuBefore = process.cpuUsage();
  const token = auth.beginWarmUp();
  const reads: string[] = [];
  const get = async (url: string): Promise<void> => {
    const readStarted = performance.now();
    // gzip accepted, as the extension's client does: the compression path is warmed too.
    const reply = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, host: 'localhost', 'accept-encoding': 'gzip' } });
    reads.push(`${url.split('?')[0]} ${Math.round(performance.now() - readStarted)} ms`);
    if (reply.statusCode !== 200) log.debug(`Warm-up: GET ${url} answered ${reply.statusCode}`);
  };
  try {
    // Routes and their schemas compiled first (listen does it anyway): what is timed is the warm-up's own.
    await app.ready();
    started = performance.now();
    cpuBefore = process.cpuUsage();
    // A token the store does not know: the real token check (its hash, its query) runs once too.
    await auth.identify(`Bearer ${randomBytes(32).toString('base64url')}`, undefined);
    await get('/health');
    await get('/api/admin/session');
    await get('/api/admin/crons');
    await get('/api/admin/cron-executions/stats');
    // Uncompressed (a page of 100 may pass the compression threshold): its runs name the reads below.
    const page = await app.inject({ method: 'GET', url: '/api/admin/cron-executions?limit=100', headers: { authorization: `Bearer ${token}`, host: 'localhost' } });
    reads.push('page');
    const executions = page.statusCode === 200 ? (page.json() as { executions: Execution[] }).executions : [];
    await get('/api/admin/cron-executions?limit=100');
    const last = executions[executions.length - 1];
    if (last) await get(`/api/admin/cron-executions?limit=100&before=${encodeURIComponent(last.id)}`);
    await get('/api/admin/cron-executions?status=failed&limit=100');
    const newest = executions.find((execution) => execution.status !== 'running') ?? executions[0];
    if (newest) {
      await get(`/api/admin/cron-executions?cronName=${encodeURIComponent(newest.cronName)}&limit=10`);
      await get(`/api/admin/cron-executions/${encodeURIComponent(newest.id)}`);
      await get(`/api/admin/cron-executions/${encodeURIComponent(newest.id)}/logs?after=0&limit=1000`);
    }
    if (cronName) await get(`/api/admin/crons/${encodeURIComponent(cronName)}/skipped?limit=100`);
    await get('/api/admin/audit?limit=100');
    await get('/api/admin/alerts');
    const cpu = process.cpuUsage(cpuBefore);
    log.debug(`Warm-up: ${reads.length} reads in ${Math.round(performance.now() - started)} ms, ${Math.round((cpu.user + cpu.system) / 1000)} ms of CPU (${reads.join(', ')})`);
  } catch (error) {
    log.debug('Warm-up stopped', { error: errorText(error) });
  } finally {
    auth.endWarmUp();
  }
}
