// Turns the service's outcomes (a start, an end) into replies: the guide's trigger reply, its refusals
// (409 already running, 429 rate limit) and the 409 of a run that is no longer running.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ALREADY_RUNNING_ERROR, MANUAL_TRIGGER_MESSAGE, MANUAL_TRIGGER_NOTE, type Execution, type TriggerReply } from '../../shared/api';
import type { CronDefinition } from '../config';
import type { EndOutcome, TriggerOutcome } from '../cronService';
import { truncatedJson } from '../logger';
import type { HttpDeps, AuditRecorder } from './context';
import { Refusal } from './errors';

/** The started execution, or the Refusal that explains why nothing started. */
export function startedOrRefusal(deps: Pick<HttpDeps, 'service' | 'log'>, cron: CronDefinition, outcome: TriggerOutcome, action: string): Execution {
  switch (outcome.kind) {
    case 'noRunner':
      throw new Refusal(503, action, cron.name, `No runner that ${cron.name} is pinned to (runOn: ${outcome.runOn.join(', ')}) is alive: start one of them, or change runOn.`, { cronName: cron.name });
    case 'running':
      deps.log.warn(`[Manual Trigger] Cron ${cron.name} is already running (${outcome.runningExecutionId})`);
      throw new Refusal(409, action, cron.name, ALREADY_RUNNING_ERROR, {
        runningExecutionId: outcome.runningExecutionId,
        cronName: cron.name,
        message: `Wait for execution ${outcome.runningExecutionId} to end (estimated ${Math.round(cron.estimatedDurationMs / 1000)} s), or cancel it.`,
      });
    case 'rateLimited': {
      const { perCronSeconds, globalPerMinute } = deps.service.rateLimits;
      const limits = `${cron.name}: at most 1 manual run per cron every ${perCronSeconds} s and ${globalPerMinute} a minute overall`;
      deps.log.warn(`[Manual Trigger] Rate limit for ${cron.name}: retry in ${outcome.retryAfterS} s`);
      throw new Refusal(429, action, cron.name, `Rate limit reached (${limits}): retry in ${outcome.retryAfterS} s.`, { retryAfterS: outcome.retryAfterS, cronName: cron.name }, { 'retry-after': String(outcome.retryAfterS) });
    }
    case 'started':
      return outcome.execution;
  }
}

export async function answerTrigger(deps: Pick<HttpDeps, 'service' | 'log'>, record: AuditRecorder, request: FastifyRequest, reply: FastifyReply, cron: CronDefinition, outcome: TriggerOutcome): Promise<TriggerReply> {
  const execution = startedOrRefusal(deps, cron, outcome, 'trigger');
  await record(request, 'trigger', cron.name, { executionId: execution.id, params: execution.params });
  const env = Object.fromEntries(Object.entries(execution.params).map(([name, value]) => [`CRON_PARAM_${name.toUpperCase()}`, String(value)]));
  deps.log.info(`[Manual Trigger] Env vars: ${truncatedJson(env)}`);
  deps.log.info(`[Manual Trigger] ✅ Cron ${cron.name} triggered successfully`, { executionId: execution.id });
  reply.code(202);
  return {
    success: true,
    cronName: cron.name,
    description: cron.description,
    estimatedDuration: cron.estimatedDurationMs,
    executionId: execution.id,
    message: MANUAL_TRIGGER_MESSAGE,
    note: MANUAL_TRIGGER_NOTE,
  };
}

/** The ended execution, audited; or the Refusal (404, 409) that says why nothing changed. */
export async function endedOrRefusal(record: AuditRecorder, request: FastifyRequest, id: string, outcome: EndOutcome, action: string): Promise<Execution> {
  switch (outcome.kind) {
    case 'notFound':
      throw new Refusal(404, action, id, `No execution with id "${id.slice(0, 100)}": GET /api/admin/cron-executions lists them.`);
    case 'notRunning':
      throw new Refusal(409, action, id, `Execution ${id} is no longer running (status ${outcome.execution.status}): nothing to do.`, {
        status: outcome.execution.status,
        cronName: outcome.execution.cronName,
      });
    case 'notExternal':
      throw new Refusal(409, action, id, `Execution ${id} was started by the server (${outcome.execution.triggerType}), not reported by a script: the server records its end itself.`, {
        status: outcome.execution.status,
        cronName: outcome.execution.cronName,
      });
    case 'ended':
      await record(request, action, id, { cronName: outcome.execution.cronName, status: outcome.execution.status, error: outcome.execution.errorMessage });
      return outcome.execution;
  }
}

export { truncatedJson };
