// A run's output into the store: split into capped lines, bounded per run (its first lines and its last
// ones are kept, what was dropped between is said), written in batches. A write the store refuses for
// what it holds is split until the culprit line is found and replaced; a store outage keeps lines to
// retry, bounded in memory. Nothing a job writes can throw here.
import type { Readable } from 'node:stream';
import type { LogLine, LogStream } from '../shared/api';
import { LineSplitter, storableText, utf8Prefix } from './lineSplitter';
import { errorText, type Logger } from './logger';
import { classifyStoreError, isDuplicate } from './storeErrors';

export interface LogCaps {
  /** Longest stored line in bytes (UTF-8); longer ones keep their start and end. */
  maxLineBytes: number;
  maxLines: number;
  maxBytes: number;
}

export interface LogCaptureOptions {
  executionId: string;
  caps: LogCaps;
  append(lines: LogLine[]): Promise<void>;
  /** Lines once stored (live followers). */
  published(lines: LogLine[]): void;
  log: Logger;
  now?: () => Date;
  /** Lines held while the store is unreachable; past it, lines are counted as dropped (the last ones kept). */
  maxPendingLines?: number;
  maxPendingBytes?: number;
  flushIntervalMs?: number;
  retryFirstDelayMs?: number;
  retryMaxDelayMs?: number;
}

interface HeldLine {
  stream: LogStream;
  at: string;
  line: string;
  bytes: number;
}

const FLUSH_BATCH = 500;
const STDERR_TAIL_LINES = 5;
const STDERR_TAIL_CHARS = 400;
/** The last lines of a run are kept whatever the caps: the result and the error are at the end. */
export const TAIL_LINES = 100;
/** An error the classifier does not know is retried this often before it is treated as the data's fault. */
const UNKNOWN_ERROR_ATTEMPTS = 3;

export class LogCapture {
  private readonly options: Required<Omit<LogCaptureOptions, 'now'>> & { now: () => Date };
  private seq = 0;
  private pending: LogLine[] = [];
  private pendingBytes = 0;
  /** Lines accepted for storing so far (pending or stored): what the caps count. */
  private queuedLines = 0;
  private queuedBytes = 0;
  private readonly headLines: number;
  private readonly headBytes: number;
  private readonly tailLines: number;
  private readonly tailBytes: number;
  /** The caps were reached: from now on only the last lines are kept. */
  private capReason: string | undefined;
  /** The store is unreachable and the pending lines fill the memory allowed. */
  private holding = false;
  private ring: HeldLine[] = [];
  private ringBytes = 0;
  private gapLines = 0;
  private gapBytes = 0;
  private outageGapLines = 0;
  private outageGapBytes = 0;
  /** Outage gaps already announced. */
  private outageDropped = 0;
  private lostLines = 0;
  private readonly errTail: string[] = [];
  private readonly splitters = new Map<LogStream, LineSplitter>();
  private flushing: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private storeDown = false;
  private unknownAttempts = 0;
  private closed = false;
  private warnedThrow = false;

  constructor(options: LogCaptureOptions) {
    this.options = {
      now: () => new Date(),
      maxPendingLines: 20_000,
      maxPendingBytes: 8 * 1024 * 1024,
      flushIntervalMs: 50,
      retryFirstDelayMs: 250,
      retryMaxDelayMs: 10_000,
      ...options,
    };
    const { maxLines, maxBytes, maxLineBytes } = options.caps;
    this.tailLines = Math.min(TAIL_LINES, Math.floor(maxLines / 2));
    this.headLines = maxLines - this.tailLines;
    this.tailBytes = Math.min(this.tailLines * maxLineBytes, Math.floor(maxBytes / 2));
    this.headBytes = maxBytes - this.tailBytes;
    this.retryDelay = this.options.retryFirstDelayMs;
  }

  /** Lines not stored: past the caps, during an outage beyond the memory allowed, or refused by the store. */
  get droppedLines(): number {
    return this.gapLines + this.outageGapLines + this.outageDropped + this.lostLines;
  }

  /** The last non-empty stderr lines, for the error message of a failed run. */
  get stderrTail(): string[] {
    return [...this.errTail];
  }

  /** Reads a child's stream; its data never reaches the server as anything but capped lines. */
  attach(stream: LogStream, source: Readable): void {
    const splitter = new LineSplitter(this.options.caps.maxLineBytes, (text) => this.accept(stream, text));
    this.splitters.set(stream, splitter);
    source.on('data', (chunk: Buffer) => this.guard(() => splitter.push(chunk)));
    source.on('error', (error) => this.options.log.debug(`Reading ${stream} failed`, { executionId: this.options.executionId, error: errorText(error) }));
  }

