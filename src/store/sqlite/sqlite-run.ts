/**
 * Driver calls and their errors for the SQLite backend: key violations become ERR_CONFLICT,
 * other SQLite errors ERR_STORE without the driver message (it can quote values).
 */
import Database, { type Statement } from 'better-sqlite3';
import { LabkluisError } from '../../kernel/index.js';
import { conflictError, storeError } from '../batch-check.js';
import type { Raw } from './sqlite-rows.js';

const CONFLICT_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_FOREIGNKEY']);

/** Runs driver work and translates driver errors; anything else (a LabkluisError, misuse) passes. */
export function run<T>(work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof Database.SqliteError) {
      if (CONFLICT_CODES.has(e.code)) throw conflictError('a record with this key already exists');
      throw storeError('sqlite', e.code);
    }
    if (e instanceof TypeError && /database connection is not open/.test(e.message)) {
      throw storeError('sqlite', 'CLOSED');
    }
    throw e;
  }
}

export function one<T>(raw: unknown, map: (r: Raw) => T): T | null {
  return raw === undefined ? null : map(raw as Raw);
}

export function mustChange(changes: number): void {
  if (changes === 0) throw new LabkluisError('ERR_NOT_FOUND', 'no such record');
}

/** A store part's fixed statements, prepared on first use (after migration has made their tables). */
export function lazyStatements<K extends string>(db: Database.Database, sql: Readonly<Record<K, string>>): () => Readonly<Record<K, Statement>> {
  let prepared: Readonly<Record<K, Statement>> | null = null;
  return () => (prepared ??= run(() => Object.fromEntries(Object.entries<string>(sql).map(([k, text]) => [k, db.prepare(text)])) as Record<K, Statement>));
}
