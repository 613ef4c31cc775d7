/**
 * Database rows of the accounts part to the contract's row types, for both backends; only
 * booleans decode differently (0/1 in SQLite, true/false in PostgreSQL).
 */
import type { AccountRow, EnrolmentLinkRow, EnrolmentPurpose, RefreshTokenRow, SessionRow } from './account-types.js';
import { buf, str, strOrNull, type DbRow } from './row-mapping.js';


export function accountRowMappers(flag: (v: unknown) => boolean) {
  return Object.freeze({
    toAccount: (r: DbRow): AccountRow => ({
      principalId: str(r.principal_id), username: str(r.username), passwordHash: strOrNull(r.password_hash),
      passwordChangedAt: strOrNull(r.password_changed_at), totpAllowed: flag(r.totp_allowed), createdAt: str(r.created_at),
    }),
    toEnrolmentLink: (r: DbRow): EnrolmentLinkRow => ({
      secretHash: buf(r.secret_hash), principalId: str(r.principal_id), purpose: str(r.purpose) as EnrolmentPurpose,
      createdBy: strOrNull(r.created_by), createdAt: str(r.created_at), expiresAt: str(r.expires_at), usedAt: strOrNull(r.used_at),
    }),
    toSession: (r: DbRow): SessionRow => ({
      id: str(r.id), principalId: str(r.principal_id), jkt: str(r.jkt), createdAt: str(r.created_at), lastSeenAt: str(r.last_seen_at),
      idleSeconds: Number(r.idle_seconds), absoluteExpiresAt: str(r.absolute_expires_at), authenticatedAt: str(r.authenticated_at),
      authMethod: str(r.auth_method) as SessionRow['authMethod'], revokedAt: strOrNull(r.revoked_at), revokedReason: strOrNull(r.revoked_reason),
      ip: strOrNull(r.ip), userAgent: strOrNull(r.user_agent),
    }),
    toRefreshToken: (r: DbRow): RefreshTokenRow => ({
      secretHash: buf(r.secret_hash), sessionId: str(r.session_id), createdAt: str(r.created_at), expiresAt: str(r.expires_at),
      usedAt: strOrNull(r.used_at),
    }),
  });
}
