/**
 * The storage contract. A store keeps ciphertext and pseudonymous index columns only:
 * it never sees a key, a BSN, a name or a result. Encryption, authorisation and audit
 * happen in the vault above it. Every backend (sqlite/, postgres/) implements this
 * interface and passes the one contract suite in test/store/.
 *
 * Timestamps are ISO-8601 UTC strings produced by the injected clock, never by the database.
 */
import type { AccountStore } from './account-types.js';
import type { DeviceGrantStore } from './device-types.js';
import type { ExportStore } from './export-types.js';
import type { PasskeyStore } from './passkey-types.js';
import type { SafeguardStore } from './safeguard-types.js';
import type { SentinelStore } from './sentinel-types.js';
import type { SnapshotAddress, SnapshotTableRows, StoreSnapshot } from './snapshot-tables.js';

export type Role =
  | 'registrar'
  | 'analyst'
  | 'validator'
  | 'requester'
  | 'instrument'
  | 'security-officer'
  | 'admin';

export const ROLES: readonly Role[] = Object.freeze([
  'registrar', 'analyst', 'validator', 'requester', 'instrument', 'security-officer', 'admin',
]);

export type ResourceType =
  | 'Organization'
  | 'ServiceRequest'
  | 'Specimen'
  | 'Observation'
  | 'DiagnosticReport';

export interface TenantRow {
  readonly id: string; // equals the Organization id the tenant stands for
  readonly name: string;
  readonly kind: string; // 'gp-practice' | 'hospital' | 'screening' | 'lab' ...
  readonly createdAt: string;
}

export interface PrincipalRow {
  readonly id: string;
  readonly kind: 'human' | 'service';
  readonly role: Role;
  readonly tenants: readonly string[]; // tenants the principal acts for; never empty
  readonly instrument: string | null; // for role 'instrument': the Device id it may report for
  readonly displayName: string; // a handle such as "analyst-07", never a patient's data
  readonly disabled: boolean;
  readonly createdAt: string;
  /**
   * Read only, from getPrincipal: whether the sentinel holds a live containment of the
   * principal (its clinical access is locked). Every request's authentication reads it, so a
   * containment on one node locks the principal on every node at its next request. Ignored by
   * insertPrincipal; absent from rows read otherwise.
   */
  readonly contained?: boolean;
}

export interface ApiTokenRow {
  readonly id: string; // public part of the token, used to look it up
  readonly principalId: string;
  readonly secretHash: Buffer; // SHA-256 of the 256-bit secret part
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  /** RFC 7638 thumbprint of the service's registered DPoP key: the token works only with its proofs. */
  readonly jkt: string | null;
}

/** A data key, wrapped by the keyring's key-encryption key. tenant '*' holds global keys. */
export type KeyPurpose = 'identity' | 'clinical' | 'index' | 'audit-mac' | 'session-mac' | 'factor' | 'export-mac' | 'backup-mac';
export interface DataKeyRow {
  readonly tenant: string;
  readonly purpose: KeyPurpose;
  readonly version: number;
  readonly kekId: string;
  readonly wrapped: Buffer;
  readonly createdAt: string;
}

/** Identity part: one person, keyed by a random pseudonym. body = encrypted Patient. */
export interface PersonRow {
  readonly tenant: string;
  readonly pseudonym: string;
  readonly version: number;
  readonly bsnToken: string | null; // keyed blind index of the BSN; unique per tenant
  readonly body: Buffer;
  readonly enteredBy: string;
  readonly lastUpdated: string;
}

/** Clinical part: one version of one resource. body = encrypted resource JSON. */
export interface ResourceRow {
  readonly tenant: string;
  readonly type: ResourceType;
  readonly id: string;
  readonly version: number;
  readonly pseudonym: string | null; // the subject's pseudonym, if any
  readonly status: string | null;
  readonly date: string | null; // effective / issued date, ISO, for range search
  readonly tokens: readonly string[]; // blind-index search tokens (code, barcode, device ...)
  readonly uniqueTokens: readonly string[]; // tokens that must be unique per tenant (barcode)
  readonly body: Buffer;
  readonly enteredBy: string;
  readonly lastUpdated: string;
  /** Store-assigned, strictly increasing per store; used as a paging cursor. Ignored on write. */
  readonly pos?: number;
}

export interface Versioned<T> {
  readonly row: T;
  /** null: create (must not exist yet); n: update, current version must be n and row.version n+1. */
  readonly expectedVersion: number | null;
}

export interface WriteBatch {
  /** New tenants, created in the same transaction as their Organization and its audit entry. */
  readonly tenants?: readonly TenantRow[];
  readonly persons: readonly Versioned<PersonRow>[];
  readonly resources: readonly Versioned<ResourceRow>[];
}

export interface ResourceQuery {
  readonly tenant: string;
  readonly type: ResourceType;
  readonly pseudonyms?: readonly string[]; // any of
  /** AND over the outer list, OR within each inner list. */
  readonly tokens?: readonly (readonly string[])[];
  readonly statuses?: readonly string[]; // any of
  readonly dateFrom?: string; // inclusive
  readonly dateTo?: string; // exclusive
  readonly afterPos?: number; // keyset paging: rows with pos > afterPos
  readonly limit: number; // rows ordered by pos ascending
}

