// The four KPI cards of the guide: executions in 24 h, running, failures in 24 h, next execution (ticking).
import type { Cron, Stats } from '../shared/api';
import { nextScheduledRun } from '../shared/timing';
import { h, setText } from './dom';
import { formatDateTime, formatNumber, formatTime, formatTimeLeft } from './format';
import { t, type StringKey } from './strings';

interface Card {
  root: HTMLElement;
  value: HTMLElement;
  note: HTMLElement;
}

function card(kind: string, label: StringKey): Card {
  const value = h('span', { className: 'kpi-value', text: t('kpiUnknown') });
  const note = h('span', { className: 'kpi-note' });
  const root = h('div', { className: `kpi kpi-${kind}`, attrs: { role: 'group', 'aria-label': t(label) } }, h('span', { className: 'kpi-label', text: t(label) }), value, note);
  return { root, value, note };
}

export class KpiCards {
  readonly element: HTMLElement;
  private readonly executions = card('executions', 'kpiExecutions24h');
  private readonly running = card('running', 'kpiRunning');
  private readonly failures = card('failures', 'kpiFailures24h');
  private readonly next = card('next', 'kpiNextExecution');
  private stats: Stats | null = null;
  private crons: readonly Cron[] = [];

  constructor(private readonly locale: () => string) {
    this.element = h('section', { className: 'kpis', attrs: { 'aria-label': t('kpisLabel') } }, this.executions.root, this.running.root, this.failures.root, this.next.root);
    // The countdown is read out when focused, not every second.
    this.next.value.setAttribute('aria-live', 'off');
  }

  render(stats: Stats | null, crons: readonly Cron[], now: number): void {
    this.stats = stats;
    this.crons = crons;
    const unknown = t('kpiUnknown');
    const locale = this.locale();
    setText(this.executions.value, stats ? formatNumber(stats.executions24h, locale) : unknown);
    setText(this.executions.note, stats ? t('kpiExecutionsNote') : '');
    setText(this.running.value, stats ? formatNumber(crons.length ? crons.filter((cron) => cron.runningExecution).length : stats.running, locale) : unknown);
    setText(this.running.note, stats ? t(stats.running > 0 ? 'kpiRunningSome' : 'kpiRunningNone') : '');
    this.running.root.classList.toggle('active', (stats?.running ?? 0) > 0);
    setText(this.failures.value, stats ? formatNumber(stats.failures24h, locale) : unknown);
    setText(this.failures.note, stats ? t(stats.failures24h > 0 ? 'kpiFailuresSome' : 'kpiFailuresNone') : '');
    this.failures.root.classList.toggle('alert', (stats?.failures24h ?? 0) > 0);
    this.tick(now);
  }

  /** Every second: the countdown to the next scheduled run (the shared definition the tree and status bar use). */
  tick(now: number): void {
    const known = nextScheduledRun(this.crons, now);
    const given = this.stats?.nextExecution;
    const next = known ? { cronName: known.cronName, at: new Date(known.at).toISOString() } : this.crons.length === 0 ? given : null;
    if (!this.stats) {
      setText(this.next.value, t('kpiUnknown'));
      setText(this.next.note, '');
      return;
    }
    if (!next) {
      setText(this.next.value, t('kpiUnknown'));
      setText(this.next.note, t('kpiNoneScheduled'));
      return;
    }
    const at = Date.parse(next.at);
    const left = at - now;
    setText(this.next.value, left > 0 ? t('inTime', formatTimeLeft(left, this.locale())) : t('kpiDueNow'));
    // Past a day away the time alone would read as today's.
    const when = left > 20 * 3_600_000 ? formatDateTime(at, this.locale()) : formatTime(at, this.locale());
    setText(this.next.note, `${next.cronName} · ${when}`);
  }
}
