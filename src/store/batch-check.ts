/**
 * Checks both backends run before they touch the database, so a batch or a sealer result
 * that breaks the contract fails the same way on SQLite and PostgreSQL.
 *
 * Misuse of the API (a version that does not follow expectedVersion, a negative limit) is a
 * TypeError: it is a bug in the caller, not a conflict with stored state.
 */
import { LabkluisError } from '../kernel/index.js';
import type { AuditHead, AuditRow, AuditSealer, ResourceQuery, WriteBatch } from './types.js';

export function checkBatch(batch: WriteBatch): void {
  const persons = new Set<string>();
  for (const { row, expectedVersion } of batch.persons) {
    checkVersion(row.version, expectedVersion);
    const key = JSON.stringify([row.tenant, row.pseudonym]);
    // Two writes to one key in one batch would be applied in order by SQLite but from one
    // snapshot by PostgreSQL; refusing them keeps the backends alike.
    if (persons.has(key)) throw conflictError('the batch writes one person twice');
    persons.add(key);
  }
  const resources = new Set<string>();
  for (const { row, expectedVersion } of batch.resources) {
    checkVersion(row.version, expectedVersion);
    const key = JSON.stringify([row.tenant, row.type, row.id]);
    if (resources.has(key)) throw conflictError('the batch writes one resource twice');
    resources.add(key);
  }
}

function checkVersion(version: number, expectedVersion: number | null): void {
  if (!Number.isSafeInteger(version)) throw new TypeError('version must be an integer');
  // A create starts history at 1, so "must not exist yet" is enforced by the primary key.
  const wanted = expectedVersion === null ? 1 : expectedVersion + 1;
  if (version !== wanted) throw new TypeError('row.version must be expectedVersion + 1 (or 1 for a create)');
}

export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError('limit must be a non-negative integer');
}

export function checkResourceQuery(query: ResourceQuery): void {
  checkLimit(query.limit);
  if (query.afterPos !== undefined && !Number.isSafeInteger(query.afterPos)) {
    throw new TypeError('afterPos must be an integer');
  }
}

/**
 * Calls the sealer with the locked head and verifies that what it returns extends the log
 * exactly: seq head.size, head.size+1, ... and a new head of the matching size. A sealer
 * error propagates unchanged so the caller sees the audit module's own code.
 */
export function runSealer(seal: AuditSealer, head: AuditHead): { rows: readonly AuditRow[]; head: AuditHead } {
  const out = seal(head);
  out.rows.forEach((row, i) => {
    if (row.seq !== head.size + i) throw integrityError();
  });
  if (out.head.size !== head.size + out.rows.length) throw integrityError();
  return out;
}

/** Each pseudonym once per entry: the patient index has one row per (pseudonym, seq). */
export function distinctPatients(row: AuditRow): string[] {
  return [...new Set(row.patients)];
}

function integrityError(): LabkluisError {
  return new LabkluisError('ERR_INTEGRITY', 'audit sealer output does not continue the log head');
}

export function conflictError(message: string): LabkluisError {
  return new LabkluisError('ERR_CONFLICT', message);
}

/**
 * Backend failures say which backend and which driver code, never SQL text or values:
 * driver messages can quote key values (a blind-index token, a pseudonym).
 */
export function storeError(backend: 'sqlite' | 'postgres', driverCode: unknown): LabkluisError {
  const code = typeof driverCode === 'string' && /^[A-Z0-9_]{1,40}$/.test(driverCode) ? ` (${driverCode})` : '';
  return new LabkluisError('ERR_STORE', `${backend} store failed${code}`);
}