  /** A line from cron-ops itself (what was signalled, what was dropped), on stderr, after the job's lines. */
  notice(text: string): void {
    const line: LogLine = { seq: 0, at: this.options.now().toISOString(), stream: 'stderr', line: utf8Prefix(storableText(`[cron-ops] ${text}`), this.options.caps.maxLineBytes) };
    if (!this.closed) {
      this.enqueue(line);
      return;
    }
    // After close (a SIGKILL sent once the run was recorded): written on its own, best effort.
    line.seq = ++this.seq;
    void this.options.append([line]).then(
      () => this.options.published([line]),
      (error) => this.options.log.warn('Could not store a cron-ops notice', { executionId: this.options.executionId, error: errorText(error), notice: line.line }),
    );
  }

  /**
   * The streams have ended (or were closed): the last partial lines, the cap notice and the kept last lines
   * are queued, then everything is written, retrying while the store is unreachable (up to `giveUpAfterMs`).
   */
  async close(giveUpAfterMs = 600_000): Promise<void> {
    for (const splitter of this.splitters.values()) this.guard(() => splitter.end());
    this.closed = true;
    this.releaseHeld();
    const deadline = Date.now() + giveUpAfterMs;
    let warned = false;
    for (;;) {
      await this.flush();
      if (this.pending.length === 0) return;
      if (!warned) this.options.log.warn(`Storing the last log lines of ${this.options.executionId} failed: retrying until the store answers`, { lines: this.pending.length });
      warned = true;
      if (Date.now() > deadline) break;
      await new Promise((resolveDelay) => setTimeout(resolveDelay, Math.min(this.retryDelay, Math.max(0, deadline - Date.now()))));
    }
    this.options.log.error(`Gave up storing ${this.pending.length} log lines: the store stayed unreachable`, { executionId: this.options.executionId });
    this.lostLines += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Stops timers (the capture is abandoned, e.g. at shutdown after close gave up). */
  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      // Output is untrusted: a bug here must cost lines, never the server.
      if (!this.warnedThrow) this.options.log.error('Log capture failed on a chunk of output; it is skipped', { executionId: this.options.executionId, error: errorText(error) });
      this.warnedThrow = true;
      this.lostLines++;
    }
  }

  private accept(stream: LogStream, text: string): void {
    if (stream === 'stderr' && text.trim() !== '') {
      this.errTail.push(text.length > STDERR_TAIL_CHARS ? text.slice(0, STDERR_TAIL_CHARS) + '…' : text);
      if (this.errTail.length > STDERR_TAIL_LINES) this.errTail.shift();
    }
    const bytes = Buffer.byteLength(text);
    const at = this.options.now().toISOString();
    if (this.capReason === undefined) {
      if (this.queuedLines + 1 > this.headLines) this.capReason = `maxLogLinesPerExecution (${this.options.caps.maxLines} lines)`;
      else if (this.queuedBytes + bytes > this.headBytes) this.capReason = `maxLogBytesPerExecution (${this.options.caps.maxBytes} bytes)`;
    }
    if (this.capReason === undefined && !this.holding && this.pendingFull()) {
      this.holding = true;
      this.options.log.warn(`The store is unreachable and ${this.pending.length} log lines are waiting: further lines are counted, the last ${this.tailLines} kept`, { executionId: this.options.executionId });
    }
    if (this.capReason !== undefined || this.holding) {
      this.hold({ stream, at, line: text, bytes });
      return;
    }
    this.enqueue({ seq: 0, at, stream, line: text });
  }

  private pendingFull(): boolean {
    return this.pending.length >= this.options.maxPendingLines || this.pendingBytes >= this.options.maxPendingBytes;
  }

  /**
   * Keeps the line among the last ones; the oldest kept line falls out, counted. The last stderr lines stay
   * (the error): stdout and stderr are two pipes, so the error may arrive before the job's last stdout lines.
   */
  private hold(line: HeldLine): void {
    this.ring.push(line);
    this.ringBytes += line.bytes;
    while (this.ring.length > this.tailLines || (this.ringBytes > this.tailBytes && this.ring.length > 1)) {
      const [dropped] = this.ring.splice(this.evictable(), 1);
      this.ringBytes -= dropped.bytes;
      if (this.holding && this.capReason === undefined) {
        this.outageGapLines++;
        this.outageGapBytes += dropped.bytes;
      } else {
        this.gapLines++;
        this.gapBytes += dropped.bytes;
      }
    }
  }

  /** The oldest held line that is not one of the last stderr lines (or the oldest, if all are). */
  private evictable(): number {
    let stderrSeen = 0;
    let protectedFrom = this.ring.length;
    for (let index = this.ring.length - 1; index >= 0 && stderrSeen < STDERR_TAIL_LINES; index--) {
      if (this.ring[index].stream === 'stderr') {
        stderrSeen++;
        protectedFrom = index;
      }
    }
    for (let index = 0; index < this.ring.length; index++) {
      if (this.ring[index].stream !== 'stderr' || index < protectedFrom) return index;
    }
    return 0;
  }

  /** Queues what was held: the notice of what fell out, then the kept lines. */
  private releaseHeld(): void {
    if (this.outageGapLines > 0) {
      this.enqueue({ seq: 0, at: this.options.now().toISOString(), stream: 'stderr', line: `[cron-ops] ${this.outageGapLines} log lines (${this.outageGapBytes} bytes) were not stored: the store was unreachable and the lines waiting for it filled the memory allowed` });
    }
    if (this.capReason !== undefined && this.gapLines > 0) {
      this.enqueue({
        seq: 0,
        at: this.options.now().toISOString(),
        stream: 'stderr',
        line: `[cron-ops] log cap reached (${this.capReason}): ${this.gapLines} lines (${this.gapBytes} bytes) were not stored here; the last ${this.ring.length} lines of the run follow`,
      });
    }
    this.outageDropped += this.outageGapLines;
    this.outageGapLines = 0;
    this.outageGapBytes = 0;
    // Before the end, held lines still count against the head of the log: past it they stay held (the cap).
    while (this.ring.length > 0) {
      const held = this.ring[0];
      if (!this.closed && this.capReason === undefined && (this.queuedLines + 1 > this.headLines || this.queuedBytes + held.bytes > this.headBytes)) {
        this.capReason = this.queuedLines + 1 > this.headLines ? `maxLogLinesPerExecution (${this.options.caps.maxLines} lines)` : `maxLogBytesPerExecution (${this.options.caps.maxBytes} bytes)`;
      }
      if (!this.closed && this.capReason !== undefined) break;
      this.ring.shift();
      this.ringBytes -= held.bytes;
      this.enqueue({ seq: 0, at: held.at, stream: held.stream, line: held.line });
    }
    this.holding = false;
  }

  private enqueue(line: LogLine): void {
    line.seq = ++this.seq;
    const bytes = Buffer.byteLength(line.line);
    this.pending.push(line);
    this.pendingBytes += bytes;
    this.queuedLines++;
    this.queuedBytes += bytes;
    if (this.storeDown) return;
    if (this.pending.length >= FLUSH_BATCH) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
  }

  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, FLUSH_BATCH);
      try {
        await this.options.append(batch);
        this.stored(batch, batch);
      } catch (caught) {
        let error = caught;
        const kind = classifyStoreError(error);
        if (kind === 'data' || (kind === 'unknown' && ++this.unknownAttempts >= UNKNOWN_ERROR_ATTEMPTS)) {
          this.unknownAttempts = 0;
          try {
            this.stored(batch, await this.writeCarefully(batch));
            continue;
          } catch (outage) {
            // The store went away while the culprit was looked for: an outage after all (what was stored
            // meanwhile comes back as a duplicate, and is skipped).
            error = outage;
          }
        }
        // The store is unreachable: keep the lines and try again later.
        if (!this.storeDown) this.options.log.warn(`Could not store ${batch.length} log lines: keeping them to retry`, { executionId: this.options.executionId, error: errorText(error) });
        this.storeDown = true;
        this.scheduleRetry();
        return;
      }
    }
  }

  private stored(batch: LogLine[], written: LogLine[]): void {
    this.pending.splice(0, batch.length);
    for (const line of batch) this.pendingBytes -= Buffer.byteLength(line.line);
    if (written.length > 0) this.options.published(written);
    this.unknownAttempts = 0;
    if (this.storeDown) this.options.log.info('The store answers again: log lines stored', { executionId: this.options.executionId });
    this.storeDown = false;
    this.retryDelay = this.options.retryFirstDelayMs;
    // Past a cap the held lines are the run's last ones: they wait for the end.
    if (this.holding && this.capReason === undefined && !this.pendingFull() && !this.closed) this.releaseHeld();
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    // Once closed, close() itself waits and retries.
    if (!this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.flush();
      }, this.retryDelay);
    }
    this.retryDelay = Math.min(this.options.retryMaxDelayMs, this.retryDelay * 2);
  }

  /**
   * The store refused the batch for what it holds: halves until the refused line is found, which is
   * stored as a note saying why (or dropped, counted, if even that is refused). Returns what was stored.
   */
  private async writeCarefully(batch: LogLine[]): Promise<LogLine[]> {
    try {
      await this.options.append(batch);
      return batch;
    } catch (error) {
      if (classifyStoreError(error) === 'transient') throw error;
      if (batch.length > 1) {
        const middle = Math.ceil(batch.length / 2);
        return [...(await this.writeCarefully(batch.slice(0, middle))), ...(await this.writeCarefully(batch.slice(middle)))];
      }
      if (isDuplicate(error)) return [];
      const [line] = batch;
      const replacement: LogLine = { ...line, line: `[cron-ops] this line could not be stored (${utf8Prefix(storableText(errorText(error)), 300)}); ${Buffer.byteLength(line.line)} bytes dropped` };
      this.options.log.warn(`The store refused log line ${line.seq}: stored a note instead`, { executionId: this.options.executionId, error: errorText(error) });
      try {
        await this.options.append([replacement]);
        return [replacement];
      } catch {
        this.lostLines++;
        return [];
      }
    }
  }
}
