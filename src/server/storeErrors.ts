// Tells a write the store refused because of what was written (retrying cannot help) from a store that is
// unreachable for now (retrying will). Covers PostgreSQL (SQLSTATE), SQLite (better-sqlite3 codes) and
// the network errors of a connection.

export type StoreErrorKind = 'data' | 'transient' | 'unknown';

const TRANSIENT_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// 25P02 (in failed transaction) and 25001 (active transaction): the state of a connection, not what was
// written; another attempt runs on a sound connection.
const TRANSIENT_SQLSTATE = new Set(['40001', '40P01', '55P03', '57014', '25P02', '25001']);
const TRANSIENT_MESSAGE = /connection (terminated|ended|closed|refused|reset)|client has encountered a connection error|database is locked|Connection terminated|timeout exceeded when trying to connect|query read timeout|timed? ?out|the database system is (starting up|shutting down)/i;
const DATA_MESSAGE = /invalid byte sequence|unsupported Unicode escape|string or blob too big|datatype mismatch|constraint failed|value too long|out of range/i;

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyStoreError(error: unknown): StoreErrorKind {
  const code = codeOf(error);
  if (code !== undefined) {
    if (TRANSIENT_NETWORK.has(code)) return 'transient';
    if (code.startsWith('SQLITE_')) {
      if (/^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code)) return 'data';
      if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL|NOMEM)/.test(code)) return 'transient';
      return 'unknown';
    }
    if (/^[0-9A-Z]{5}$/.test(code)) {
      // SQLSTATE: class 22 data exception, 23 integrity constraint violation; 08 connection, 53 resources,
      // 57P0x the server going away.
      if (code.startsWith('22') || code.startsWith('23')) return 'data';
      if (code.startsWith('08') || code.startsWith('53') || code.startsWith('57P0') || TRANSIENT_SQLSTATE.has(code)) return 'transient';
      return 'unknown';
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  if (TRANSIENT_MESSAGE.test(message)) return 'transient';
  if (DATA_MESSAGE.test(message)) return 'data';
  return 'unknown';
}

/** A unique violation: on a log append it means the line is already stored (an earlier reply was lost). */
export function isDuplicate(error: unknown): boolean {
  const code = codeOf(error);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
