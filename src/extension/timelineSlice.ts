// The timeline as a slice of the extension's state: the filter and range the dashboard shows, the last reply
// (or the error) for them, fetched through the shared single-flight helper when runs start or end, on the
// refresh interval of the settings while a dashboard is visible, and cleared when signed out.
import * as vscode from 'vscode';
import type { Cron, Stats, TimelineReply } from '../shared/api';
import { coalesce } from '../shared/coalesce';
import { NO_FILTER, sameFilter, type TimelineFilter, type TimelineRange } from '../shared/messages';
import type { ApiClient } from './apiClient';
import type { Connection } from './format';
import type { Logger } from './logger';
import { runsSignature } from './stateReducer';
import type { Settings } from './settings';
import { errorText } from './serverOrigin';

const TIMELINE_DAYS = 7;
/** A burst of state changes (a run starting, its stats event) fetches the timeline once. */
const DEBOUNCE_MS = 500;

export type TimelineValue =
  | { kind: 'reply'; filter: TimelineFilter; range: TimelineRange | null; reply: TimelineReply }
  | { kind: 'error'; filter: TimelineFilter; range: TimelineRange | null; message: string };

export class TimelineSlice implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TimelineValue | undefined>();
  /** The timeline changed (undefined: cleared, e.g. after Sign Out). */
  readonly onDidChange = this.changed.event;
  private filterValue: TimelineFilter = NO_FILTER;
  private rangeValue: TimelineRange | null = null;
  private current: TimelineValue | undefined;
  private active = false;
  private signedIn = false;
  private signature = '';
  private debounce: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastError = '';
  private readonly settingsListener: vscode.Disposable;

  constructor(
    private readonly client: ApiClient,
    private readonly settings: Settings,
    private readonly log: Logger,
  ) {
    this.settingsListener = settings.onDidChange((names) => {
      if (names.has('refreshIntervalSeconds')) this.schedule();
    });
  }

  get value(): TimelineValue | undefined {
    return this.current;
  }

  get filter(): TimelineFilter {
    return this.filterValue;
  }

  /** Fetches now (concurrent calls share one fetch, and one more if asked meanwhile). */
  readonly load: () => Promise<void> = coalesce(() => this.fetch());

  /** A dashboard shows the timeline (or none does): only then is it fetched and kept fresh. */
  setActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    this.schedule();
    if (active) void this.load();
  }

  setFilter(filter: TimelineFilter): Promise<void> {
    this.filterValue = filter;
    return this.load();
  }

  /** The time range to show (a zoom); null: the last 7 days. */
  setRange(range: TimelineRange | null): Promise<void> {
    this.rangeValue = range;
    return this.load();
  }

  /** Called by the state on each change: signing out clears the slice, runs starting or ending refetch it. */
  stateChanged(connection: Connection, crons: readonly Cron[], stats: Stats | undefined): void {
    const signedIn = connection !== 'signedOut';
    if (!signedIn && this.signedIn) {
      this.current = undefined;
      this.signature = '';
      this.changed.fire(undefined);
    }
    this.signedIn = signedIn;
    if (!signedIn || !this.active) return;
    const signature = runsSignature(crons, stats);
    if (signature === this.signature) return;
    this.signature = signature;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.load(), DEBOUNCE_MS);
  }

  private schedule(): void {
    clearInterval(this.timer);
    this.timer = this.active ? setInterval(() => void this.load(), this.settings.refreshIntervalSeconds * 1000) : undefined;
  }

  private async fetch(): Promise<void> {
    if (!this.active || !this.signedIn) return;
    const filter = this.filterValue;
    const range = this.rangeValue;
    const query = { cronName: filter.cronName, status: filter.status, ...(range ? { from: range.from, to: range.to } : { days: TIMELINE_DAYS }) };
    let value: TimelineValue;
    try {
      value = { kind: 'reply', filter, range, reply: await this.client.timeline(query) };
      this.lastError = '';
    } catch (error) {
      const message = errorText(error);
      if (message !== this.lastError) this.log.warn(`[Timeline] ${message}`);
      this.lastError = message;
      value = { kind: 'error', filter, range, message };
    }
    // A reply for a filter or range changed meanwhile is dropped: the single flight fetches again after it.
    if (!this.signedIn || !sameFilter(filter, this.filterValue) || range !== this.rangeValue) return;
    this.current = value;
    this.changed.fire(value);
  }

  dispose(): void {
    clearTimeout(this.debounce);
    clearInterval(this.timer);
    this.settingsListener.dispose();
    this.changed.dispose();
  }
}
