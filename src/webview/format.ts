// Durations, times and statuses as the dashboard prints them: the shared Intl formats (the same as the tree
// and the status bar), in the display language the extension sends.
import type { ExecutionStatus } from '../shared/api';
import { t, type StringKey } from './strings';

export { formatDateTime, formatDay, formatDuration, formatDurationTick, formatNumber, formatRelative, formatTime, formatTimeLeft } from '../shared/format';

const STATUS_KEYS: Record<ExecutionStatus, StringKey> = {
  completed: 'statusCompleted',
  running: 'statusRunning',
  failed: 'statusFailed',
  cancelled: 'statusCancelled',
};

/** A status as the operator reads it. */
export function statusLabel(status: ExecutionStatus): string {
  return t(STATUS_KEYS[status]);
}
