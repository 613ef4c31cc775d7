/**
 * The store's public face: the contract types and one factory per backend. Callers pick a
 * backend in the composition root and call migrate() before use.
 */
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

export { ROLES } from './types.js';
export type { AccountRow, AccountStore, EnrolmentLinkRow, EnrolmentPurpose, RefreshTokenRow, SessionRow } from './account-types.js';
export type { ChallengePurpose, ChallengeRow, PasskeyRow, PasskeyStore } from './passkey-types.js';
export { EXPORT_STATUSES } from './export-types.js';
export type { ExportJobRow, ExportResult, ExportScope, ExportStatus, ExportStore } from './export-types.js';
export { MAX_EXPORT_CHUNK_BYTES, MAX_EXPORT_JOBS, MAX_EXPORT_PERSONS } from './export-rows.js';
export { SLOW_DOWN_STEP_SECONDS } from './device-types.js';
export type { DeviceGrantRow, DeviceGrantStore, DevicePoll } from './device-types.js';
export type {
  AlertRow, BreakGlassRow, DrillRow, NewAlertRow, RecertificationRow, SafeguardStore, TotpRow, TrainingRow,
} from './safeguard-types.js';
export { MAX_CONTAINMENTS, MAX_DELIVERIES, MAX_RELEASE_WINDOWS } from './sentinel-rows.js';
export type {
  CanaryRow, ContainmentRow, DailyPatientsRow, DeliveryRow, LeaseGrant, LeaseRequest, ReleaseOutcome, ReleaseRow, ReleaseTotals, SentinelStore,
} from './sentinel-types.js';
export type {
  ApiTokenRow, AuditHead, AuditQuery, AuditRow, AuditSealer, CheckpointRow, DataKeyRow, KeyPurpose,
  PersonRow, PrincipalRow, ResourceQuery, ResourceRow, ResourceType, Role, Store, TenantRow, Versioned,
  WriteBatch,
} from './types.js';

/** One SQLite database file at `path` (created if absent). */
export function createSqliteStore(options: { path: string }): Store {
  return new SqliteStore(Object.freeze({ ...options }));
}

/** A pg Pool on `connectionString`; poolSize defaults to 10. */
export function createPostgresStore(options: { connectionString: string; poolSize?: number }): Store {
  return new PostgresStore(Object.freeze({ ...options }));
}
export { REBUILT_TABLES, SNAPSHOT_TABLES, snapshotSpec } from './snapshot-tables.js';
export { openSnapshot } from './open-snapshot.js';
export type { SnapshotAddress, SnapshotColumnType, SnapshotRow, SnapshotTableRows, SnapshotTableSpec, SnapshotValue, StoreSnapshot } from './snapshot-tables.js';
