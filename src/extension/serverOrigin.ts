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

/** The URL with any user name and password replaced by "***", for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
}

/** Redacts every URL with credentials inside a text (an error message, a log line). */
export function redactUrls(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1***@');
}
