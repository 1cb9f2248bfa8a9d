// The server's own log: one line per event, readable by a person and greppable ("[Manual Trigger]").
// LOG_FORMAT=json switches to JSON lines for log shippers.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(options: { json?: boolean; level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const json = options.json ?? process.env.LOG_FORMAT === 'json';
  const minimum = LEVELS[options.level ?? (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? LEVELS.info;
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < minimum) return;
    const time = new Date().toISOString();
    if (json) {
      write(JSON.stringify({ time, level, msg: message, ...fields }));
      return;
    }
    const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
    write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra}`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** Error text for a log line or a reply: the message, never a stack alone. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
