// The one place that says which codicon and theme colour stand for a run's or a cron's state: the tree, the
// quick picks and the status bar all take theirs from here. No vscode import (unit-tested).
import type { Cron, Execution } from '../shared/api';

/** A codicon id and a theme colour id; the tree turns them into ThemeIcon + ThemeColor. */
export interface IconChoice {
  id: string;
  color: string | undefined;
}

export function executionIcon(execution: Pick<Execution, 'status' | 'stuck'>): IconChoice {
  switch (execution.status) {
    case 'running':
      return execution.stuck ? { id: 'watch', color: 'list.warningForeground' } : { id: 'sync~spin', color: 'charts.blue' };
    case 'completed':
      return { id: 'pass', color: 'testing.iconPassed' };
    case 'failed':
      return { id: 'error', color: 'testing.iconFailed' };
    case 'cancelled':
      return { id: 'circle-slash', color: 'disabledForeground' };
  }
}

/** A running run shows first; a paused schedule shows its pause whatever the last outcome; else the last run's outcome. */
export function cronIcon(cron: Pick<Cron, 'paused' | 'enabled' | 'lastExecution' | 'runningExecution'>): IconChoice {
  if (cron.runningExecution) return executionIcon(cron.runningExecution);
  if (cron.paused) return { id: 'debug-pause', color: 'list.warningForeground' };
  if (cron.lastExecution) return executionIcon(cron.lastExecution);
  return { id: 'circle-outline', color: 'descriptionForeground' };
}

/** The icon as `$(id)` text, for quick picks and labels. */
export function codicon(choice: IconChoice): string {
  return `$(${choice.id})`;
}
