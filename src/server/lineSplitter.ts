// Splits a byte stream into lines without ever holding more than one capped line: a line longer than
// `maxLineBytes` keeps its start and its end, and says how many bytes were cut between them. Bytes that
// are not UTF-8, NUL and lone surrogates are replaced, so every line is text any store can hold.

const NEWLINE = 0x0a;
/** Room kept for the " […] " marker saying how much was cut. */
const MARKER_RESERVE = 100;

/** Text a store can hold: NUL (PostgreSQL refuses it) and lone surrogates become U+FFFD. */
export function storableText(text: string): string {
  return text.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** The longest start of `text` that fits in `maxBytes` of UTF-8, never splitting a character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let end = Buffer.from(text).subarray(0, maxBytes).toString('utf8').length;
  // A character cut in two decodes as U+FFFD at the end: drop it.
  let prefix = text.slice(0, end);
  while (Buffer.byteLength(prefix) > maxBytes && end > 0) prefix = text.slice(0, --end);
  if (/[\uD800-\uDBFF]$/.test(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Index of the first byte of a character at or before `index` (skips UTF-8 continuation bytes). */
function charStart(bytes: Buffer, index: number): number {
  let at = Math.min(index, bytes.length);
  while (at > 0 && at < bytes.length && (bytes[at] & 0xc0) === 0x80) at--;
  return at;
}

function decode(bytes: Buffer): string {
  return storableText(decoder.decode(bytes));
}

export function cutMarker(cutBytes: number): string {
  return ` […${cutBytes} bytes cut by cron-ops: line longer than the cap…] `;
}

export class LineSplitter {
  private head: Buffer;
  private headLength = 0;
  /** The last bytes of an overlong line: its end (a result, an error) usually matters. */
  private tail: Buffer = Buffer.alloc(0);
  private overflow = 0;
  private readonly tailKeep: number;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (text: string, cutBytes: number) => void,
  ) {
    this.head = Buffer.alloc(maxLineBytes);
    this.tailKeep = Math.min(1024, Math.floor(maxLineBytes / 8));
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      this.take(chunk, start, end);
      if (newline === -1) return;
      this.emit(true);
      start = newline + 1;
    }
  }

  /** The stream ended: a last line without a newline is a line too. */
  end(): void {
    if (this.headLength > 0 || this.overflow > 0) this.emit(false);
  }

  private take(chunk: Buffer, start: number, end: number): void {
    const room = this.maxLineBytes - this.headLength;
    const intoHead = Math.min(room, end - start);
    if (intoHead > 0) {
      chunk.copy(this.head, this.headLength, start, start + intoHead);
      this.headLength += intoHead;
    }
    const rest = end - start - intoHead;
    if (rest <= 0) return;
    this.overflow += rest;
    const piece = chunk.subarray(end - Math.min(rest, this.tailKeep), end);
    this.tail = piece.length >= this.tailKeep ? Buffer.from(piece) : Buffer.concat([this.tail, piece]).subarray(-this.tailKeep);
  }

  private emit(endedByNewline: boolean): void {
    const head = this.head.subarray(0, this.headLength);
    const overflow = this.overflow;
    const tail = this.tail;
    this.headLength = 0;
    this.overflow = 0;
    this.tail = Buffer.alloc(0);
    if (overflow === 0) {
      let bytes = head;
      if (endedByNewline && bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
      const text = decode(bytes);
      // Replacement characters take 3 bytes where a bad byte took 1: cut again if the line grew past the cap.
      if (Buffer.byteLength(text) <= this.maxLineBytes) {
        this.onLine(text, 0);
        return;
      }
      const kept = utf8Prefix(text, this.maxLineBytes - MARKER_RESERVE);
      const cut = Buffer.byteLength(text) - Buffer.byteLength(kept);
      this.onLine(kept + cutMarker(cut), cut);
      return;
    }
    const tailText = decode(tail.subarray(skipContinuation(tail)));
    const headBudget = Math.max(0, this.maxLineBytes - MARKER_RESERVE - Buffer.byteLength(tailText));
    const headBytes = head.subarray(0, charStart(head, headBudget));
    const headText = utf8Prefix(decode(headBytes), headBudget);
    const cut = head.length + overflow - Buffer.byteLength(headText) - Buffer.byteLength(tailText);
    this.onLine(headText + cutMarker(cut) + tailText, cut);
  }
}

/** Where the first whole character starts (a tail cut out of a line may begin mid-character). */
function skipContinuation(bytes: Buffer): number {
  let at = 0;
  while (at < bytes.length && (bytes[at] & 0xc0) === 0x80) at++;
  return at;
}
