/**
 * Database rows of the safeguards part to the contract's row types, for both backends, and
 * the argument checks both run before they touch the database. Only a recertification's
 * tenants decode differently (JSON text in SQLite, text[] in PostgreSQL); the TOTP step goes
 * through Number() because PostgreSQL keeps it as a bigint.
 */
import type { ColumnDecoders, DbRow } from './row-mapping.js';
import type { AlertRow, BreakGlassRow, RecertificationRow, TotpRow, TrainingRow } from './safeguard-types.js';

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
const buf = (v: unknown): Buffer => v as Buffer;

/** The most alerts one listAlerts call returns: a security officer's screen, not an export. */
export const MAX_ALERTS = 1000;

export function safeguardRowMappers({ strings }: Pick<ColumnDecoders, 'strings'>) {
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
      acknowledgedBy: strOrNull(r.acknowledged_by),
    }),
    toTraining: (r: DbRow): TrainingRow => ({
      principalId: str(r.principal_id), completedAt: str(r.completed_at), expiresAt: str(r.expires_at),
      recordedBy: str(r.recorded_by), recordedAt: str(r.recorded_at),
    }),
    toRecertification: (r: DbRow): RecertificationRow => ({
      principalId: str(r.principal_id), role: str(r.role), tenants: Object.freeze(strings(r.tenants)),
      certifiedBy: str(r.certified_by), certifiedAt: str(r.certified_at), expiresAt: str(r.expires_at),
    }),
  });
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
