// The framing between the server and its spawn helper (spawnHelper.ts), over one socket (the helper's fd 3).
// A frame is a 9-byte header (payload length u32, kind u8, job id u32, big-endian) then the payload: JSON
// for requests and replies, the job's raw bytes for its output (binary, NUL and invalid UTF-8 pass as they
// are: the server's splitter is what bounds and cleans them).

/** The helper's bundle, beside server.mjs in dist/ (esbuild.mjs). */
export const SPAWN_HELPER_FILE = 'spawnHelper.mjs';

export const FrameKind = {
  // server → helper
  /** Payload: SpawnRequest. */
  Spawn: 1,
  /** Stop reading the job's stdout / stderr (a child of the job holds it open after the job exited). */
  CloseStdout: 2,
  CloseStderr: 3,
  /**
   * Signal the job's process group now (a cancel or a timeout before its pid reached the server: under output
   * load the pid waits behind other jobs' output on the helper's socket). Payload: { signal }.
   */
  Signal: 4,
  // helper → server
  /** Payload: { pid }. */
  Spawned: 10,
  /** The job could not be started. Payload: { code?, message }. */
  Failed: 11,
  Stdout: 12,
  Stderr: 13,
  StdoutEnd: 14,
  StderrEnd: 15,
  /** The job's main process exited. Payload: { code, signal }. */
  Exit: 16,
} as const;

export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface SpawnRequest {
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
}

export interface SpawnedReply {
  pid: number;
  /**
   * Its start time (clock ticks after boot, /proc/PID/stat), read by the helper before it can be reaped: by
   * the time the server hears of a short job it may be gone, and the run's process scan needs it.
   */
  startTime?: number;
}

export interface SignalRequest {
  signal: NodeJS.Signals;
}

export interface FailedReply {
  code?: string;
  message: string;
}

export interface ExitReply {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const HEADER = 9;

export function encodeFrame(kind: FrameKind, id: number, payload?: Buffer | object): Buffer {
  const body = payload === undefined ? undefined : Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  const header = Buffer.allocUnsafe(HEADER);
  header.writeUInt32BE(body?.length ?? 0, 0);
  header.writeUInt8(kind, 4);
  header.writeUInt32BE(id, 5);
  return body ? Buffer.concat([header, body]) : header;
}

export function parseJson<T>(payload: Buffer): T {
  return JSON.parse(payload.toString('utf8')) as T;
}

/**
 * Cuts a byte stream into frames. What is kept between two chunks is at most one partial frame (an output
 * frame is one read of a pipe, 64 KB at most).
 */
export class FrameDecoder {
  private rest: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (kind: FrameKind, id: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buffer = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    let offset = 0;
    while (buffer.length - offset >= HEADER) {
      const length = buffer.readUInt32BE(offset);
      if (buffer.length - offset < HEADER + length) break;
      const kind = buffer.readUInt8(offset + 4) as FrameKind;
      const id = buffer.readUInt32BE(offset + 5);
      const payload = buffer.subarray(offset + HEADER, offset + HEADER + length);
      offset += HEADER + length;
      this.onFrame(kind, id, payload);
    }
    // The rest is copied: a subarray would keep the whole chunk alive.
    buffer = buffer.subarray(offset);
    this.rest = buffer.length > 0 ? Buffer.from(buffer) : Buffer.alloc(0);
  }
}