/** One sealed audit entry as stored. leaf = canonical JSON bytes of the NEN 7513 entry. */
export interface AuditRow {
  readonly seq: number; // 0-based leaf index in the Merkle tree
  readonly time: string;
  readonly action: 'C' | 'R' | 'U' | 'D' | 'E';
  readonly principalId: string | null;
  readonly tenant: string | null;
  readonly patients: readonly string[]; // pseudonyms, for the patient access report
  readonly leaf: Buffer;
  readonly leafHash: Buffer; // RFC 6962 leaf hash of `leaf`
  readonly mac: Buffer; // HMAC chained over the previous entry's mac (keyed outside the store)
  readonly rootAfter: Buffer; // Merkle root of the tree of size seq+1
}

/** The log's right edge: enough to extend the tree and the mac chain without reading it all. */
export interface AuditHead {
  readonly size: number;
  readonly frontier: readonly Buffer[]; // RFC 6962 compact range of [0, size), left to right
  readonly lastMac: Buffer | null;
}

/**
 * Called by the store with the log head locked (no other writer, in this or any other
 * process, can append until it returns). Must be synchronous and pure: it returns the rows
 * to insert, which must continue at head.size, and the new head.
 */
export type AuditSealer = (head: AuditHead) => { rows: readonly AuditRow[]; head: AuditHead };

export interface CheckpointRow {
  readonly size: number;
  readonly root: Buffer;
  readonly note: string; // C2SP signed note text
  readonly createdAt: string;
}

export interface AuditQuery {
  readonly patient?: string;
  readonly principalId?: string;
  readonly tenant?: string;
  readonly from?: string; // inclusive
  readonly to?: string; // exclusive
  readonly afterSeq?: number;
  readonly limit: number; // ordered by seq ascending
}

export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  /** Human sign-in: accounts, enrolment links, sessions, refresh tokens (account-types.ts). */
  readonly accounts: AccountStore;
  /** Registered passkeys and single-use ceremony challenges (passkey-types.ts). */
  readonly passkeys: PasskeyStore;
  /** The CLI's device authorisation grants, RFC 8628 (device-types.ts). */
  readonly devices: DeviceGrantStore;
  /** TOTP, recovery codes, break-glass grants, alerts, training and recertification (safeguard-types.ts). */
  readonly safeguards: SafeguardStore;
  /** What each principal received, containments, canary patients and the alert outbox (sentinel-types.ts). */
  readonly sentinel: SentinelStore;
  /** Four-eyes bulk export jobs and their age ciphertext (export-types.ts). */
  readonly exports: ExportStore;
  /** Creates or upgrades the schema; idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  insertTenant(row: TenantRow): Promise<void>; // ERR_CONFLICT if the id exists
  getTenant(id: string): Promise<TenantRow | null>;
  listTenants(): Promise<TenantRow[]>;

  insertPrincipal(row: PrincipalRow): Promise<void>; // ERR_CONFLICT if the id exists
  getPrincipal(id: string): Promise<PrincipalRow | null>;
  setPrincipalDisabled(id: string, disabled: boolean): Promise<void>;
  insertApiToken(row: ApiTokenRow): Promise<void>;
  getApiToken(id: string): Promise<ApiTokenRow | null>;
  revokeApiToken(id: string, at: string): Promise<void>;
  /** Revokes every live (unrevoked) API token of the principal at `at`; returns how many (containment). */
  revokeApiTokensOf(principalId: string, at: string): Promise<number>;

  /** First writer wins: if (tenant, purpose, version) exists, returns the stored row instead. */
  insertDataKey(row: DataKeyRow): Promise<DataKeyRow>;
  getDataKeys(tenant: string, purpose: KeyPurpose): Promise<DataKeyRow[]>;

  /**
   * Writes persons and resources and, in the same transaction, the audit entries the
   * sealer returns: all or nothing. A version mismatch or a duplicate unique token fails
   * the whole batch with ERR_CONFLICT. Returns the audit rows written.
   */
  commit(batch: WriteBatch, seal: AuditSealer): Promise<readonly AuditRow[]>;

  getPerson(tenant: string, pseudonym: string): Promise<PersonRow | null>;
  findPersonsByBsn(tenant: string, bsnToken: string): Promise<PersonRow[]>;
  getResource(tenant: string, type: ResourceType, id: string, version?: number): Promise<ResourceRow | null>;
  /** Current versions only. */
  searchResources(query: ResourceQuery): Promise<ResourceRow[]>;

  /** Appends audit entries alone (reads, searches, refusals). Durable when it resolves. */
  appendAudit(seal: AuditSealer): Promise<readonly AuditRow[]>;
  auditHead(): Promise<AuditHead>;
  readAudit(fromSeq: number, limit: number): Promise<AuditRow[]>;
  searchAudit(query: AuditQuery): Promise<AuditRow[]>;
  insertCheckpoint(row: CheckpointRow): Promise<void>; // a second one for the same size is ignored
  listCheckpoints(): Promise<CheckpointRow[]>;

  /**
   * A consistent read of every durable table (snapshot-tables.ts), taken now, while the store
   * goes on serving: for backups. Close it when done.
   */
  snapshot(): Promise<StoreSnapshot>;
  /** Where openSnapshot takes the same snapshot in another thread (a backup reads there while it packs here). */
  snapshotAddress(): Promise<SnapshotAddress>;
  /**
   * Writes a snapshot (of either backend) into this store, which must be migrated and empty
   * (ERR_CONFLICT otherwise): all or nothing. A table this version does not know is
   * ERR_INVALID_INPUT. Returns the rows written per table.
   */
  restoreSnapshot(tables: AsyncIterable<SnapshotTableRows>): Promise<Record<string, number>>;
}
