// The server's own log, through pino (the logger Fastify itself uses, so requests and the rest share one
// stream and one redaction list). One line per event, readable by a person and greppable
// ("[Manual Trigger]"); LOG_FORMAT=json switches to JSON lines for log shippers.
import { Writable } from 'node:stream';
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
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) write(json ? line : humanLine(line));
      done();
    },
  });
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
  return wrap(instance);
}

function wrap(instance: PinoLogger): Logger {
  const at = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (fields && Object.keys(fields).length > 0) instance[level](fields, message);
    else instance[level](message);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), pino: instance };
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
