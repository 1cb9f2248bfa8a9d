// What the server's main thread and the timeline worker (timelineWorker.ts) say to each other: one request,
// one response, matched by id. Plain data only (it crosses threads by structured clone).
import type { TimelineReply } from '../../shared/api';
import type { TimelineQuery } from './executionStore';

/**
 * Handed to the worker at its start: the store it reads. A SQLite file, opened read-only (WAL: it reads
 * beside the one writer); or the PostgreSQL database, on a connection of its own.
 */
export type TimelineWorkerData = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export interface TimelineRequest {
  id: number;
  query: TimelineQuery;
  /**
   * 'runs': ExecutionStore.timeline's reply, as an object. 'route': the route's whole reply (with the
   * skipped ticks) as JSON text, written (and gzipped) in the worker: the main thread sends it as is,
   * without taking a few thousand objects in and serializing them again (~10 ms of its loop for a 7-day
   * reply), nor compressing ~430 KB of JSON (~20-35 ms of CPU).
   */
  answer: 'runs' | 'route';
  /** For 'route': gzip when the client accepts it (compressed in the worker too), else the JSON text. */
  encoding?: TimelineEncoding;
}

/** How the route's reply goes on the wire. */
export type TimelineEncoding = 'gzip' | 'identity';

/** The route's whole reply, ready to send: JSON text, or that text gzipped. */
export type TimelineBody = { encoding: 'identity'; body: string } | { encoding: 'gzip'; body: Uint8Array };

export type TimelineResponse =
  | { id: number; ok: true; reply: TimelineReply | TimelineBody }
  /** The read failed: its message and driver code (SQLITE_BUSY…), so the route answers as for a main-thread read. */
  | { id: number; ok: false; message: string; code?: string };

/** The worker's bundle, beside the server's (esbuild.mjs builds both into dist/). */
export const TIMELINE_WORKER_FILE = 'timelineWorker.mjs';
