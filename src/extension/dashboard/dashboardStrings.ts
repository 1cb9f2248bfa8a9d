// The dashboard's strings in the display language: each English string of the shared table goes through the
// extension's translator (vscode.l10n.t, whose key is the English text, `{0}` placeholders kept for the page).
import { ENGLISH_STRINGS, type DashboardStringKey } from '../../shared/dashboardStrings';

/** `config.strings` for the page: every key of ENGLISH_STRINGS with `translate(english)`. */
export function translateDashboardStrings(translate: (english: string) => string): Record<DashboardStringKey, string> {
  const strings = {} as Record<DashboardStringKey, string>;
  for (const key of Object.keys(ENGLISH_STRINGS) as DashboardStringKey[]) strings[key] = translate(ENGLISH_STRINGS[key]);
  return strings;
}
