// Small builders for the alerting tests: a config file's top level, executions with retry fields, messages.
import type { AlertMessage } from '../../../../src/shared/alerts';
import type { AlertExecution } from '../../../../src/server/alerts/alertRules';
import { createLogger, type Logger } from '../../../../src/server/logger';
import type { RetriedExecution } from '../../../../src/server/alerts/runOutcomes';

export function aConfigTop(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    crons: [
      { name: 'backup', schedule: '0 3 * * *', command: ['node', 'backup.mjs'] },
      { name: 'report', schedule: '0 8 * * 1', command: ['node', 'report.mjs'] },
    ],
    ...overrides,
  };
}

export function aRun(overrides: Partial<AlertExecution> = {}): AlertExecution {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    cronName: 'backup',
    status: 'failed',
    errorMessage: 'Exited with code 1: disk full',
    startedAt: '2026-11-29T03:00:00.000Z',
    durationMs: 4200,
    attempt: 1,
    retryOf: null,
    ...overrides,
  };
}

export function aMessage(overrides: Partial<AlertMessage> = {}): AlertMessage {
  return {
    id: 'a1b2c3d4-0000-4000-8000-000000000001',
    event: 'failed',
    cronName: 'backup',
    summary: 'backup failed: Exited with code 1: disk full',
    at: '2026-11-29T03:00:05.000Z',
    executionId: '11111111-1111-4111-8111-111111111111',
    attempt: 1,
    retryOf: null,
    status: 'failed',
    errorMessage: 'Exited with code 1: disk full',
    startedAt: '2026-11-29T03:00:00.000Z',
    durationMs: 4200,
    tickAt: null,
    runnerId: 'host-a',
    test: false,
    ...overrides,
  };
}

/** A logger that keeps its lines, to assert on what an operator would read. */
export function aLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message}${fields ? ' ' + JSON.stringify(fields) : ''}`);
  };
  // The pino instance is the real one (Fastify is never built here); the four calls keep their lines.
  return { ...createLogger({ write: () => undefined }), lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A whole execution as the store returns it, with its retry fields. */
export function anExecution(overrides: Partial<RetriedExecution> = {}): RetriedExecution {
  return {
    ...aRun(),
    triggerType: 'scheduled',
    triggeredBy: 'scheduler',
    params: { batchSize: 10 },
    completedAt: '2026-11-29T03:00:04.200Z',
    exitCode: 1,
    runnerId: 'host-a',
    stuck: false,
    logLinesDropped: 0,
    ...overrides,
  };
}
