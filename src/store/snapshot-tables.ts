/**
 * The store's snapshot format (issue 5): every durable table, column by column, in a neutral
 * form that both backends read and write, so a snapshot of one restores into the other. Each
 * backend maps its own encodings (SQLite: JSON text for lists, 0/1 for booleans, the audit
 * frontier as JSON of base64; PostgreSQL: native arrays, booleans, bigint as text) to these
 * types and back. Records stay as they are stored: their bodies are field-level ciphertext.
 *
 * Tables are listed in the order a restore inserts them (before whatever refers to them).
 * Left out, on purpose:
 * - sessions, refresh tokens, DPoP proofs, passkey challenges, device grants, enrolment links:
 *   a restored vault starts with no one signed in, and no half-done sign-in or invitation;
 * - sentinel leases (seconds of node state) and export chunks (an export file awaiting its
 *   download: a restored job has to run again);
 * - what is derived, and rebuilt by a restore: SQLite's clinical_tokens (the search index, from
 *   the resources' tokens), clinical_unique_tokens (the barcode claims, from the current
 *   versions' unique tokens: keyed by a random token, every night would rewrite it whole) and
 *   audit_entry_patients (which entries name a patient, from each entry's patients); and the
 *   schema's own bookkeeping (schema_migrations, sqlite_sequence).
 *
 * Rows are read in primary-key order, except where `order` says otherwise: a table whose key
 * is random (a pseudonym) is read in order of change, so that new rows come at its end and a
 * nightly backup finds the chunks before them unchanged (content-defined chunking, issue 5).
 * That order has no index (the backup sorts): an index on it cost about a tenth of small-bundle
 * ingest (one more B-tree page per person in every commit) to spare one sort a night.
 */
import { LabkluisError } from '../kernel/index.js';

export type SnapshotColumnType = 'text' | 'int' | 'bool' | 'bytes' | 'texts' | 'ints' | 'bytesList';
export type SnapshotValue = string | number | boolean | Buffer | readonly string[] | readonly number[] | readonly Buffer[] | null;

export interface SnapshotTableSpec {
  /** `<part>_<table>`: SQLite's name; PostgreSQL's is `<part>.<table>`. */
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: SnapshotColumnType }[];
  /** The primary key. */
  readonly key: readonly string[];
  /** The columns rows are read in: the key, or columns ending with the key (unique, so the order is total). */
  readonly order: readonly string[];
}

/** One row: values in the spec's column order. */
export type SnapshotRow = readonly SnapshotValue[];

/**
 * A table of a snapshot as it is read: its spec and its rows, in order, in batches (of any
 * size; a batch costs one turn of an async iteration, a row none, so a 600,000-row table is not
 * 600,000 awaits).
 */
export interface SnapshotTableRows {
  readonly spec: SnapshotTableSpec;
  readonly batches: AsyncIterable<readonly SnapshotRow[]>;
}

/**
 * Where a snapshot of a store can be taken from another thread (openSnapshot): the SQLite
 * file, or the PostgreSQL database. Held in memory only (a connection string may carry a
 * password): never logged, never written.
 */
export type SnapshotAddress = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly connectionString: string };

/** A consistent read of the whole store; close() ends it (whether or not every table was read). */
export interface StoreSnapshot {
  readonly tables: AsyncIterable<SnapshotTableRows>;
  close(): Promise<void>;
}

const t = (name: string, key: readonly string[], columns: string, order: readonly string[] = key): SnapshotTableSpec => ({
  name,
  key,
  order,
  columns: columns.trim().split(/\s+/).map((c) => {
    const [col, type = 'text'] = c.split(':') as [string, SnapshotColumnType?];
    return { name: col, type };
  }),
});

