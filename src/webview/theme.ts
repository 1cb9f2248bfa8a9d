// Chart colours from the VS Code theme (the --vscode-* variables on the document), read again on theme change.
import type { ExecutionStatus } from '../shared/api';

export interface ChartTheme {
  status: Record<ExecutionStatus, string>;
  text: string;
  grid: string;
  fontFamily: string;
  fontSize: number;
  tooltipBackground: string;
  tooltipText: string;
  tooltipBorder: string;
  /** Skipped ticks' marks. */
  skipped: string;
}

function variable(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

/** The current theme's colours for the chart. */
export function readChartTheme(): ChartTheme {
  const style = getComputedStyle(document.documentElement);
  return {
    status: {
      completed: variable(style, '--vscode-charts-green', '#89d185'),
      failed: variable(style, '--vscode-charts-red', '#f14c4c'),
      cancelled: variable(style, '--vscode-charts-foreground', '#9d9d9d'),
      running: variable(style, '--vscode-charts-blue', '#3794ff'),
    },
    text: variable(style, '--vscode-descriptionForeground', '#9d9d9d'),
    grid: variable(style, '--vscode-charts-lines', 'rgba(128, 128, 128, 0.35)'),
    fontFamily: variable(style, '--vscode-font-family', 'sans-serif'),
    fontSize: Number.parseFloat(variable(style, '--vscode-font-size', '13')) || 13,
    tooltipBackground: variable(style, '--vscode-editorHoverWidget-background', '#252526'),
    tooltipText: variable(style, '--vscode-editorHoverWidget-foreground', '#cccccc'),
    tooltipBorder: variable(style, '--vscode-editorHoverWidget-border', '#454545'),
    skipped: variable(style, '--vscode-charts-orange', '#d18616'),
  };
}

/** Calls back when VS Code switches theme (it changes the body's class and the variables). */
export function onThemeChange(callback: () => void): void {
  new MutationObserver(callback).observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
}
