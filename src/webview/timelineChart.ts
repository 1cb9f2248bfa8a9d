// The 7-day timeline on chart.js: a scatter of runs (x = start time on a linear ms axis, y = duration on a log
// axis), one series per status in the theme's chart colours. Built for 100,000 runs: no parsing (points come
// ready as {x, y}), normalized data, no animation, small points, and dense runs merged per pixel cell by
// timelineData.ts. Everything is drawn on the canvas, so the strict CSP (no inline styles) holds. Zoom and pan
// (wheel, pinch, drag; +, −, arrows and 0 on the focused chart) come from chartjs-plugin-zoom; the server's
// summary buckets (completed runs of a dense range) draw as one mark each, sized by their count; ticks that
// started no run (skipped) draw as small diamonds along the bottom, their reason in the tooltip.
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
import zoomPlugin from 'chartjs-plugin-zoom';
import { EXECUTION_STATUSES, type ExecutionStatus, type SkipReason, type TimelineBucket, type TimelineSkip } from '../shared/api';
import type { TimelineColumns, TimelineRange } from '../shared/messages';
import { formatDateTime, formatDay, formatDuration, formatDurationTick, formatNumber, formatTime, statusLabel } from './format';
import { t } from './strings';
import type { ChartTheme } from './theme';
import { bucketPoints, buildTimeline, durationRangeWith, durationTicks, openingRange, timeTicks, type TimelineData, type TimelinePoint } from './timelineData';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, zoomPlugin);

/** The summary buckets' dataset comes after the four statuses, then the skipped ticks'. */
const BUCKETS = EXECUTION_STATUSES.length;
const SKIPPED = BUCKETS + 1;
const SKIP_REASON_KEYS = { 'already-running': 'skipReasonAlreadyRunning', paused: 'skipReasonPaused', 'server-down': 'skipReasonServerDown' } as const satisfies Record<SkipReason, string>;
/** Zoomed or panned: wait for the gesture to settle before asking the server for that range. */
const ZOOM_SETTLE_MS = 300;

type TimelineChartJs = Chart<'line', TimelinePoint[]>;

/** Drawing order: the rarer, more urgent statuses on top (lower `order` is drawn last). */
const ORDER: Record<ExecutionStatus, number> = { running: 0, failed: 1, cancelled: 2, completed: 3 };

export interface TimelineChartHost {
  showLogs(executionId: string): void;
  locale(): string;
  /** The operator zoomed or panned to this range (null: back to the whole reply). */
  zoomed(range: TimelineRange | null): void;
}

export interface TimelineView {
  columns: TimelineColumns;
  fromMs: number;
  toMs: number;
  /** True when the reply is for a range the operator zoomed to: show exactly that range. */
  zoomed: boolean;
  buckets: TimelineBucket[];
  skipped: TimelineSkip[];
}

