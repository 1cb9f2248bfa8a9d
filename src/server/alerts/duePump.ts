// Runs due work from storage shared by instances: at once when kicked, at the soonest due time, and every
// `pollMs` for work another instance added or a dead one left. One pass at a time.
import { errorText, type Logger } from '../logger';

export interface DuePumpOptions {
  what: string;
  /** Runs what is due; returns when nothing more is due now. */
  runDue(): Promise<void>;
  nextDueAt(): Promise<Date | undefined>;
  log: Logger;
  pollMs: number;
}

export class DuePump {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private started = false;
  private stopped = false;

  constructor(private readonly options: DuePumpOptions) {}

  start(): void {
    this.started = true;
    this.kick();
  }

  /** Looks for due work now (after something was added). */
  kick(): void {
    if (!this.started || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.options
      .runDue()
      .catch((error) => this.options.log.warn(`${this.options.what}: trying again`, { error: errorText(error) }))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        } else void this.arm();
      });
  }

  /** Stops and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async arm(): Promise<void> {
    let wait = this.options.pollMs;
    try {
      const due = await this.options.nextDueAt();
      if (due) wait = Math.min(wait, Math.max(0, due.getTime() - Date.now()));
    } catch (error) {
      this.options.log.warn(`${this.options.what}: could not read what is due`, { error: errorText(error) });
    }
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), wait);
    this.timer.unref();
  }
}
