// A cron's schedule in words, in the display language, with the time zone it runs in: "At 08:00 AM (Africa/Tunis)",
// "À 08:00 (Africa/Tunis)", in the display language's hour cycle like every other time shown. The tree's
// tooltip, the dashboard's table and the CodeLens tooltip all say it this way.
import cronstrue from 'cronstrue';
import 'cronstrue/locales/fr';

/** Languages cronstrue is loaded with here; others read English. */
const LOCALES = new Set(['en', 'fr']);

function uses24Hours(locale: string): boolean {
  try {
    const cycle = new Intl.DateTimeFormat(locale, { hour: 'numeric' }).resolvedOptions().hourCycle;
    return cycle === 'h23' || cycle === 'h24';
  } catch {
    return true;
  }
}

/** The schedule in words with its time zone; the expression itself when it cannot be described. */
export function describeSchedule(schedule: string, timezone: string, locale = 'en'): string {
  const language = locale.toLowerCase().split(/[-_]/)[0];
  let text: string;
  try {
    text = cronstrue.toString(schedule, { locale: LOCALES.has(language) ? language : 'en', use24HourTimeFormat: uses24Hours(locale), verbose: false });
  } catch {
    text = schedule;
  }
  return timezone ? `${text} (${timezone})` : text;
}