export class TimelineChart {
  private readonly chart: TimelineChartJs;
  private view: TimelineView = { columns: { cronNames: [], ids: [], cron: [], status: [], startMs: [], durationMs: [] }, fromMs: 0, toMs: 1, zoomed: false, buckets: [], skipped: [] };
  private data: TimelineData | undefined;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private zoomTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly pulses: HTMLElement,
    private readonly host: TimelineChartHost,
    theme: ChartTheme,
  ) {
    this.chart = new Chart<'line', TimelinePoint[]>(canvas, {
      type: 'line',
      data: { datasets: [...EXECUTION_STATUSES.map((status) => this.dataset(status, [])), this.bucketDataset(), this.skippedDataset()] },
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
            // Days across a week, hours or minutes once zoomed in: ticks on round local times.
            afterBuildTicks: (scale) => {
              scale.ticks = timeTicks(scale.min, scale.max).map((value) => ({ value }));
            },
            ticks: {
              callback: (value, _index, ticks) => {
                const span = ticks.length > 1 ? ticks[ticks.length - 1].value - ticks[0].value : 0;
                return span >= 2 * 86_400_000 ? formatDay(Number(value), this.host.locale()) : formatTime(Number(value), this.host.locale()).replace(/:00(?=\D*$)/, '');
              },
              maxRotation: 0,
              autoSkip: true,
            },
          },
          y: {
            type: 'logarithmic',
            // Round durations (1 s, 30 s, 5 min...) rather than powers of ten in ms.
            afterBuildTicks: (scale) => {
              scale.ticks = durationTicks(scale.min, scale.max).map((value) => ({ value }));
            },
            ticks: { callback: (value) => formatDurationTick(Number(value), this.host.locale()) },
          },
        },
        plugins: {
          zoom: {
            zoom: { wheel: { enabled: true }, pinch: { enabled: true }, mode: 'x', onZoomComplete: () => this.zoomSettled() },
            pan: { enabled: true, mode: 'x', onPanComplete: () => this.zoomSettled() },
            limits: { x: { minRange: 5 * 60_000 } },
          },
          tooltip: {
            displayColors: false,
            callbacks: {
              title: (items) => this.tooltipTitle(items),
              label: (item) => this.tooltipLines(item),
              footer: (items) => (items[0]?.datasetIndex === BUCKETS ? t('bucketZoom') : items[0]?.datasetIndex === SKIPPED ? '' : t('tooltipClick')),
            },
          },
        },
        onClick: (_event, elements) => {
          const first = elements[0];
          if (!first) return;
          if (first.datasetIndex === BUCKETS || first.datasetIndex === SKIPPED) return;
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
    canvas.tabIndex = 0;
    canvas.addEventListener('keydown', (event) => this.key(event));
  }

  /** The x range drawn now (ms). */
  get xRange(): { min: number; max: number } | null {
    const scale = this.chart.scales.x;
    return scale ? { min: scale.min, max: scale.max } : null;
  }

  /** Keyboard zoom and pan on the focused chart: + and − zoom, ← and → pan, 0 goes back to the whole range. */
  private key(event: KeyboardEvent): void {
    const step = (this.chart.chartArea.right - this.chart.chartArea.left) / 4;
    switch (event.key) {
      case '+':
      case '=':
        this.chart.zoom(1.5);
        break;
      case '-':
        this.chart.zoom(1 / 1.5);
        break;
      case 'ArrowLeft':
        this.chart.pan({ x: step }, undefined, 'none');
        break;
      case 'ArrowRight':
        this.chart.pan({ x: -step }, undefined, 'none');
        break;
      case '0':
        this.resetZoom();
        return;
      default:
        return;
    }
    event.preventDefault();
    this.zoomSettled();
  }

  /** Back to the whole reply's range, and tell the extension (it fetches the default range again). */
  resetZoom(): void {
    clearTimeout(this.zoomTimer);
    if (this.view.zoomed) this.host.zoomed(null);
    else this.rebuild();
  }

  private zoomSettled(): void {
    clearTimeout(this.zoomTimer);
    this.zoomTimer = setTimeout(() => {
      const { min, max } = this.chart.scales.x;
      if (Number.isFinite(min) && Number.isFinite(max)) this.host.zoomed({ from: new Date(min).toISOString(), to: new Date(max).toISOString() });
    }, ZOOM_SETTLE_MS);
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
    clearTimeout(this.zoomTimer);
    this.chart.destroy();
  }

  private rebuild(): TimelineData {
    const area = this.chart.chartArea;
    const width = area ? area.right - area.left : this.canvas.clientWidth || 800;
    const height = area ? area.bottom - area.top : this.canvas.clientHeight || 240;
    const { columns, buckets } = this.view;
    // A zoomed reply shows exactly its range; the default one opens on the part of the week that holds runs.
    const range = this.view.zoomed ? { min: this.view.fromMs, max: this.view.toMs } : openingRange(columns.startMs, buckets, this.view.fromMs, this.view.toMs);
    const data = buildTimeline(columns, { fromMs: range.min, toMs: range.max, width, height });
    const { yMin, yMax } = durationRangeWith(data, buckets);
    data.yMin = yMin;
    data.yMax = yMax;
    this.data = data;
    const datasets = this.chart.data.datasets;
    data.series.forEach((series, index) => {
      datasets[index].data = series.points;
      datasets[index].pointRadius = series.status === 'running' ? 4 : data.merged ? 2 : 3;
    });
    datasets[BUCKETS].data = bucketPoints(buckets);
    // Along the bottom of the duration axis: a skipped tick has no duration.
    datasets[SKIPPED].data = this.view.skipped.map((tick, i) => ({ x: Date.parse(tick.tickAt), y: data.yMin, i, n: 1 })).sort((a, b) => a.x - b.x);
    const scales = this.chart.options.scales!;
    // A little room after the end, so that the running runs' marks are not cut by the edge.
    scales.x!.min = range.min;
    scales.x!.max = range.max + (this.view.zoomed ? 0 : (range.max - range.min) * 0.01);
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

  /** Summary buckets: one mark each at the bucket's middle and its p95 duration, bigger for more runs. */
  private bucketDataset(): ChartDataset<'line', TimelinePoint[]> {
    return {
      label: 'buckets',
      data: [],
      showLine: false,
      order: 4,
      pointRadius: (context) => {
        const point = context.raw as TimelinePoint | undefined;
        return point ? Math.min(9, 2 + Math.log10(Math.max(1, point.n)) * 2) : 3;
      },
      pointHoverRadius: 10,
      pointBorderWidth: 1,
      pointHitRadius: 4,
    };
  }

  /** Skipped ticks: small hollow diamonds (as the legend's swatch) on the bottom line, drawn over the runs, not clipped by it. */
  private skippedDataset(): ChartDataset<'line', TimelinePoint[]> {
    return {
      label: 'skipped',
      data: [],
      showLine: false,
      order: -1,
      clip: false,
      pointStyle: 'rectRot',
      pointRadius: 4,
      pointHoverRadius: 6,
      pointBorderWidth: 1.5,
      pointHitRadius: 4,
    };
  }

  private applyTheme(theme: ChartTheme): void {
    Chart.defaults.font.family = theme.fontFamily;
    Chart.defaults.font.size = Math.max(10, theme.fontSize - 1);
    Chart.defaults.color = theme.text;
    const bucketColour = (context: { raw?: unknown }) => {
      const point = context.raw as TimelinePoint | undefined;
      const bucket = point ? this.view.buckets[point.i] : undefined;
      return bucket ? theme.status[bucket.status] : theme.status.completed;
    };
    const bucketDataset = this.chart.data.datasets[BUCKETS];
    bucketDataset.backgroundColor = bucketColour;
    bucketDataset.borderColor = bucketColour;
    bucketDataset.pointBackgroundColor = theme.tooltipBackground;
    bucketDataset.pointBorderColor = bucketColour;
    const skippedDataset = this.chart.data.datasets[SKIPPED];
    skippedDataset.borderColor = theme.skipped;
    skippedDataset.pointBorderColor = theme.skipped;
    skippedDataset.backgroundColor = theme.skipped;
    skippedDataset.pointBackgroundColor = theme.tooltipBackground;
    this.chart.data.datasets.slice(0, BUCKETS).forEach((dataset, index) => {
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
    if (items[0].datasetIndex === BUCKETS) {
      const bucket = this.view.buckets[point.i];
      return bucket ? `${bucket.cronName} — ${statusLabel(bucket.status)}` : '';
    }
    if (items[0].datasetIndex === SKIPPED) {
      const tick = this.view.skipped[point.i];
      return tick ? t('skippedTooltip', tick.cronName) : '';
    }
    const { columns } = this.view;
    return `${columns.cronNames[columns.cron[point.i]]} — ${statusLabel(EXECUTION_STATUSES[columns.status[point.i]])}`;
  }

  private tooltipLines(item: TooltipItem<'line'>): string[] {
    const point = item.raw as TimelinePoint;
    const locale = this.host.locale();
    if (item.datasetIndex === BUCKETS) {
      const bucket = this.view.buckets[point.i];
      if (!bucket) return [];
      return [
        t('bucketRuns', formatNumber(bucket.count, locale), formatDateTime(Date.parse(bucket.start), locale), formatDateTime(Date.parse(bucket.end), locale)),
        t('bucketDurations', formatDuration(bucket.p95DurationMs, locale), formatDuration(bucket.maxDurationMs, locale)),
      ];
    }
    if (item.datasetIndex === SKIPPED) {
      const tick = this.view.skipped[point.i];
      return tick ? [t('skippedDue', formatDateTime(Date.parse(tick.tickAt), locale)), t(SKIP_REASON_KEYS[tick.reason])] : [];
    }
    const { columns } = this.view;
    const running = EXECUTION_STATUSES[columns.status[point.i]] === 'running';
    const duration = formatDuration(columns.durationMs[point.i], locale);
    const lines = [t('tooltipStarted', formatDateTime(columns.startMs[point.i], this.host.locale())), running ? t('tooltipRunningFor', duration) : t('tooltipDuration', duration)];
    if (point.n > 1) lines.push(t('tooltipMore', formatNumber(point.n - 1, locale)));
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
