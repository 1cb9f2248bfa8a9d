// The cron table of the guide: name, description, last run, status, duration, next run, and Execute.
import type { Cron } from '../shared/api';
import type { DashboardConnection, RenderedView } from '../shared/messages';
import { overlapText } from '../shared/overlapText';
import { describeSchedule } from '../shared/schedule';
import { nextRunAt, runDurationMs } from '../shared/timing';
import { h, replaceChildrenKeepingFocus, setText } from './dom';
import { formatDateTime, formatDuration, formatNumber, formatRelative, statusLabel } from './format';
import { t } from './strings';

/** The overlap warning in the page's language (the shared wording's English texts are its string keys' values). */
const overlapWords = (message: string, ...args: Array<string | number>) => (message === 'p95 {0} > every {1}' ? t('overlapEvery', ...args) : t('overlapBetween', ...args));

export interface CronTableActions {
  trigger(cronName: string): void;
  showLogs(executionId: string): void;
}

export class CronTable {
  readonly element: HTMLElement;
  private readonly body = h('tbody');
  private readonly empty = h('p', { className: 'empty' });
  private crons: Cron[] = [];
  /** Cells rewritten every second: relative times, running durations and next runs. */
  private ticking: Array<(now: number) => void> = [];
  private shown: RenderedView['table'] = [];
  private canAct = true;

  constructor(
    private readonly actions: CronTableActions,
    private readonly locale: () => string,
  ) {
    const head = h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...(['colCron', 'colDescription', 'colLastRun', 'colStatus', 'colDuration', 'colNextRun', 'colActions'] as const).map((key) =>
          h('th', { text: t(key), attrs: { scope: 'col' } }),
        ),
      ),
    );
    this.element = h(
      'section',
      { className: 'crons', attrs: { 'aria-labelledby': 'crons-title' } },
      h('h2', { text: t('cronsTitle'), attrs: { id: 'crons-title' } }),
      h('div', { className: 'table-scroll' }, h('table', { className: 'cron-table' }, head, this.body)),
      this.empty,
    );
  }

  /** Number of rows shown. */
  get rows(): number {
    return this.crons.length;
  }

  /** The rows as shown (for the page's `rendered` report). */
  get view(): RenderedView['table'] {
    return this.shown.map((row) => ({ ...row }));
  }

  render(crons: Cron[], connection: DashboardConnection, now: number, canAct: boolean): void {
    this.crons = crons;
    this.canAct = canAct;
    this.ticking = [];
    this.shown = [];
    const rows = crons.map((cron) => this.row(cron, connection));
    replaceChildrenKeepingFocus(this.body, ...rows);
    this.empty.hidden = crons.length > 0;
    setText(this.empty, connection === 'connected' ? t('cronsEmpty') : t('cronsUnavailable'));
    this.tick(now);
  }

  tick(now: number): void {
    for (const update of this.ticking) update(now);
  }

  private row(cron: Cron, connection: DashboardConnection): HTMLTableRowElement {
    const execution = cron.runningExecution ?? cron.lastExecution;
    const running = cron.runningExecution !== null;

    const overlap = cron.overlap ? overlapText(cron.overlap, cron.timezone, overlapWords) : undefined;
    const shown = { cronName: cron.name, duration: '', nextRun: '', execute: false, overlap: overlap ?? '', skipped24h: cron.skippedTicks24h ?? 0 };
    this.shown.push(shown);
    const locale = this.locale();
    const name = h(
      'th',
      { attrs: { scope: 'row' } },
      h('span', { className: 'cron-name', text: cron.name }),
      h('span', { className: 'schedule', text: describeSchedule(cron.schedule, cron.timezone, locale), attrs: { title: `${cron.schedule} (${cron.timezone})` } }),
    );
    if (overlap && cron.overlap) {
      name.append(h('span', { className: 'overlap', text: `⚠ ${overlap}`, attrs: { title: t('overlapTitle', cron.overlap.ticksSkipped, cron.overlap.ticksConsidered) } }));
    }
    if (shown.skipped24h > 0) name.append(h('span', { className: 'badge skipped', text: t('skipped24h', formatNumber(shown.skipped24h, locale)), attrs: { title: t('skipped24hTitle') } }));

    const lastRun = h('td', { className: 'last-run' });
    if (execution) {
      const startedAt = Date.parse(execution.startedAt);
      lastRun.title = formatDateTime(startedAt, this.locale());
      this.ticking.push((now) => setText(lastRun, formatRelative(Math.min(startedAt, now), now, this.locale())));
    } else {
      lastRun.textContent = t('never');
    }

    const status = h('td', { className: 'status' });
    if (execution) {
      status.append(h('span', { className: `badge status-${execution.status}`, text: statusLabel(execution.status), attrs: execution.errorMessage ? { title: execution.errorMessage } : {} }));
      if (execution.stuck) status.append(h('span', { className: 'badge stuck', text: t('stuck') }));
    }

    const duration = h('td', { className: 'duration' });
    if (execution)
      this.ticking.push((now) => {
        shown.duration = formatDuration(runDurationMs(execution, now) ?? NaN, this.locale());
        setText(duration, shown.duration);
      });

    const next = h('td', { className: 'next-run' });
    if (!cron.enabled) next.append(h('span', { className: 'badge muted', text: t('disabled') }));
    else if (cron.paused) next.append(h('span', { className: 'badge paused', text: t('paused') }));
    else if (cron.nextRunAt || cron.schedule) {
      // The shared definition: once the server's next run has passed, the following tick shows at once.
      this.ticking.push((now) => {
        const at = nextRunAt(cron, now);
        next.title = at !== undefined ? formatDateTime(at, this.locale()) : '';
        shown.nextRun = at !== undefined ? formatRelative(at, now, this.locale()) : '–';
        setText(next, shown.nextRun);
      });
    } else next.textContent = '–';

    const offline = connection !== 'connected';
    const blocked = running || offline;
    // aria-disabled rather than disabled: the button keeps keyboard focus when a run starts under it.
    const execute = h('button', {
      className: 'execute',
      text: t('execute'),
      attrs: {
        'aria-label': t('executeLabel', cron.name),
        'aria-disabled': blocked ? 'true' : undefined,
        title: running ? t('executeRunning', cron.name) : offline ? t('executeOffline') : t('executeLabel', cron.name),
        'data-focus-key': `execute:${cron.name}`,
      },
      on: { click: () => !blocked && this.actions.trigger(cron.name) },
    });
    // A viewer is offered no Execute button at all (the server would refuse it).
    shown.execute = this.canAct;
    const actions = h('td', { className: 'actions' }, ...(this.canAct ? [execute] : []));
    if (execution) {
      actions.append(
        h('button', {
          className: 'secondary',
          text: t('showLogs'),
          attrs: { 'aria-label': t('showLogsLabel', cron.name, formatDateTime(Date.parse(execution.startedAt), this.locale())), 'data-focus-key': `logs:${cron.name}` },
          on: { click: () => this.actions.showLogs(execution.id) },
        }),
      );
    }

    const row = h('tr', { attrs: { 'data-cron': cron.name } }, name, h('td', { className: 'description', text: cron.description }), lastRun, status, duration, next, actions);
    row.classList.toggle('running', running);
    row.classList.toggle('paused', cron.paused);
    return row;
  }
}
