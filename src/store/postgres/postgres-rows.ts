/**
 * Mapping between pg result rows and the contract's row types. bigint columns (pos, seq,
 * size) arrive as strings from pg; they stay far below 2^53, so Number() is exact.
 */
import type {
  ApiTokenRow, AuditHead, AuditRow, CheckpointRow, DataKeyRow, KeyPurpose, PersonRow,
  PrincipalRow, ResourceRow, ResourceType, Role, TenantRow,
} from '../types.js';
import type { Row } from './postgres-tx.js';

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null ? null : (v as string));
const buf = (v: unknown): Buffer => v as Buffer;
const strings = (v: unknown): string[] => v as string[];

export const toTenant = (r: Row): TenantRow => ({
  id: str(r.id), name: str(r.name), kind: str(r.kind), createdAt: str(r.created_at),
});

export const toPrincipal = (r: Row): PrincipalRow => ({
  id: str(r.id),
  kind: str(r.kind) as PrincipalRow['kind'],
  role: str(r.role) as Role,
  tenants: strings(r.tenants),
  instrument: strOrNull(r.instrument),
  displayName: str(r.display_name),
  disabled: r.disabled === true,
  createdAt: str(r.created_at),
});

export const toApiToken = (r: Row): ApiTokenRow => ({
  id: str(r.id),
  principalId: str(r.principal_id),
  secretHash: buf(r.secret_hash),
  createdAt: str(r.created_at),
  expiresAt: strOrNull(r.expires_at),
  revokedAt: strOrNull(r.revoked_at),
});

export const toDataKey = (r: Row): DataKeyRow => ({
  tenant: str(r.tenant),
  purpose: str(r.purpose) as KeyPurpose,
  version: Number(r.version),
  kekId: str(r.kek_id),
  wrapped: buf(r.wrapped),
  createdAt: str(r.created_at),
});

export const toPerson = (r: Row): PersonRow => ({
  tenant: str(r.tenant),
  pseudonym: str(r.pseudonym),
  version: Number(r.version),
  bsnToken: strOrNull(r.bsn_token),
  body: buf(r.body),
  enteredBy: str(r.entered_by),
  lastUpdated: str(r.last_updated),
});

export const toResource = (r: Row): ResourceRow => ({
  tenant: str(r.tenant),
  type: str(r.type) as ResourceType,
  id: str(r.id),
  version: Number(r.version),
  pseudonym: strOrNull(r.pseudonym),
  status: strOrNull(r.status),
  date: strOrNull(r.date),
  tokens: strings(r.tokens),
  uniqueTokens: strings(r.unique_tokens),
  body: buf(r.body),
  enteredBy: str(r.entered_by),
  lastUpdated: str(r.last_updated),
  pos: Number(r.pos),
});

export const toAudit = (r: Row): AuditRow => ({
  seq: Number(r.seq),
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

export const toCheckpoint = (r: Row): CheckpointRow => ({
  size: Number(r.size), root: buf(r.root), note: str(r.note), createdAt: str(r.created_at),
});

export const toHead = (r: Row): AuditHead => ({
  size: Number(r.size),
  frontier: r.frontier as Buffer[],
  lastMac: r.last_mac === null ? null : buf(r.last_mac),
});
