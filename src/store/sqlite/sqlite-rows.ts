/**
 * Mapping between SQLite rows (snake_case, JSON text for arrays, 0/1 for booleans) and the
 * contract's row types. Kept apart so the store reads as a list of operations.
 */
import type {
  ApiTokenRow, AuditHead, AuditRow, CheckpointRow, DataKeyRow, KeyPurpose, PersonRow,
  PrincipalRow, ResourceRow, ResourceType, Role, TenantRow,
} from '../types.js';

/** A row as better-sqlite3 returns it: column name to value. */
export type Raw = Record<string, unknown>;

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null ? null : (v as string));
const num = (v: unknown): number => v as number;
const buf = (v: unknown): Buffer => v as Buffer;
const strings = (v: unknown): string[] => JSON.parse(v as string) as string[];

export const toTenant = (r: Raw): TenantRow => ({
  id: str(r.id), name: str(r.name), kind: str(r.kind), createdAt: str(r.created_at),
});

export const toPrincipal = (r: Raw): PrincipalRow => ({
  id: str(r.id),
  kind: str(r.kind) as PrincipalRow['kind'],
  role: str(r.role) as Role,
  tenants: strings(r.tenants),
  instrument: strOrNull(r.instrument),
  displayName: str(r.display_name),
  disabled: num(r.disabled) === 1,
  createdAt: str(r.created_at),
});

export const toApiToken = (r: Raw): ApiTokenRow => ({
  id: str(r.id),
  principalId: str(r.principal_id),
  secretHash: buf(r.secret_hash),
  createdAt: str(r.created_at),
  expiresAt: strOrNull(r.expires_at),
  revokedAt: strOrNull(r.revoked_at),
});

export const toDataKey = (r: Raw): DataKeyRow => ({
  tenant: str(r.tenant),
  purpose: str(r.purpose) as KeyPurpose,
  version: num(r.version),
  kekId: str(r.kek_id),
  wrapped: buf(r.wrapped),
  createdAt: str(r.created_at),
});

export const toPerson = (r: Raw): PersonRow => ({
  tenant: str(r.tenant),
  pseudonym: str(r.pseudonym),
  version: num(r.version),
  bsnToken: strOrNull(r.bsn_token),
  body: buf(r.body),
  enteredBy: str(r.entered_by),
  lastUpdated: str(r.last_updated),
});

export const toResource = (r: Raw): ResourceRow => ({
  tenant: str(r.tenant),
  type: str(r.type) as ResourceType,
  id: str(r.id),
  version: num(r.version),
  pseudonym: strOrNull(r.pseudonym),
  status: strOrNull(r.status),
  date: strOrNull(r.date),
  tokens: strings(r.tokens),
  uniqueTokens: strings(r.unique_tokens),
  body: buf(r.body),
  enteredBy: str(r.entered_by),
  lastUpdated: str(r.last_updated),
  pos: num(r.pos),
});

export const toAudit = (r: Raw): AuditRow => ({
  seq: num(r.seq),
  time: str(r.time),
  action: str(r.action) as AuditRow['action'],
  principalId: strOrNull(r.principal_id),
  tenant: strOrNull(r.tenant),
  patients: strings(r.patients),
  leaf: buf(r.leaf),
  leafHash: buf(r.leaf_hash),
  mac: buf(r.mac),
  rootAfter: buf(r.root_after),
});

export const toCheckpoint = (r: Raw): CheckpointRow => ({
  size: num(r.size), root: buf(r.root), note: str(r.note), createdAt: str(r.created_at),
});

export const toHead = (r: Raw): AuditHead => ({
  size: num(r.size),
  frontier: strings(r.frontier).map((h) => Buffer.from(h, 'base64')),
  lastMac: r.last_mac === null ? null : buf(r.last_mac),
});

export const frontierText = (head: AuditHead): string =>
  JSON.stringify(head.frontier.map((h) => Buffer.from(h).toString('base64')));