export const SNAPSHOT_TABLES: readonly SnapshotTableSpec[] = Object.freeze([
  t('core_tenants', ['id'], 'id name kind created_at'),
  t('core_principals', ['id'], 'id kind role tenants:texts instrument display_name disabled:bool created_at'),
  t('core_accounts', ['principal_id'], 'principal_id username password_hash password_changed_at totp_allowed:bool created_at'),
  t('core_api_tokens', ['id'], 'id principal_id secret_hash:bytes created_at expires_at revoked_at jkt'),
  t('core_data_keys', ['tenant', 'purpose', 'version'], 'tenant purpose version:int kek_id wrapped:bytes created_at'),
  t('core_totp', ['principal_id'], 'principal_id secret:bytes created_at last_step:int'),
  t('core_recovery_codes', ['principal_id', 'code_hash'], 'principal_id code_hash:bytes created_at used_at'),
  t('core_passkeys', ['credential_id'], 'credential_id principal_id public_key:bytes counter:int transports:texts backed_up:bool device_type created_at last_used_at name'),
  t('core_training', ['principal_id', 'recorded_at'], 'principal_id completed_at expires_at recorded_by recorded_at'),
  t('core_recertifications', ['principal_id', 'certified_at'], 'principal_id role tenants:texts certified_by certified_at expires_at'),
  t('core_break_glass', ['id'], 'id principal_id tenant pseudonym reason:bytes created_at expires_at ended_at'),
  t('core_alerts', ['id'], 'id kind principal_id tenant subject created_at acknowledged_at acknowledged_by evidence:ints closed_at closed_by close_note:bytes'),
  t('core_sentinel_containments', ['id'], 'id principal_id reason alert_id created_at lifted_at lifted_by lift_note:bytes'),
  t('core_sentinel_canaries', ['tenant', 'pseudonym'], 'tenant pseudonym created_at created_by'),
  t('core_sentinel_daily', ['role', 'day', 'principal_id'], 'role day principal_id patients:int'),
  t('core_sentinel_deliveries', ['id'], 'id alert_id channel payload created_at attempts:int next_attempt_at delivered_at last_error'),
  t('core_sentinel_releases', ['principal_id', 'tenant', 'pseudonym'], 'principal_id tenant pseudonym last_at'),
  t('core_sentinel_volume', ['principal_id', 'grain', 'bucket'], 'principal_id grain bucket records:int bytes:int patients:int'),
  t('core_export_jobs', ['id'], `id tenant status export_view scope recipient recipient_label purpose_of_use reason:bytes requested_by
    requested_role requested_at expires_at decided_by decided_at run_started_at records:int patients:int bytes:int sha256 watermark
    ready_at download_expires_at closed_by closed_at failure`),
  t('core_backup_drills', ['id'], 'id finished_at outcome snapshot:int report received_at'),
  t('identity_persons', ['tenant', 'pseudonym', 'version'], 'tenant pseudonym version:int bsn_token body:bytes entered_by last_updated is_current:bool',
    ['last_updated', 'tenant', 'pseudonym', 'version']),
  t('clinical_resources', ['pos'], `pos:int tenant type id version:int pseudonym status date tokens:texts unique_tokens:texts body:bytes
    entered_by last_updated is_current:bool`),
  t('audit_entries', ['seq'], 'seq:int time action principal_id tenant patients:texts leaf:bytes leaf_hash:bytes mac:bytes root_after:bytes'),
  t('audit_checkpoints', ['size'], 'size:int root:bytes note created_at'),
  // The single head row (its key column differs per backend and is left out).
  t('audit_head', ['size'], 'size:int frontier:bytesList last_mac:bytes'),
]);

/**
 * Tables a restore rebuilds on both backends (snapshots before session 7 still held them: a
 * restore skips them there). SQLite's clinical_tokens is rebuilt too; it never was in a snapshot.
 */
export const REBUILT_TABLES: readonly string[] = Object.freeze(['clinical_unique_tokens', 'audit_entry_patients']);

export function snapshotSpec(table: string): SnapshotTableSpec | undefined {
  return SNAPSHOT_TABLES.find((s) => s.name === table);
}

/** A snapshot table a restore may write: one of this version's, with exactly its columns (ERR_INVALID_INPUT otherwise). */
export function checkRestorable(spec: SnapshotTableSpec): void {
  const shape = (s: SnapshotTableSpec): string => s.columns.map((c) => `${c.name}:${c.type}`).join();
  const known = snapshotSpec(spec.name);
  if (known === undefined || shape(known) !== shape(spec)) {
    throw new LabkluisError('ERR_INVALID_INPUT', `the snapshot's table ${spec.name} is not one this version restores`);
  }
}
