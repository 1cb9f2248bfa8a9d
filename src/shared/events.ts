// Server-Sent Events of GET /api/admin/events: names and payloads.
import type { Execution, LogLine, Stats } from './api';

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
  resync: ResyncEvent;
}

export type EventName = keyof EventPayloads;

export const EVENT_NAMES: readonly EventName[] = [
  'execution.started',
  'execution.finished',
  'execution.log',
  'stats',
  'crons.changed',
  'resync',
];

/** Seconds between heartbeat comments on the stream. */
export const HEARTBEAT_INTERVAL_S = 15;
