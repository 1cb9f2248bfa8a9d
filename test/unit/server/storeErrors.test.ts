// A store's refusal of what was written is data, never an outage; an unreachable store is transient.
import { strict as assert } from 'node:assert';
import { classifyStoreError, isDuplicate } from '../../../src/server/storeErrors';

const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('storeErrors', () => {
  it('PostgreSQL data exceptions (class 22) and constraint violations (23) are data', () => {
    for (const code of ['22021', '22P05', '22001', '23505', '23502']) assert.equal(classifyStoreError(coded(code)), 'data', code);
  });

  it('SQLite constraint, mismatch and too-big are data', () => {
    for (const code of ['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG', 'SQLITE_CONSTRAINT']) assert.equal(classifyStoreError(coded(code)), 'data', code);
  });

  it('connections refused or reset, 08xxx, 57P0x, SQLITE_BUSY and IOERR are transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', '08006', '08001', '57P01', '57P03', 'SQLITE_BUSY', 'SQLITE_IOERR_WRITE', '40001']) assert.equal(classifyStoreError(coded(code)), 'transient', code);
    assert.equal(classifyStoreError(new Error('Connection terminated unexpectedly')), 'transient');
    assert.equal(classifyStoreError(new Error('Query read timeout')), 'transient');
  });

  it('a connection left in a failed or open transaction (25P02, 25001) is transient: the lines are kept, not replaced by notes', () => {
    assert.equal(classifyStoreError(coded('25P02', 'current transaction is aborted, commands ignored until end of transaction block')), 'transient');
    assert.equal(classifyStoreError(coded('25001', 'SET TRANSACTION ISOLATION LEVEL must be called before any query')), 'transient');
  });

  it('what it does not know is unknown; messages of data errors without a code are data', () => {
    assert.equal(classifyStoreError(new TypeError('x is not a function')), 'unknown');
    assert.equal(classifyStoreError('boom'), 'unknown');
    assert.equal(classifyStoreError(new Error('invalid byte sequence for encoding "UTF8": 0x00')), 'data');
  });

  it('a unique violation is a duplicate', () => {
    assert.equal(isDuplicate(coded('23505')), true);
    assert.equal(isDuplicate(coded('SQLITE_CONSTRAINT_PRIMARYKEY')), true);
    assert.equal(isDuplicate(coded('22021')), false);
  });
});
