/**
 * Database rows of the safeguards part to the contract's row types, for both backends, and
 * the argument checks both run before they touch the database. Only a recertification's
 * tenants decode differently (JSON text in SQLite, text[] in PostgreSQL); the TOTP step goes
 * through Number() because PostgreSQL keeps it as a bigint.
 */
import { buf, bufOrNull, str, strOrNull, type ColumnDecoders, type DbRow } from './row-mapping.js';
import type { AlertRow, BreakGlassRow, DrillRow, NewAlertRow, RecertificationRow, TotpRow, TrainingRow } from './safeguard-types.js';


/** The most alerts one listAlerts call returns: a security officer's screen, not an export. */
export const MAX_ALERTS = 1000;

/**
 * `numbers` decodes an alert's evidence: JSON text in SQLite, a bigint[] (strings, as pg
 * returns int8) in PostgreSQL.
 */
export function safeguardRowMappers({ strings, numbers }: Pick<ColumnDecoders, 'strings'> & { numbers(v: unknown): number[] }) {
  return Object.freeze({
    toTotp: (r: DbRow): TotpRow => ({
      principalId: str(r.principal_id), secret: buf(r.secret), createdAt: str(r.created_at), lastStep: Number(r.last_step),
    }),
    toBreakGlass: (r: DbRow): BreakGlassRow => ({
      id: str(r.id), principalId: str(r.principal_id), tenant: str(r.tenant), pseudonym: str(r.pseudonym), reason: buf(r.reason),
      createdAt: str(r.created_at), expiresAt: str(r.expires_at), endedAt: strOrNull(r.ended_at),
    }),
    toAlert: (r: DbRow): AlertRow => ({
      id: str(r.id), kind: str(r.kind), principalId: strOrNull(r.principal_id), tenant: strOrNull(r.tenant),
      subject: strOrNull(r.subject), createdAt: str(r.created_at), acknowledgedAt: strOrNull(r.acknowledged_at),
      acknowledgedBy: strOrNull(r.acknowledged_by), evidence: Object.freeze(numbers(r.evidence)),
      closedAt: strOrNull(r.closed_at), closedBy: strOrNull(r.closed_by), closeNote: bufOrNull(r.close_note),
    }),
    toTraining: (r: DbRow): TrainingRow => ({
      principalId: str(r.principal_id), completedAt: str(r.completed_at), expiresAt: str(r.expires_at),
      recordedBy: str(r.recorded_by), recordedAt: str(r.recorded_at),
    }),
    toDrill: (r: DbRow): DrillRow => ({
      id: str(r.id), finishedAt: str(r.finished_at), outcome: str(r.outcome) === 'passed' ? 'passed' : 'failed',
      snapshot: r.snapshot === null ? null : Number(r.snapshot), report: str(r.report), receivedAt: str(r.received_at),
    }),
    toRecertification: (r: DbRow): RecertificationRow => ({
      principalId: str(r.principal_id), role: str(r.role), tenants: Object.freeze(strings(r.tenants)),
      certifiedBy: str(r.certified_by), certifiedAt: str(r.certified_at), expiresAt: str(r.expires_at),
    }),
  });
}

/** A drill row both backends will store: a known outcome and a positive snapshot number or none (a TypeError otherwise). */
export function checkDrill(row: DrillRow): void {
  if (row.outcome !== 'passed' && row.outcome !== 'failed') throw new TypeError("a drill's outcome is 'passed' or 'failed'");
  if (row.snapshot !== null && (!Number.isSafeInteger(row.snapshot) || row.snapshot < 1)) throw new TypeError("a drill's snapshot is a positive integer or null");
}

/** A TOTP time step (RFC 6238 §4.2: T = floor(unixtime / 30)) is a non-negative integer. */
export function checkTotpStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new TypeError('a TOTP step must be a non-negative integer');
}

export function checkAlertListing(options: { open: boolean; limit: number }): void {
  if (typeof options.open !== 'boolean') throw new TypeError('open must be a boolean');
  const { limit } = options;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_ALERTS) {
    throw new TypeError(`limit must be an integer from 1 to ${MAX_ALERTS}`);
  }
}

/** An inserted alert with its defaults filled in, evidence checked: leaf indices are non-negative integers. */
export function alertToInsert(a: NewAlertRow): AlertRow {
  const evidence = a.evidence ?? [];
  if (!Array.isArray(evidence) || !evidence.every((seq) => Number.isSafeInteger(seq) && seq >= 0)) {
    throw new TypeError('evidence must be a list of audit leaf indices (non-negative integers)');
  }
  return { ...a, evidence, closedAt: a.closedAt ?? null, closedBy: a.closedBy ?? null, closeNote: a.closeNote ?? null };
}
