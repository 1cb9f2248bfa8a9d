// The timeline section: filters, legend, chart, and the latest runs as a table of buttons (the keyboard's
// way to the runs the chart shows).
import { EXECUTION_STATUSES, type ExecutionStatus, type TimelineBucket, type TimelineSkip } from '../shared/api';
import { sameFilter, type RenderedView, type TimelineColumns, type TimelineFilter, type TimelineRange } from '../shared/messages';
import { h, replaceChildrenKeepingFocus, setText } from './dom';
import { applyFilter, cronChoices, filterFromSelects, selectRuns } from './filters';
import { formatDateTime, formatDuration, formatNumber, statusLabel } from './format';
import { t } from './strings';
import type { ChartTheme } from './theme';
import { TimelineChart } from './timelineChart';
import { latestRuns, type TimelineData } from './timelineData';

const LATEST_RUNS = 20;

export interface TimelineSectionHost {
  filterChanged(filter: TimelineFilter): void;
  showLogs(executionId: string): void;
  zoomed(range: TimelineRange | null): void;
  latestToggled(open: boolean): void;
  locale(): string;
  /** The extension's time now. */
  now(): number;
}

export interface ShownTimeline {
  filter: TimelineFilter;
  range: TimelineRange | null;
  fromMs: number;
  toMs: number;
  columns: TimelineColumns;
  buckets: TimelineBucket[];
  bucketMs: number;
  /** Ticks that started no run: small marks of their own (never for a status filter: they are no runs). */
  skipped: TimelineSkip[];
  /** All the range's skipped ticks (more than `skipped` when the server's bound cut it). */
  skippedTotal: number;
}

const EMPTY_COLUMNS: TimelineColumns = { cronNames: [], ids: [], cron: [], status: [], startMs: [], durationMs: [] };

export class TimelineSection {
  readonly element: HTMLElement;
  private readonly cronSelect: HTMLSelectElement;
  private readonly statusSelect: HTMLSelectElement;
  private readonly legend = h('ul', { className: 'legend', attrs: { 'aria-label': t('legendLabel') } });
  private readonly canvas = h('canvas', { attrs: { role: 'img' } });
  private readonly message = h('p', { className: 'timeline-message', attrs: { role: 'status' } });
  private readonly latestSummary = h('summary');
  private readonly latestBody = h('tbody');
  private readonly latest: HTMLDetailsElement;
  private readonly chart: TimelineChart;
  private cronNames: string[] = [];
  private filter: TimelineFilter;
  private shown: ShownTimeline | null = null;
  /** A filter the operator picked whose timeline has not arrived yet. */
  private pending: TimelineFilter | null = null;
  private drawn: TimelineData | null = null;
  /** Latest runs as shown, with the cell of each running run's duration (it ticks). */
  private latestShown: Array<{ id: string; duration: string; running: { cell: HTMLElement; startMs: number } | null }> = [];
  private readonly reset: HTMLButtonElement;
  /** Duration of the last timeline render, in ms. */
  renderMs = 0;

  constructor(
    private readonly host: TimelineSectionHost,
    initial: { filter: TimelineFilter; latestOpen: boolean },
    theme: ChartTheme,
  ) {
    this.filter = initial.filter;
    const onChange = () => this.selectsChanged();
    this.cronSelect = h('select', { attrs: { id: 'filter-cron' }, on: { change: onChange } });
    this.statusSelect = h(
      'select',
      { attrs: { id: 'filter-status' }, on: { change: onChange } },
      h('option', { text: t('filterAll'), attrs: { value: '' } }),
      ...EXECUTION_STATUSES.map((status) => h('option', { text: statusLabel(status), attrs: { value: status } })),
    );
    const pulses = h('div', { className: 'pulses', attrs: { 'aria-hidden': 'true' } });
    this.reset = h('button', { className: 'secondary', text: t('timelineReset'), attrs: { title: t('timelineZoomHint') }, on: { click: () => this.chart.resetZoom() } });
    this.canvas.setAttribute('aria-describedby', 'timeline-zoom-hint');
    this.latest = h(
      'details',
      { className: 'latest' },
      this.latestSummary,
      h(
        'table',
        {},
        h('caption', { className: 'visually-hidden', text: t('latestRunsCaption') }),
        h('thead', {}, h('tr', {}, ...(['colCron', 'colStatus', 'colStarted', 'colDuration', 'colActions'] as const).map((key) => h('th', { text: t(key), attrs: { scope: 'col' } })))),
        this.latestBody,
      ),
    );
    this.latest.open = initial.latestOpen;
    this.latest.addEventListener('toggle', () => this.host.latestToggled(this.latest.open));
    this.element = h(
      'section',
      { className: 'timeline', attrs: { 'aria-labelledby': 'timeline-title' } },
      h(
        'div',
        { className: 'section-head' },
        h('h2', { text: t('timelineTitle'), attrs: { id: 'timeline-title' } }),
        h(
          'div',
          { className: 'filters' },
          h('label', { text: t('filterCron'), attrs: { for: 'filter-cron' } }),
          this.cronSelect,
          h('label', { text: t('filterStatus'), attrs: { for: 'filter-status' } }),
          this.statusSelect,
        ),
      ),
      h('div', { className: 'section-head' }, this.legend, h('span', { className: 'hint', text: t('timelineZoomHint'), attrs: { id: 'timeline-zoom-hint' } }), this.reset),
      h('div', { className: 'chart-box' }, this.canvas, pulses),
      this.message,
      this.latest,
    );
    this.chart = new TimelineChart(this.canvas, pulses, { showLogs: (id) => this.host.showLogs(id), locale: () => this.host.locale(), zoomed: (range) => this.host.zoomed(range) }, theme);
    this.renderSelects();
    this.showMessage(t('timelineLoading'));
  }

