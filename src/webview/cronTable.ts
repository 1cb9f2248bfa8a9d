// The cron table of the guide: name, description, last run, status, duration, next run, and Execute.
import type { Cron, Execution } from '../shared/api';
import type { DashboardConnection } from '../shared/messages';
import { h, replaceChildrenKeepingFocus, setText } from './dom';
import { formatDateTime, formatDuration, formatRelative, statusLabel } from './format';
import { t } from './strings';

export interface CronTableActions {
  trigger(cronName: string): void;
  showLogs(executionId: string): void;
}

/** A run's duration, or for a running one the time elapsed so far. */
function runDuration(execution: Execution, now: number): number | null {
  return execution.status === 'running' ? Math.max(0, now - Date.parse(execution.startedAt)) : execution.durationMs;
}

export class CronTable {
  readonly element: HTMLElement;
  private readonly body = h('tbody');
  private readonly empty = h('p', { className: 'empty' });
  private crons: Cron[] = [];
  /** Cells rewritten every second: relative times and running durations. */
  private ticking: Array<(now: number) => void> = [];

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

  render(crons: Cron[], connection: DashboardConnection, now: number): void {
    this.crons = crons;
    this.ticking = [];
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

    const name = h('th', { attrs: { scope: 'row' } }, h('span', { className: 'cron-name', text: cron.name }), h('span', { className: 'schedule', text: cron.scheduleText || cron.schedule, attrs: { title: `${cron.schedule} (${cron.timezone})` } }));

    const lastRun = h('td', { className: 'last-run' });
    if (execution) {
      const startedAt = Date.parse(execution.startedAt);
      lastRun.title = formatDateTime(startedAt, this.locale());
      this.ticking.push((now) => setText(lastRun, formatRelative(startedAt, now)));
    } else {
      lastRun.textContent = t('never');
    }

    const status = h('td', { className: 'status' });
    if (execution) {
      status.append(h('span', { className: `badge status-${execution.status}`, text: statusLabel(execution.status), attrs: execution.errorMessage ? { title: execution.errorMessage } : {} }));
      if (execution.stuck) status.append(h('span', { className: 'badge stuck', text: t('stuck') }));
    }

    const duration = h('td', { className: 'duration' });
    if (execution) this.ticking.push((now) => setText(duration, formatDuration(runDuration(execution, now) ?? NaN)));

    const next = h('td', { className: 'next-run' });
    if (!cron.enabled) next.append(h('span', { className: 'badge muted', text: t('disabled') }));
    else if (cron.paused) next.append(h('span', { className: 'badge paused', text: t('paused') }));
    else if (cron.nextRunAt) {
      const at = Date.parse(cron.nextRunAt);
      next.title = formatDateTime(at, this.locale());
      this.ticking.push((now) => setText(next, formatRelative(at, now)));
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
    const actions = h('td', { className: 'actions' }, execute);
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
