/**
 * Database rows (snake_case columns) to the contract's row types, shared by both backends.
 * What differs between them is only how a few column kinds decode: arrays (JSON text in
 * SQLite, native arrays in PostgreSQL), booleans (0/1 or true/false) and the log frontier.
 * Numbers go through Number(): pg returns bigints as strings, all far below 2^53.
 */
import type {
  ApiTokenRow, AuditHead, AuditRow, CheckpointRow, DataKeyRow, KeyPurpose, PersonRow,
  PrincipalRow, ResourceRow, ResourceType, Role, TenantRow,
} from './types.js';

export type DbRow = Record<string, unknown>;

export interface ColumnDecoders {
  strings(v: unknown): string[];
  flag(v: unknown): boolean;
  frontier(v: unknown): Buffer[];
}

/** Column readers shared by every part's row mapping: the drivers hand back these types already. */
export const str = (v: unknown): string => v as string;
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
export const buf = (v: unknown): Buffer => v as Buffer;
export const bufOrNull = (v: unknown): Buffer | null => (v === null || v === undefined ? null : (v as Buffer));

export function rowMappers({ strings, flag, frontier }: ColumnDecoders) {
  return Object.freeze({
    toTenant: (r: DbRow): TenantRow => ({ id: str(r.id), name: str(r.name), kind: str(r.kind), createdAt: str(r.created_at) }),
    toPrincipal: (r: DbRow): PrincipalRow => ({
      id: str(r.id), kind: str(r.kind) as PrincipalRow['kind'], role: str(r.role) as Role, tenants: strings(r.tenants),
      instrument: strOrNull(r.instrument), displayName: str(r.display_name), disabled: flag(r.disabled), createdAt: str(r.created_at),
      ...(r.contained === undefined ? {} : { contained: flag(r.contained) }),
    }),
    toApiToken: (r: DbRow): ApiTokenRow => ({
      id: str(r.id), principalId: str(r.principal_id), secretHash: buf(r.secret_hash), createdAt: str(r.created_at),
      expiresAt: strOrNull(r.expires_at), revokedAt: strOrNull(r.revoked_at), jkt: strOrNull(r.jkt ?? null),
    }),
    toDataKey: (r: DbRow): DataKeyRow => ({
      tenant: str(r.tenant), purpose: str(r.purpose) as KeyPurpose, version: Number(r.version), kekId: str(r.kek_id),
      wrapped: buf(r.wrapped), createdAt: str(r.created_at),
    }),
    toPerson: (r: DbRow): PersonRow => ({
      tenant: str(r.tenant), pseudonym: str(r.pseudonym), version: Number(r.version), bsnToken: strOrNull(r.bsn_token),
      body: buf(r.body), enteredBy: str(r.entered_by), lastUpdated: str(r.last_updated),
    }),
    toResource: (r: DbRow): ResourceRow => ({
      tenant: str(r.tenant), type: str(r.type) as ResourceType, id: str(r.id), version: Number(r.version),
      pseudonym: strOrNull(r.pseudonym), status: strOrNull(r.status), date: strOrNull(r.date), tokens: strings(r.tokens),
      uniqueTokens: strings(r.unique_tokens), body: buf(r.body), enteredBy: str(r.entered_by), lastUpdated: str(r.last_updated),
      pos: Number(r.pos),
    }),
    toAudit: (r: DbRow): AuditRow => ({
      seq: Number(r.seq), time: str(r.time), action: str(r.action) as AuditRow['action'], principalId: strOrNull(r.principal_id),
      tenant: strOrNull(r.tenant), patients: strings(r.patients), leaf: buf(r.leaf), leafHash: buf(r.leaf_hash), mac: buf(r.mac),
      rootAfter: buf(r.root_after),
    }),
    toCheckpoint: (r: DbRow): CheckpointRow => ({ size: Number(r.size), root: buf(r.root), note: str(r.note), createdAt: str(r.created_at) }),
    toHead: (r: DbRow): AuditHead => ({ size: Number(r.size), frontier: frontier(r.frontier), lastMac: r.last_mac === null ? null : buf(r.last_mac) }),
  });
}
