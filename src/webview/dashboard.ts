// The page: toolbar, banner, KPI cards, timeline and cron table, updated from the extension's messages.
import type { Stats } from '../shared/api';
import type { DashboardConnection, FromWebview, RenderedView, ToWebview } from '../shared/messages';
import { assertNever, ConnectionBanner } from './banner';
import { CronTable } from './cronTable';
import { h, setText } from './dom';
import type { WebviewState } from './filters';
import { formatTime } from './format';
import { KpiCards } from './kpis';
import { t } from './strings';
import { onThemeChange, readChartTheme } from './theme';
import { TimelineSection } from './timelineSection';

export interface DashboardHost {
  send(message: FromWebview): void;
  persist(next: Partial<WebviewState>): void;
  locale(): string;
}

export class Dashboard {
  private readonly updated = h('span', { className: 'updated', attrs: { 'aria-live': 'off' } });
  private readonly banner = new ConnectionBanner();
  private readonly kpis: KpiCards;
  private readonly timeline: TimelineSection;
  private readonly crons: CronTable;
  private stats: Stats | null = null;
  private connection: DashboardConnection = 'connecting';
  private renderedScheduled = false;
  /** The extension's clock minus this page's: the page ticks on the extension's time. */
  private clockOffset = 0;

  constructor(
    root: HTMLElement,
    private readonly host: DashboardHost,
    initial: WebviewState,
  ) {
    const { send } = host;
    this.kpis = new KpiCards(host.locale);
    this.timeline = new TimelineSection(
      {
        filterChanged: (filter) => {
          host.persist({ filter });
          send({ type: 'filter', filter });
          this.scheduleRendered();
        },
        showLogs: (executionId) => send({ type: 'showLogs', executionId }),
        zoomed: (range) => send({ type: 'zoom', range }),
        now: () => this.now(),
        latestToggled: (open) => host.persist({ latestOpen: open }),
        locale: host.locale,
      },
      initial,
      readChartTheme(),
    );
    this.crons = new CronTable({ trigger: (cronName) => send({ type: 'trigger', cronName }), showLogs: (executionId) => send({ type: 'showLogs', executionId }) }, host.locale);
    const refresh = h('button', { className: 'secondary', text: t('refresh'), on: { click: () => send({ type: 'refresh' }) } });
    root.replaceChildren(h('header', { className: 'toolbar' }, h('h1', { text: t('title') }), this.updated, refresh), this.banner.element, this.kpis.element, this.timeline.element, this.crons.element);
    root.removeAttribute('aria-busy');
    onThemeChange(() => this.timeline.setTheme(readChartTheme()));
  }

  /** Applies one message from the extension (config is handled before the page is built). */
  handle(message: Exclude<ToWebview, { type: 'config' }>): void {
    switch (message.type) {
      case 'state': {
        this.clockOffset = message.now - Date.now();
        const now = message.now;
        this.stats = message.stats;
        this.connection = message.connection;
        this.banner.render(message.connection, message.error, { signIn: () => this.host.send({ type: 'signIn' }), retry: () => this.host.send({ type: 'refresh' }) });
        this.kpis.render(message.stats, message.crons, now);
        this.crons.render(message.crons, message.connection, now, message.canAct);
        this.timeline.setCrons(message.crons.map((cron) => cron.name));
        this.timeline.tick(now);
        setText(this.updated, t('updatedAt', formatTime(now, this.host.locale())));
        break;
      }
      case 'timeline':
        if (
          this.timeline.showTimeline({
            filter: message.filter,
            range: message.range,
            fromMs: Date.parse(message.from),
            toMs: Date.parse(message.to),
            columns: message.columns,
            buckets: message.buckets ?? [],
            bucketMs: message.bucketMs ?? 0,
            skipped: message.skipped ?? [],
            skippedTotal: message.skippedTotal ?? 0,
          })
        ) {
          this.host.persist({ filter: message.filter });
        }
        break;
      case 'timelineCleared':
        this.timeline.clear();
        break;
      case 'timelineError':
        this.timeline.showError(message.filter, message.message);
        break;
      default:
        assertNever(message);
    }
    this.scheduleRendered();
  }

  /** The extension's time now. */
  now(): number {
    return Date.now() + this.clockOffset;
  }

  /** Every second: countdowns, relative times and running durations, on the extension's clock. */
  tick(): void {
    const now = this.now();
    this.kpis.tick(now);
    this.crons.tick(now);
    this.timeline.tick(now);
  }

  /** What the page shows now. */
  view(): RenderedView {
    const counts = this.timeline.counts;
    return {
      kpis: this.stats,
      connection: this.connection,
      cronRows: this.crons.rows,
      filter: this.timeline.currentFilter,
      executions: counts.executions,
      marks: counts.marks,
      renderMs: Math.round(this.timeline.renderMs * 10) / 10,
      table: this.crons.view,
      latest: this.timeline.latestView,
      xRange: this.timeline.xRange,
      buckets: counts.buckets,
      skipped: counts.skipped,
    };
  }

  /** After each render, tell the extension what the page shows (one report per burst of messages). */
  private scheduleRendered(): void {
    if (this.renderedScheduled) return;
    this.renderedScheduled = true;
    setTimeout(() => {
      this.renderedScheduled = false;
      this.host.send({ type: 'rendered', view: this.view() });
    }, 0);
  }
}
