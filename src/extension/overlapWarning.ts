// What the Crons view's tooltip and the CodeLens say of a cron's overlap forecast and skipped ticks (from
// the server's cron reply), in the display language. Pure: no vscode import.
import type { Cron } from '../shared/api';
import { overlapText } from '../shared/overlapText';
import { english, type Translate } from './format';

/** "p95 6 min 12 s > every 5 min" when the cron's runs will overlap its schedule; undefined otherwise. */
export function overlapWarning(cron: Cron, t: Translate = english): string | undefined {
  return cron.overlap ? overlapText(cron.overlap, cron.timezone, t) : undefined;
}

/** "Runs will overlap: p95 … > every …; 15 of the next 30 ticks would be skipped", for a tooltip. */
export function overlapTooltipLine(cron: Cron, t: Translate = english): string | undefined {
  const warning = overlapWarning(cron, t);
  if (!warning || !cron.overlap) return undefined;
  const { ticksSkipped, ticksConsidered } = cron.overlap;
  return ticksSkipped > 0 ? t('Runs will overlap: {0}; {1} of the next {2} ticks would be skipped', warning, ticksSkipped, ticksConsidered) : t('Runs will overlap: {0}', warning);
}

/** "3 ticks skipped in the last 24 h"; undefined when none (or an older server that does not say). */
export function skippedTicksLine(cron: Cron, t: Translate = english): string | undefined {
  const count = cron.skippedTicks24h ?? 0;
  if (count === 0) return undefined;
  return count === 1 ? t('1 tick skipped in the last 24 h') : t('{0} ticks skipped in the last 24 h', count);
}
