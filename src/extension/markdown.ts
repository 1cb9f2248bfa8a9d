// Server text (descriptions, error messages, URLs) inside Markdown tooltips: every character Markdown or theme
// icons could read as syntax becomes an HTML character reference, which renders as itself. Backslash escapes
// are not used, since some hovers showed them literally ("\(ECONNREFUSED\)").

/** `text` as Markdown that renders exactly as `text`. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~$&]/g, (char) => `&#${char.charCodeAt(0)};`).replace(/\n/g, '  \n');
}

/**
 * `text` (a server's name from the settings) where "$(name)" renders as an icon (status bar text, quick pick
 * labels): escaped the way VS Code reads, "\$(check)" shows as the text "$(check)", so a name cannot fake a state.
 */
export function escapeIcons(text: string): string {
  return text.replace(/\$\(/g, '\\$(');
}
