// The 7-day timeline on chart.js: a scatter of runs (x = start time on a linear ms axis, y = duration on a log
// axis), one series per status in the theme's chart colours. Built for 100,000 runs: no parsing (points come
// ready as {x, y}), normalized data, no animation, small points, and dense runs merged per pixel cell by
// timelineData.ts. Everything is drawn on the canvas, so the strict CSP (no inline styles) holds.
import {
  Chart,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
  type TooltipItem,
} from 'chart.js';
import { EXECUTION_STATUSES, type ExecutionStatus } from '../shared/api';
import type { TimelineColumns } from '../shared/messages';
import { formatDateTime, formatDay, formatDuration, formatDurationTick, statusLabel } from './format';
import { t } from './strings';
import type { ChartTheme } from './theme';
import { buildTimeline, dayTicks, durationTicks, type TimelineData, type TimelinePoint } from './timelineData';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip);

type TimelineChartJs = Chart<'line', TimelinePoint[]>;

/** Drawing order: the rarer, more urgent statuses on top (lower `order` is drawn last). */
const ORDER: Record<ExecutionStatus, number> = { running: 0, failed: 1, cancelled: 2, completed: 3 };

export interface TimelineChartHost {
  showLogs(executionId: string): void;
  locale(): string;
}

export interface TimelineView {
  columns: TimelineColumns;
  fromMs: number;
  toMs: number;
}