  get currentFilter(): TimelineFilter {
    return this.filter;
  }

  /** Runs in the timeline shown (null before the first one) and the marks drawn for them. */
  get counts(): { executions: number | null; marks: number; buckets: number; skipped: number } {
    return { executions: this.shown ? this.shown.columns.ids.length : null, marks: this.drawn?.marks ?? 0, buckets: this.shown?.buckets.length ?? 0, skipped: this.shown?.skipped.length ?? 0 };
  }

  /** Latest runs as shown (id and duration cell). */
  get latestView(): RenderedView['latest'] {
    return this.latestShown.map(({ id, duration }) => ({ id, duration }));
  }

  /** The x range drawn. */
  get xRange(): RenderedView['xRange'] {
    return this.shown ? this.chart.xRange : null;
  }

  /** Every second: running runs' durations in Latest runs, on the extension's clock. */
  tick(now: number): void {
    for (const row of this.latestShown) {
      if (!row.running) continue;
      row.duration = formatDuration(Math.max(0, now - row.running.startMs), this.host.locale());
      setText(row.running.cell, row.duration);
    }
  }

  /** Signed out: nothing of the old timeline stays on screen. */
  clear(): void {
    this.shown = null;
    this.pending = null;
    this.drawn = this.chart.render({ columns: EMPTY_COLUMNS, fromMs: 0, toMs: 1, zoomed: false, buckets: [], skipped: [] });
    this.renderLegend();
    this.latestShown = [];
    setText(this.latestSummary, t('latestRuns', 0));
    replaceChildrenKeepingFocus(this.latestBody);
    this.showMessage('');
  }

  /** The crons known from the extension's state, for the cron filter. */
  setCrons(names: string[]): void {
    this.cronNames = names;
    this.renderSelects();
  }

  /**
   * A timeline arrived: it becomes what is shown, filter included, unless the operator has just picked another
   * filter whose answer is still to come (then it is an older reply and is skipped). Returns whether it was shown.
   */
  showTimeline(timeline: ShownTimeline): boolean {
    if (this.pending && !sameFilter(this.pending, timeline.filter)) return false;
    this.pending = null;
    this.filter = timeline.filter;
    this.shown = timeline;
    this.renderSelects();
    this.draw(timeline);
    return true;
  }

  showError(filter: TimelineFilter, message: string): void {
    if (!sameFilter(filter, this.filter)) return;
    this.pending = null;
    this.showMessage(t('timelineError', message), 'error');
  }

  setTheme(theme: ChartTheme): void {
    this.chart.setTheme(theme);
  }

  private selectsChanged(): void {
    const filter = filterFromSelects(this.cronSelect.value, this.statusSelect.value);
    if (sameFilter(filter, this.filter)) return;
    const previous = this.shown;
    this.filter = filter;
    this.pending = filter;
    // Narrowing a wider timeline needs no round trip to show something right away; the server's answer follows.
    if (previous && (previous.filter.cronName === null || previous.filter.cronName === filter.cronName) && (previous.filter.status === null || previous.filter.status === filter.status)) {
      const skipped = filter.status !== null ? [] : previous.skipped.filter((tick) => filter.cronName === null || tick.cronName === filter.cronName);
      this.shown = { ...previous, filter, columns: selectRuns(previous.columns, applyFilter(previous.columns, filter)), skipped, skippedTotal: skipped.length };
      this.draw(this.shown);
    } else {
      this.showMessage(t('timelineLoading'));
    }
    this.host.filterChanged(filter);
  }

