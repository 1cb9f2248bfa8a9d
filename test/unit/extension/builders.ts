// Small builders for the extension's unit tests: a cron and an execution with overridable fields.
import type { Cron, Execution } from '../../../src/shared/api';

let counter = 0;

export function anExecution(extra: Partial<Execution> = {}): Execution {
  counter++;
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    cronName: 'monitor-openai',
    status: 'completed',
    triggerType: 'manual',
    triggeredBy: 'token:alice',
    params: {},
    startedAt: '2026-02-14T15:26:04.000Z',
    completedAt: '2026-02-14T15:26:05.631Z',
    durationMs: 1631,
    exitCode: 0,
    errorMessage: null,
    runnerId: 'host-a',
    stuck: false,
    logLinesDropped: 0,
    ...extra,
  };
}

export function aCron(extra: Partial<Cron> = {}): Cron {
  return {
    name: 'monitor-openai',
    description: 'Monitoring Budget OpenAI',
    schedule: '0 8 * * *',
    scheduleText: 'At 08:00',
    timezone: 'UTC',
    command: ['/usr/bin/node', '/opt/cron-ops/demo/scripts/monitor-openai.mjs'],
    estimatedDurationMs: 5000,
    timeoutMs: 60_000,
    enabled: true,
    paused: false,
    params: {},
    nextRunAt: '2026-02-15T08:00:00.000Z',
    lastExecution: null,
    runningExecution: null,
    ...extra,
  };
}