export class TimelineChart {
  private readonly chart: TimelineChartJs;
  private view: TimelineView = { columns: { cronNames: [], ids: [], cron: [], status: [], startMs: [], durationMs: [] }, fromMs: 0, toMs: 1 };
  private data: TimelineData | undefined;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly pulses: HTMLElement,
    private readonly host: TimelineChartHost,
    theme: ChartTheme,
  ) {
    this.chart = new Chart<'line', TimelinePoint[]>(canvas, {
      type: 'line',
      data: { datasets: EXECUTION_STATUSES.map((status) => this.dataset(status, [])) },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        events: ['mousemove', 'mouseout', 'click'],
        interaction: { mode: 'nearest', intersect: true, axis: 'xy' },
        scales: {
          x: {
            type: 'linear',
            afterBuildTicks: (scale) => {
              scale.ticks = dayTicks(this.view.fromMs, this.view.toMs).map((value) => ({ value }));
            },
            ticks: { callback: (value) => formatDay(Number(value), this.host.locale()), maxRotation: 0, autoSkip: true },
          },
          y: {
            type: 'logarithmic',
            // Round durations (1 s, 30 s, 5 min...) rather than powers of ten in ms.
            afterBuildTicks: (scale) => {
              scale.ticks = durationTicks(scale.min, scale.max).map((value) => ({ value }));
            },
            ticks: { callback: (value) => formatDurationTick(Number(value)) },
          },
        },
        plugins: {
          tooltip: {
            displayColors: false,
            callbacks: {
              title: (items) => this.tooltipTitle(items),
              label: (item) => this.tooltipLines(item),
              footer: () => t('tooltipClick'),
            },
          },
        },
        onClick: (_event, elements) => {
          const first = elements[0];
          if (!first) return;
          const point = this.chart.data.datasets[first.datasetIndex]?.data[first.index];
          const id = point ? this.view.columns.ids[point.i] : undefined;
          if (id) this.host.showLogs(id);
        },
        onHover: (_event, elements) => {
          this.canvas.style.cursor = elements.length ? 'pointer' : 'default';
        },
        onResize: () => this.scheduleRebuild(),
      },
      plugins: [this.pulsePlugin()],
    });
    this.applyTheme(theme);
  }

  /** Draws a timeline; returns what was drawn. */
  render(view: TimelineView): TimelineData {
    this.view = view;
    return this.rebuild();
  }

  setTheme(theme: ChartTheme): void {
    this.applyTheme(theme);
    this.chart.update('none');
  }

  destroy(): void {
    clearTimeout(this.resizeTimer);
    this.chart.destroy();
  }

  private rebuild(): TimelineData {
    const area = this.chart.chartArea;
    const width = area ? area.right - area.left : this.canvas.clientWidth || 800;
    const height = area ? area.bottom - area.top : this.canvas.clientHeight || 240;
    const data = buildTimeline(this.view.columns, { fromMs: this.view.fromMs, toMs: this.view.toMs, width, height });
    this.data = data;
    const datasets = this.chart.data.datasets;
    data.series.forEach((series, index) => {
      datasets[index].data = series.points;
      datasets[index].pointRadius = series.status === 'running' ? 4 : data.merged ? 2 : 3;
    });
    const scales = this.chart.options.scales!;
    // A little room after "now", so that the running runs' marks are not cut by the edge.
    scales.x!.min = this.view.fromMs;
    scales.x!.max = this.view.toMs + (this.view.toMs - this.view.fromMs) * 0.01;
    scales.y!.min = data.yMin;
    scales.y!.max = data.yMax;
    this.chart.update('none');
    return data;
  }

  /** Merged cells depend on the plot's size: rebuild after a resize settles. */
  private scheduleRebuild(): void {
    if (!this.data?.merged) return;
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => this.rebuild(), 200);
  }

  private dataset(status: ExecutionStatus, points: TimelinePoint[]): ChartDataset<'line', TimelinePoint[]> {
    return {
      label: status,
      data: points,
      showLine: false,
      order: ORDER[status],
      pointRadius: 3,
      pointHoverRadius: 6,
      pointBorderWidth: status === 'running' ? 2 : 0,
      pointHitRadius: 3,
    };
  }

  private applyTheme(theme: ChartTheme): void {
    Chart.defaults.font.family = theme.fontFamily;
    Chart.defaults.font.size = Math.max(10, theme.fontSize - 1);
    Chart.defaults.color = theme.text;
    this.chart.data.datasets.forEach((dataset, index) => {
      const colour = theme.status[EXECUTION_STATUSES[index]];
      dataset.backgroundColor = colour;
      dataset.borderColor = colour;
      dataset.pointBackgroundColor = EXECUTION_STATUSES[index] === 'running' ? theme.tooltipBackground : colour;
      dataset.pointBorderColor = colour;
    });
    const scales = this.chart.options.scales!;
    for (const axis of [scales.x!, scales.y!]) {
      axis.grid = { color: theme.grid };
      axis.border = { color: theme.grid };
      axis.ticks!.color = theme.text;
    }
    const tooltip = this.chart.options.plugins!.tooltip!;
    tooltip.backgroundColor = theme.tooltipBackground;
    tooltip.titleColor = theme.tooltipText;
    tooltip.bodyColor = theme.tooltipText;
    tooltip.footerColor = theme.text;
    tooltip.borderColor = theme.tooltipBorder;
    tooltip.borderWidth = 1;
  }

  private tooltipTitle(items: TooltipItem<'line'>[]): string {
    const point = items[0]?.raw as TimelinePoint | undefined;
    if (!point) return '';
    const { columns } = this.view;
    return `${columns.cronNames[columns.cron[point.i]]} — ${statusLabel(EXECUTION_STATUSES[columns.status[point.i]])}`;
  }

  private tooltipLines(item: TooltipItem<'line'>): string[] {
    const point = item.raw as TimelinePoint;
    const { columns } = this.view;
    const running = EXECUTION_STATUSES[columns.status[point.i]] === 'running';
    const duration = formatDuration(columns.durationMs[point.i]);
    const lines = [t('tooltipStarted', formatDateTime(columns.startMs[point.i], this.host.locale())), running ? t('tooltipRunningFor', duration) : t('tooltipDuration', duration)];
    if (point.n > 1) lines.push(t('tooltipMore', point.n - 1));
    return lines;
  }

  /** Running runs get a pulsing ring: a few absolutely placed elements over the canvas (CSS animation). */
  private pulsePlugin(): Plugin<'line'> {
    return {
      id: 'cronOpsRunningPulse',
      afterDatasetsDraw: (chart) => {
        const index = EXECUTION_STATUSES.indexOf('running');
        const meta = chart.getDatasetMeta(index);
        const points = meta.hidden ? [] : meta.data;
        while (this.pulses.childElementCount > points.length) this.pulses.lastElementChild!.remove();
        while (this.pulses.childElementCount < points.length) this.pulses.append(document.createElement('span'));
        points.forEach((element, i) => {
          const pulse = this.pulses.children[i] as HTMLElement;
          // CSSOM, not a style attribute: allowed under a CSP without 'unsafe-inline'.
          pulse.style.left = `${element.x}px`;
          pulse.style.top = `${element.y}px`;
        });
      },
    };
  }
}
