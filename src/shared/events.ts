// Server-Sent Events of GET /api/admin/events: names and payloads.
import type { DefinitionProblem, Execution, LogLine, Stats } from './api';

export type { DefinitionProblem } from './api';

export interface ExecutionStartedEvent {
  execution: Execution;
}

export interface ExecutionFinishedEvent {
  execution: Execution;
}

export interface ExecutionLogEvent {
  executionId: string;
  lines: LogLine[];
}

export interface CronsChangedEvent {
  /** The crons whose state changed (pause, resume); empty means all. */
  cronNames: string[];
}

/**
 * The server read its cron definitions file again (the file changed, or SIGHUP). `problems` empty: the file
 * was valid and is in effect; otherwise the server kept the crons of its last good load.
 */
export interface DefinitionsReloadedEvent {
  /** The file as the server knows it (an absolute path on the server's machine). */
  path: string;
  problems: DefinitionProblem[];
  /** When the file now in effect was loaded (the start or the last valid reload). */
  lastGoodLoadAt: string;
  /** When this reload read the file. */
  at: string;
}

export interface ResyncEvent {
  reason: string;
}

/** Event name -> payload, for typed handlers on both sides. */
export interface EventPayloads {
  'execution.started': ExecutionStartedEvent;
  'execution.finished': ExecutionFinishedEvent;
  'execution.log': ExecutionLogEvent;
  stats: Stats;
  'crons.changed': CronsChangedEvent;
  'definitions.reloaded': DefinitionsReloadedEvent;
  resync: ResyncEvent;
}

export type EventName = keyof EventPayloads;

export const EVENT_NAMES: readonly EventName[] = [
  'execution.started',
  'execution.finished',
  'execution.log',
  'stats',
  'crons.changed',
  'definitions.reloaded',
  'resync',
];

/** Seconds between heartbeat comments on the stream. */
export const HEARTBEAT_INTERVAL_S = 15;
