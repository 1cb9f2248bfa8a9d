// The extension's one logger: the "Cron Ops" LogOutputChannel, written as "[Component] message".
// Only a type comes from vscode, so the modules that log stay testable in plain Node.
import type { LogOutputChannel } from 'vscode';
import { redactUrls } from './serverOrigin';

/** What a module needs to log; the LogOutputChannel and unit-test fakes both fit. */
export interface LogSink {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that prefixes `[component]` and appends an error's cause. */
export class Logger implements LogSink {
  constructor(
    private readonly sink: LogSink,
    /** A function when the name can change (a server renamed in the settings). */
    private readonly component?: string | (() => string),
  ) {}

  static forChannel(channel: LogOutputChannel): Logger {
    return new Logger({
      debug: (message) => channel.debug(message),
      info: (message) => channel.info(message),
      warn: (message) => channel.warn(message),
      error: (message) => channel.error(message),
    });
  }

  child(component: string | (() => string)): Logger {
    return new Logger(this.sink, component);
  }

  private line(message: string, cause?: unknown): string {
    const component = typeof this.component === 'function' ? this.component() : this.component;
    const prefix = component ? `[${component}] ` : '';
    const suffix = cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : String(cause)}`;
    // Every line: a server URL with credentials, quoted by an error or a message, never reaches the log whole.
    return redactUrls(`${prefix}${message}${suffix}`);
  }

  debug(message: string): void {
    this.sink.debug(this.line(message));
  }

  info(message: string): void {
    this.sink.info(this.line(message));
  }

  warn(message: string, cause?: unknown): void {
    this.sink.warn(this.line(message, cause));
  }

  error(message: string, cause?: unknown): void {
    this.sink.error(this.line(message, cause));
  }
}
