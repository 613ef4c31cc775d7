/**
 * Database rows of the exports part to the contract's row types, and the argument checks both
 * backends run before they touch the database. The scope is JSON text in both backends (it is
 * read whole and never queried); the result's columns are all set or all null.
 */
import { buf, str, strOrNull, type DbRow } from './row-mapping.js';
import type { ExportJobRow, ExportResult, ExportScope } from './export-types.js';

/** The most jobs one listJobs call returns: a screen of jobs, not a report. */
export const MAX_EXPORT_JOBS = 1000;
/** The most persons one listPersons call returns. */
export const MAX_EXPORT_PERSONS = 1000;
/** The largest chunk of ciphertext one row holds (callers use less; see src/export). */
export const MAX_EXPORT_CHUNK_BYTES = 16 * 1024 * 1024;

export function toExportJob(r: DbRow): ExportJobRow {
  const readyAt = strOrNull(r.ready_at);
  const result: ExportResult | null = readyAt === null ? null : {
    records: Number(r.records), patients: Number(r.patients), bytes: Number(r.bytes), sha256: str(r.sha256),
    watermark: str(r.watermark), readyAt, downloadExpiresAt: str(r.download_expires_at),
  };
  const scope = JSON.parse(str(r.scope)) as ExportScope;
  return {
    id: str(r.id), tenant: str(r.tenant), status: str(r.status) as ExportJobRow['status'], view: str(r.export_view) as ExportJobRow['view'],
    scope: Object.freeze({ ...scope, types: Object.freeze([...scope.types]) }),
    recipient: str(r.recipient), recipientLabel: str(r.recipient_label), purposeOfUse: str(r.purpose_of_use), reason: buf(r.reason),
    requestedBy: str(r.requested_by), requestedRole: str(r.requested_role), requestedAt: str(r.requested_at), expiresAt: str(r.expires_at),
    decidedBy: strOrNull(r.decided_by), decidedAt: strOrNull(r.decided_at), runStartedAt: strOrNull(r.run_started_at), result,
    closedBy: strOrNull(r.closed_by), closedAt: strOrNull(r.closed_at), failure: strOrNull(r.failure),
  };
}

/** The insert's values, in column order (see INSERT_COLUMNS), after checking the row is a fresh request. */
export function exportJobToInsert(j: ExportJobRow): unknown[] {
  if (j.status !== 'requested' || j.decidedBy !== null || j.decidedAt !== null || j.runStartedAt !== null || j.result !== null
    || j.closedBy !== null || j.closedAt !== null || j.failure !== null) {
    throw new TypeError('a new export job is requested, without decision, run, result or end');
  }
  if (j.view !== 'released' && j.view !== 'full') throw new TypeError("view must be 'released' or 'full'");
  if (!Buffer.isBuffer(j.reason)) throw new TypeError('reason must be sealed bytes');
  const scope: ExportScope = { from: j.scope.from, to: j.scope.to, types: [...j.scope.types], identity: j.scope.identity === true };
  return [
    j.id, j.tenant, j.status, j.view, JSON.stringify(scope), j.recipient, j.recipientLabel, j.purposeOfUse, j.reason,
    j.requestedBy, j.requestedRole, j.requestedAt, j.expiresAt,
  ];
}

export const INSERT_COLUMNS = `id, tenant, status, export_view, scope, recipient, recipient_label, purpose_of_use, reason,
  requested_by, requested_role, requested_at, expires_at`;

export function checkJobListing(options: { tenants: readonly string[] | null; limit: number }): void {
  if (options.tenants !== null && (!Array.isArray(options.tenants) || !options.tenants.every((t) => typeof t === 'string'))) {
    throw new TypeError('tenants must be a list of tenant ids, or null');
  }
  checkLimit(options.limit, MAX_EXPORT_JOBS);
}

export function checkPersonListing(limit: number): void {
  checkLimit(limit, MAX_EXPORT_PERSONS);
}

export function checkChunk(seq: number, data: Buffer): void {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError('seq must be a non-negative integer');
  if (!Buffer.isBuffer(data) || data.length === 0 || data.length > MAX_EXPORT_CHUNK_BYTES) {
    throw new TypeError(`a chunk is 1 to ${MAX_EXPORT_CHUNK_BYTES} bytes`);
  }
}

export function checkResult(r: ExportResult): void {
  for (const [name, n] of [['records', r.records], ['patients', r.patients], ['bytes', r.bytes]] as const) {
    if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`${name} must be a non-negative integer`);
  }
  if (!/^[0-9a-f]{64}$/.test(r.sha256)) throw new TypeError('sha256 must be 64 hex digits');
}

function checkLimit(limit: number, max: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) throw new TypeError(`limit must be an integer from 1 to ${max}`);
}