  private draw(timeline: ShownTimeline): void {
    const started = performance.now();
    this.drawn = this.chart.render({ columns: timeline.columns, fromMs: timeline.fromMs, toMs: timeline.toMs, zoomed: timeline.range !== null, buckets: timeline.buckets, skipped: timeline.skipped });
    this.reset.hidden = timeline.range === null;
    this.renderMs = performance.now() - started;
    const runs = (status: ExecutionStatus) => this.drawn!.series[EXECUTION_STATUSES.indexOf(status)].runs;
    this.canvas.setAttribute('aria-label', t('timelineChartLabel', runs('completed'), runs('failed'), runs('cancelled'), runs('running')));
    this.renderLegend();
    this.renderLatest(timeline);
    const locale = this.host.locale();
    if (this.drawn.runs === 0 && timeline.buckets.length === 0) this.showMessage(t('timelineEmpty'));
    else if (timeline.buckets.length) this.showMessage(t('timelineBuckets', formatNumber(timeline.buckets.reduce((sum, bucket) => sum + bucket.count, 0), locale), formatDuration(timeline.bucketMs, locale)));
    else if (this.drawn.merged) this.showMessage(t('timelineDense', formatNumber(this.drawn.runs, locale), formatNumber(this.drawn.marks, locale)));
    else if (timeline.skippedTotal > timeline.skipped.length) this.showMessage(t('timelineSkippedCut', formatNumber(timeline.skipped.length, locale), formatNumber(timeline.skippedTotal, locale)));
    else this.showMessage('');
  }

  private renderSelects(): void {
    const choices = cronChoices(this.cronNames, this.shown?.columns ?? null, this.filter.cronName);
    const current = [...this.cronSelect.options].map((option) => option.value).join('\n');
    const wanted = ['', ...choices].join('\n');
    if (current !== wanted) {
      this.cronSelect.replaceChildren(h('option', { text: t('filterAll'), attrs: { value: '' } }), ...choices.map((name) => h('option', { text: name, attrs: { value: name } })));
    }
    this.cronSelect.value = this.filter.cronName ?? '';
    this.statusSelect.value = this.filter.status ?? '';
  }

  private renderLegend(): void {
    const items = EXECUTION_STATUSES.map((status, index) =>
      h('li', {}, h('span', { className: `swatch status-${status}`, attrs: { 'aria-hidden': 'true' } }), `${statusLabel(status)} ${formatNumber(this.drawn?.series[index].runs ?? 0, this.host.locale())}`),
    );
    const skipped = this.shown?.skipped.length ?? 0;
    if (skipped > 0) items.push(h('li', {}, h('span', { className: 'swatch skipped', attrs: { 'aria-hidden': 'true' } }), `${t('legendSkipped')} ${formatNumber(skipped, this.host.locale())}`));
    this.legend.replaceChildren(...items);
  }

  private renderLatest(timeline: ShownTimeline): void {
    const { columns } = timeline;
    const picked = latestRuns(columns, LATEST_RUNS);
    setText(this.latestSummary, t('latestRuns', picked.length));
    const locale = this.host.locale();
    const now = this.host.now();
    this.latestShown = [];
    const rows = picked.map((i) => {
      const status = EXECUTION_STATUSES[columns.status[i]];
      const cronName = columns.cronNames[columns.cron[i]];
      const started = formatDateTime(columns.startMs[i], locale);
      // The shared definition of a run's duration: elapsed on the extension's clock while it runs.
      const running = status === 'running';
      const duration = formatDuration(running ? Math.max(0, now - columns.startMs[i]) : columns.durationMs[i], locale);
      const cell = h('td', { text: duration });
      this.latestShown.push({ id: columns.ids[i], duration, running: running ? { cell, startMs: columns.startMs[i] } : null });
      return h(
        'tr',
        {},
        h('td', { text: cronName }),
        h('td', {}, h('span', { className: `badge status-${status}`, text: statusLabel(status) })),
        h('td', { text: started }),
        cell,
        h(
          'td',
          {},
          h('button', {
            className: 'secondary',
            text: t('showLogs'),
            attrs: { 'aria-label': t('showLogsLabel', cronName, started), 'data-focus-key': `run:${columns.ids[i]}` },
            on: { click: () => this.host.showLogs(columns.ids[i]) },
          }),
        ),
      );
    });
    replaceChildrenKeepingFocus(this.latestBody, ...rows);
  }

  private showMessage(text: string, kind: 'info' | 'error' = 'info'): void {
    this.message.hidden = !text;
    this.message.className = `timeline-message ${kind}`;
    setText(this.message, text);
  }
}
