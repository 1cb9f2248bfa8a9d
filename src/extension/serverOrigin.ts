// A server URL as a key and as text to show: tokens are kept per origin (scheme, host, port), so a changed
// URL never receives another server's token; credentials written into a URL never reach a message or a log.
// No vscode import (unit-tested).

/** "http://127.0.0.1:9998" for any URL of that server; the text itself when it is not a URL. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url.trim();
  }
}

// "scheme://" then the authority up to its last "@" (the URL parser splits user info from the host at the last
// one, so a password holding an unencoded "@" is covered whole), never past a path, query, fragment or space.
const CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;
// "user:password@" without a well-formed scheme in front ("http//bob:pw@host", "bob:pw@host").
const LOOSE_CREDENTIALS = /(^|[\s"'(<\/])[^\s"'<>()/?#@:]+:[^\s"'<>/?#]*@(?=[^\s@])/g;

/** The URL with any user name and password replaced by "***", for messages and logs. */
export function redactUrl(url: string): string {
  return redactUrls(url);
}

/**
 * Redacts every URL with credentials inside a text (an error message, a log line): the one redaction that
 * every text holding a server URL goes through before a user or the log sees it.
 */
export function redactUrls(text: string): string {
  return text.replace(CREDENTIALS, '$1***@').replace(LOOSE_CREDENTIALS, '$1***@');
}

/**
 * A settings value that is not a usable URL, as a warning may quote it: everything before its last "@" is
 * hidden whatever its shape, since a mistyped URL (no "//", a "/" in the password) escapes the patterns above.
 */
export function redactTyped(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return redactUrls(text);
  const scheme = /^[a-z][a-z0-9+.-]*:?\/\//i.exec(text)?.[0] ?? '';
  return `${scheme}***@${text.slice(at + 1)}`;
}

/** An error as text for a user or the log: its message, any URL in it redacted. Every such text comes from here. */
export function errorText(error: unknown): string {
  return redactUrls(error instanceof Error ? error.message : String(error));
}
