// The timeline section: filters, legend, chart, and the latest runs as a table of buttons (the keyboard's
// way to the runs the chart shows).
import { EXECUTION_STATUSES, type ExecutionStatus } from '../shared/api';
import { sameFilter, type TimelineColumns, type TimelineFilter } from '../shared/messages';
import { h, replaceChildrenKeepingFocus, setText } from './dom';
import { applyFilter, cronChoices, filterFromSelects, selectRuns } from './filters';
import { formatDateTime, formatDuration, statusLabel } from './format';
import { t } from './strings';
import type { ChartTheme } from './theme';
import { TimelineChart } from './timelineChart';
import { latestRuns, type TimelineData } from './timelineData';

const LATEST_RUNS = 20;

export interface TimelineSectionHost {
  filterChanged(filter: TimelineFilter): void;
  showLogs(executionId: string): void;
  latestToggled(open: boolean): void;
  locale(): string;
}

export interface ShownTimeline {
  filter: TimelineFilter;
  fromMs: number;
  toMs: number;
  columns: TimelineColumns;
}

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
      this.legend,
      h('div', { className: 'chart-box' }, this.canvas, pulses),
      this.message,
      this.latest,
    );
    this.chart = new TimelineChart(this.canvas, pulses, { showLogs: (id) => this.host.showLogs(id), locale: () => this.host.locale() }, theme);
    this.renderSelects();
    this.showMessage(t('timelineLoading'));
  }

  get currentFilter(): TimelineFilter {
    return this.filter;
  }

  /** Runs in the timeline shown (null before the first one) and the marks drawn for them. */
  get counts(): { executions: number | null; marks: number } {
    return { executions: this.shown ? this.shown.columns.ids.length : null, marks: this.drawn?.marks ?? 0 };
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
      this.shown = { ...previous, filter, columns: selectRuns(previous.columns, applyFilter(previous.columns, filter)) };
      this.draw(this.shown);
    } else {
      this.showMessage(t('timelineLoading'));
    }
    this.host.filterChanged(filter);
  }

  private draw(timeline: ShownTimeline): void {
    const started = performance.now();
    this.drawn = this.chart.render({ columns: timeline.columns, fromMs: timeline.fromMs, toMs: timeline.toMs });
    this.renderMs = performance.now() - started;
    const runs = (status: ExecutionStatus) => this.drawn!.series[EXECUTION_STATUSES.indexOf(status)].runs;
    this.canvas.setAttribute('aria-label', t('timelineChartLabel', runs('completed'), runs('failed'), runs('cancelled'), runs('running')));
    this.renderLegend();
    this.renderLatest(timeline);
    if (this.drawn.runs === 0) this.showMessage(t('timelineEmpty'));
    else if (this.drawn.merged) this.showMessage(t('timelineDense', this.drawn.runs.toLocaleString(this.host.locale()), this.drawn.marks.toLocaleString(this.host.locale())));
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
      h('li', {}, h('span', { className: `swatch status-${status}`, attrs: { 'aria-hidden': 'true' } }), `${statusLabel(status)} ${(this.drawn?.series[index].runs ?? 0).toLocaleString(this.host.locale())}`),
    );
    this.legend.replaceChildren(...items);
  }

  private renderLatest(timeline: ShownTimeline): void {
    const { columns } = timeline;
    const picked = latestRuns(columns, LATEST_RUNS);
    setText(this.latestSummary, t('latestRuns', picked.length));
    const rows = picked.map((i) => {
      const status = EXECUTION_STATUSES[columns.status[i]];
      const cronName = columns.cronNames[columns.cron[i]];
      const started = formatDateTime(columns.startMs[i], this.host.locale());
      return h(
        'tr',
        {},
        h('td', { text: cronName }),
        h('td', {}, h('span', { className: `badge status-${status}`, text: statusLabel(status) })),
        h('td', { text: started }),
        h('td', { text: formatDuration(columns.durationMs[i]) }),
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
