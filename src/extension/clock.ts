// The extension's one clock: every relative time, running duration and countdown reads `now()` and redraws on
// `onTick`. It ticks once a second, and only while some view that shows time is visible and asks for it, so
// a hidden tree and a signed-out window cost nothing.
import * as vscode from 'vscode';

const TICK_MS = 1000;

export class Clock implements vscode.Disposable {
  private readonly ticked = new vscode.EventEmitter<number>();
  /** Fires with `now()` once a second while at least one owner needs it. */
  readonly onTick = this.ticked.event;
  private readonly needs = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private source: () => number = Date.now;

  now(): number {
    return this.source();
  }

  /** An owner (a view) says whether it shows something that moves with time; the timer runs while any does. */
  need(owner: string, needed: boolean): void {
    if (needed) this.needs.add(owner);
    else this.needs.delete(owner);
    if (this.needs.size > 0 && !this.timer) this.timer = setInterval(() => this.tick(), TICK_MS);
    if (this.needs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Whether the clock is ticking now. */
  get ticking(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Reads time from `source` instead of the system clock (undefined: back to it), then redraws at once. The
   * VS Code tests use it to see a minute pass without waiting for one.
   */
  useTimeSource(source: (() => number) | undefined): void {
    this.source = source ?? Date.now;
    this.tick();
  }

  /** Redraws everything that shows time, now. */
  tick(): void {
    this.ticked.fire(this.now());
  }

  dispose(): void {
    clearInterval(this.timer);
    this.ticked.dispose();
  }
}
