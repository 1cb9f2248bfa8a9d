// p95 durations per cron for the CodeLens, from the server's history (the newest P95_SAMPLE_LIMIT runs):
// loaded once per cron when first shown, reloaded when that cron's run finishes. No vscode import.
import type { Execution } from '../../shared/api';
import { Emitter } from '../emitter';
import { P95_SAMPLE_LIMIT, p95Duration } from './runSummary';

export interface P95 {
  ms: number;
  /** Finished runs it was computed from. */
  runs: number;
}

type Entry = { state: 'loading' } | { state: 'loaded'; p95: P95 | undefined } | { state: 'failed' };

export class P95Cache {
  private readonly entries = new Map<string, Entry>();
  private readonly changed = new Emitter<string>();
  /** A cron's p95 was (re)computed. */
  readonly onDidChange = this.changed.event;
  /** Loads bumped by a newer one (a finished run during a load) are dropped, so an old answer never wins. */
  private readonly generations = new Map<string, number>();

  constructor(private readonly load: (cronName: string, limit: number) => Promise<readonly Execution[]>) {}

  /** The p95 if known; starts a load (once) otherwise. */
  get(cronName: string): P95 | undefined {
    const entry = this.entries.get(cronName);
    if (!entry) this.reload(cronName);
    return entry?.state === 'loaded' ? entry.p95 : undefined;
  }

  /** A run of this cron finished: its p95 may have moved. Only crons already shown are reloaded. */
  invalidate(cronName: string): void {
    if (this.entries.has(cronName)) this.reload(cronName);
  }

  /** Another server or sign-in: nothing known holds. */
  clear(): void {
    this.entries.clear();
    this.generations.clear();
  }

  private reload(cronName: string): void {
    const generation = (this.generations.get(cronName) ?? 0) + 1;
    this.generations.set(cronName, generation);
    if (!this.entries.has(cronName)) this.entries.set(cronName, { state: 'loading' });
    this.load(cronName, P95_SAMPLE_LIMIT).then(
      (executions) => {
        if (this.generations.get(cronName) !== generation) return;
        const ms = p95Duration(executions);
        const runs = executions.filter((execution) => execution.status !== 'running' && execution.durationMs !== null).length;
        this.entries.set(cronName, { state: 'loaded', p95: ms === undefined ? undefined : { ms, runs } });
        this.changed.fire(cronName);
      },
      () => {
        // The lens shows the rest without a p95; the next finished run of this cron tries again.
        if (this.generations.get(cronName) === generation) this.entries.set(cronName, { state: 'failed' });
      },
    );
  }

  dispose(): void {
    this.changed.dispose();
  }
}
