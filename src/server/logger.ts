// The server's own log, through pino (the logger Fastify itself uses, so requests and the rest share one
// stream and one redaction list). One line per event, readable by a person and greppable
// ("[Manual Trigger]"); LOG_FORMAT=json switches to JSON lines for log shippers. Lines to stdout are written
// together once per turn of the event loop, in order, and at exit.
import pino, { type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** The pino instance behind it, handed to Fastify. */
  readonly pino: PinoLogger;
  /** Writes the lines waiting for the next turn now: before anything else writes to stdout directly. */
  flush(): void;
  /** Lines are JSON (LOG_FORMAT=json): whatever else goes to stdout must be JSON lines too. */
  readonly json: boolean;
}

/**
 * Never written: credentials in request headers and any field that carries a secret or a token.
 * pino's paths are exact (one `*` is one level), so the usual places are listed.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-cron-secret"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-cron-secret"]',
  'authorization',
  'token',
  'secret',
  'cronSecret',
  'password',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.cronSecret',
  '*.password',
];

export function createLogger(options: { json?: boolean; level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const json = options.json ?? process.env.LOG_FORMAT === 'json';
  const envLevel = process.env.LOG_LEVEL as LogLevel | undefined;
  const level = options.level ?? (envLevel && LEVELS.includes(envLevel) ? envLevel : 'info');
  // Given a writer (tests, the timeline worker's stderr), each line goes to it at once; stdout is buffered.
  const stdout = options.write ? undefined : new StdoutLines();
  const write = options.write ?? ((line: string) => stdout!.push(line));
  // pino writes each record as one JSON line to any object with a `write` method: no stream in between.
  const destination = {
    write(record: string) {
      const line = record.endsWith('\n') ? record.slice(0, -1) : record;
      if (line) write(json ? line : humanLine(line));
    },
  };
  const instance = pino(
    {
      level,
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
  return wrap(instance, () => stdout?.flush(), json);
}

/** Flushed once this many characters wait, without waiting for the next turn. */
const STDOUT_FLUSH_CHARS = 64 * 1024;

/**
 * The server's lines to stdout, written together once per turn of the event loop: a run logs several lines
 * and a burst of runs many, each one a write call (synchronous on Linux pipes and files) when written
 * alone. In order, and written at once at exit (process.exit, an uncaught exception) so none is lost there.
 */
class StdoutLines {
  private pending: string[] = [];
  private chars = 0;
  private scheduled = false;
  /** Stdout's reader went away (a closed pipe): lines are dropped rather than ending the server. */
  private closed = false;

  constructor() {
    process.on('exit', () => this.flush());
    // A closed stderr has nowhere left to be reported.
    process.stderr.on('error', () => undefined);
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (this.closed) return;
      this.closed = true;
      this.pending = [];
      process.stderr.write(`cron-ops-server: stdout failed (${error.code ?? error.message}): log lines are dropped from now on; runs, their logs and the API are not affected\n`);
    });
  }

  push(line: string): void {
    this.pending.push(line);
    this.chars += line.length + 1;
    if (this.chars >= STDOUT_FLUSH_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what waits now (before anything else writes to stdout directly). */
  flush(): void {
    if (this.pending.length === 0) return;
    if (this.closed) {
      this.pending = [];
      this.chars = 0;
      return;
    }
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.chars = 0;
    process.stdout.write(text);
  }
}

function wrap(instance: PinoLogger, flush: () => void, json: boolean): Logger {
  const at = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (fields && Object.keys(fields).length > 0) instance[level](fields, message);
    else instance[level](message);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), pino: instance, flush, json };
}

/** `time LEVEL message {fields}` from one of pino's JSON lines. */
function humanLine(line: string): string {
  try {
    const { time, level, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const extra = Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
    return `${String(time)} ${String(level).toUpperCase().padEnd(5)} ${String(msg ?? '')}${extra}`;
  } catch {
    return line;
  }
}

/** Error text for a log line or a reply: the message, never a stack alone. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A value for a log line, cut to `max` characters: one refused request never writes a huge line. */
export function truncatedJson(value: unknown, max = 500): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}
