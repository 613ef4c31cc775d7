/**
 * SQLite schema. Table prefixes mirror the PostgreSQL schemas (core_, identity_, clinical_,
 * audit_) so identity and clinical data stay in separate tables, joined only by pseudonym.
 * Migrations are numbered and tracked with PRAGMA user_version; each runs in one transaction.
 */
import type { Database } from 'better-sqlite3';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE core_tenants (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, created_at TEXT NOT NULL
  ) STRICT;
  CREATE TABLE core_principals (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, role TEXT NOT NULL,
    tenants TEXT NOT NULL,            -- JSON array of tenant ids
    instrument TEXT, display_name TEXT NOT NULL,
    disabled INTEGER NOT NULL, created_at TEXT NOT NULL
  ) STRICT;
  CREATE TABLE core_api_tokens (
    id TEXT PRIMARY KEY,
    principal_id TEXT NOT NULL REFERENCES core_principals (id),
    secret_hash BLOB NOT NULL, created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT
  ) STRICT;
  CREATE TABLE core_data_keys (
    tenant TEXT NOT NULL, purpose TEXT NOT NULL, version INTEGER NOT NULL,
    kek_id TEXT NOT NULL, wrapped BLOB NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, purpose, version)
  ) STRICT;

  -- Every version is kept; is_current marks the one reads and uniqueness apply to.
  CREATE TABLE identity_persons (
    tenant TEXT NOT NULL, pseudonym TEXT NOT NULL, version INTEGER NOT NULL,
    bsn_token TEXT, body BLOB NOT NULL, entered_by TEXT NOT NULL, last_updated TEXT NOT NULL,
    is_current INTEGER NOT NULL,
    PRIMARY KEY (tenant, pseudonym, version)
  ) STRICT;
  CREATE UNIQUE INDEX identity_persons_bsn ON identity_persons (tenant, bsn_token)
    WHERE is_current = 1 AND bsn_token IS NOT NULL;

  -- AUTOINCREMENT: pos never reuses a value, so it is a safe keyset cursor.
  CREATE TABLE clinical_resources (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    pseudonym TEXT, status TEXT, date TEXT,
    tokens TEXT NOT NULL, unique_tokens TEXT NOT NULL,   -- JSON arrays, as written
    body BLOB NOT NULL, entered_by TEXT NOT NULL, last_updated TEXT NOT NULL,
    is_current INTEGER NOT NULL,
    UNIQUE (tenant, type, id, version)
  ) STRICT;
  CREATE INDEX clinical_resources_current ON clinical_resources (tenant, type, pos) WHERE is_current = 1;
  CREATE INDEX clinical_resources_subject ON clinical_resources (tenant, pseudonym, pos) WHERE is_current = 1;
  -- Search index over the tokens of current versions only.
  CREATE TABLE clinical_tokens (
    tenant TEXT NOT NULL, token TEXT NOT NULL, pos INTEGER NOT NULL,
    PRIMARY KEY (tenant, token, pos)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX clinical_tokens_pos ON clinical_tokens (pos);
  -- Claims of per-tenant unique tokens (barcodes), held by the current version's owner.
  CREATE TABLE clinical_unique_tokens (
    tenant TEXT NOT NULL, token TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (tenant, token)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX clinical_unique_tokens_owner ON clinical_unique_tokens (tenant, type, id);

  CREATE TABLE audit_entries (
    seq INTEGER PRIMARY KEY, time TEXT NOT NULL, action TEXT NOT NULL,
    principal_id TEXT, tenant TEXT, patients TEXT NOT NULL,
    leaf BLOB NOT NULL, leaf_hash BLOB NOT NULL, mac BLOB NOT NULL, root_after BLOB NOT NULL
  ) STRICT;
  CREATE INDEX audit_entries_principal ON audit_entries (principal_id, seq);
  CREATE INDEX audit_entries_tenant ON audit_entries (tenant, seq);
  CREATE INDEX audit_entries_time ON audit_entries (time);
  CREATE TABLE audit_entry_patients (
    pseudonym TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (pseudonym, seq)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL,
    frontier TEXT NOT NULL,            -- JSON array of base64 hashes, left to right
    last_mac BLOB
  ) STRICT;
  INSERT INTO audit_head (id, size, frontier, last_mac) VALUES (1, 0, '[]', NULL);
  CREATE TABLE audit_checkpoints (
    size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, created_at TEXT NOT NULL
  ) STRICT;

  -- The log is append-only (NEN 7513): a bug or a stray script cannot rewrite history.
  CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
  CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
  CREATE TRIGGER audit_entry_patients_no_update BEFORE UPDATE ON audit_entry_patients
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
  CREATE TRIGGER audit_entry_patients_no_delete BEFORE DELETE ON audit_entry_patients
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
  -- Signed checkpoints are the evidence against truncation: append-only as well.
  CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
  CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
  `,
  // 2: the tokens of a retired version are deleted by primary key (the row keeps its token
  // list), so the second index on every token insert goes.
  `
  DROP INDEX clinical_tokens_pos;
  `,
  // 3: human sign-in (accounts, one-time enrolment links, device-bound sessions, refresh tokens).
  `
  CREATE TABLE core_accounts (
    principal_id TEXT PRIMARY KEY REFERENCES core_principals (id),
    username TEXT NOT NULL UNIQUE, password_hash TEXT, password_changed_at TEXT,
    totp_allowed INTEGER NOT NULL, created_at TEXT NOT NULL
  ) STRICT;
  CREATE TABLE core_enrolment_links (
    secret_hash BLOB PRIMARY KEY, principal_id TEXT NOT NULL REFERENCES core_principals (id),
    purpose TEXT NOT NULL, created_by TEXT, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT
  ) STRICT;
  CREATE TABLE core_sessions (
    id TEXT PRIMARY KEY, principal_id TEXT NOT NULL REFERENCES core_principals (id), jkt TEXT NOT NULL,
    created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, idle_seconds INTEGER NOT NULL,
    absolute_expires_at TEXT NOT NULL, authenticated_at TEXT NOT NULL, auth_method TEXT NOT NULL,
    revoked_at TEXT, revoked_reason TEXT, ip TEXT, user_agent TEXT
  ) STRICT;
  CREATE INDEX core_sessions_principal ON core_sessions (principal_id, created_at);
  CREATE TABLE core_refresh_tokens (
    secret_hash BLOB PRIMARY KEY, session_id TEXT NOT NULL REFERENCES core_sessions (id),
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT
  ) STRICT;
  `,
  // 4: passkeys (WebAuthn credential records) and single-use ceremony challenges. A challenge's
  // principal has no foreign key: starting a sign-in for an unknown principal must not fail
  // differently from a known one.
  `
  CREATE TABLE core_passkeys (
    credential_id TEXT PRIMARY KEY, principal_id TEXT NOT NULL REFERENCES core_principals (id),
    public_key BLOB NOT NULL, counter INTEGER NOT NULL,
    transports TEXT NOT NULL,         -- JSON array of transport hints, in the order given
    backed_up INTEGER NOT NULL, device_type TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT,
    name TEXT NOT NULL
  ) STRICT;
  CREATE INDEX core_passkeys_principal ON core_passkeys (principal_id, created_at);
  CREATE TABLE core_passkey_challenges (
    id TEXT PRIMARY KEY, challenge TEXT NOT NULL, purpose TEXT NOT NULL, principal_id TEXT,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT
  ) STRICT;
  CREATE INDEX core_passkey_challenges_expiry ON core_passkey_challenges (expires_at);
  `,
  // 5: the device authorisation grant (RFC 8628): the CLI's pending sign-ins, found by the hash of
  // the device code (the CLI polls) or by the user code (the person approves). The checks keep a
  // grant's state one of pending, approved, denied or redeemed after approval.
  `
  CREATE TABLE core_device_grants (
    device_code_hash BLOB PRIMARY KEY, user_code TEXT NOT NULL UNIQUE, jkt TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, interval_seconds INTEGER NOT NULL, last_polled_at TEXT,
    approved_by TEXT REFERENCES core_principals (id), approved_at TEXT, denied_at TEXT, redeemed_at TEXT,
    CHECK ((approved_by IS NULL) = (approved_at IS NULL)),
    CHECK (approved_at IS NULL OR denied_at IS NULL),
    CHECK (redeemed_at IS NULL OR approved_at IS NOT NULL)
  ) STRICT;
  CREATE INDEX core_device_grants_expiry ON core_device_grants (expires_at);
  `,
  // 6: second factors besides passkeys, break-glass and access hygiene: a TOTP factor per person
  // (sealed secret, last accepted time step), single-use recovery codes (hashes), break-glass
  // grants, alerts for the security officer (an alert's principal has no foreign key: it may
  // concern a principal the store does not know), and the append-only records of training
  // and of access recertification.
  `
  CREATE TABLE core_totp (
    principal_id TEXT PRIMARY KEY REFERENCES core_principals (id),
    secret BLOB NOT NULL, created_at TEXT NOT NULL, last_step INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE core_recovery_codes (
    principal_id TEXT NOT NULL REFERENCES core_principals (id), code_hash BLOB NOT NULL,
    created_at TEXT NOT NULL, used_at TEXT,
    PRIMARY KEY (principal_id, code_hash)
  ) STRICT;
  CREATE TABLE core_break_glass (
    id TEXT PRIMARY KEY, principal_id TEXT NOT NULL REFERENCES core_principals (id),
    tenant TEXT NOT NULL, pseudonym TEXT NOT NULL, reason BLOB NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, ended_at TEXT
  ) STRICT;
  CREATE INDEX core_break_glass_live ON core_break_glass (principal_id, tenant, expires_at);
  CREATE TABLE core_alerts (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, principal_id TEXT, tenant TEXT, subject TEXT,
    created_at TEXT NOT NULL, acknowledged_at TEXT, acknowledged_by TEXT
  ) STRICT;
  CREATE INDEX core_alerts_created ON core_alerts (created_at, id);
  CREATE INDEX core_alerts_open ON core_alerts (created_at, id) WHERE acknowledged_at IS NULL;
  CREATE TABLE core_training (
    principal_id TEXT NOT NULL REFERENCES core_principals (id),
    completed_at TEXT NOT NULL, expires_at TEXT NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL,
    PRIMARY KEY (principal_id, recorded_at)
  ) STRICT;
  CREATE TABLE core_recertifications (
    principal_id TEXT NOT NULL REFERENCES core_principals (id), role TEXT NOT NULL,
    tenants TEXT NOT NULL,            -- JSON array of tenant ids, as confirmed
    certified_by TEXT NOT NULL, certified_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    PRIMARY KEY (principal_id, certified_at)
  ) STRICT;
  `,
  // 7: an API token may be bound to its service's registered DPoP key (RFC 7638 thumbprint).
  `
  ALTER TABLE core_api_tokens ADD COLUMN jkt TEXT;
  `,
  // 8: the DPoP replay cache shared by processes on this file (RFC 9449 §11.1).
  `
  CREATE TABLE core_dpop_proofs (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) STRICT, WITHOUT ROWID;
  CREATE INDEX core_dpop_proofs_expiry ON core_dpop_proofs (expires_at);
  `,
  // 9: the sentinel (issue 4), sized for the read path (every clinical response records a
  // release). Per (principal, tenant, pseudonym) the last release, indexed to count a
  // principal's distinct patients since a window start; per principal the records and bytes
  // of each minute and each hour ('m'/'h' buckets: a 24-hour window sums at most 60 minutes and
  // 24 hours); per (role, day, principal) the distinct patients of that UTC day, kept as they
  // come. Then containments (at most one live per principal, by a partial unique index),
  // canary patients and the alert delivery outbox. Alerts gain the audit leaves they rest on
  // (JSON array of seq) and a close with a sealed note.
  `
  CREATE TABLE core_sentinel_releases (
    principal_id TEXT NOT NULL, tenant TEXT NOT NULL, pseudonym TEXT NOT NULL, last_at TEXT NOT NULL,
    PRIMARY KEY (principal_id, tenant, pseudonym)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX core_sentinel_releases_recent ON core_sentinel_releases (principal_id, last_at);
  CREATE TABLE core_sentinel_volume (
    principal_id TEXT NOT NULL, grain TEXT NOT NULL CHECK (grain IN ('m', 'h')), bucket TEXT NOT NULL,
    records INTEGER NOT NULL, bytes INTEGER NOT NULL,
    PRIMARY KEY (principal_id, grain, bucket)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE core_sentinel_daily (
    role TEXT NOT NULL, day TEXT NOT NULL, principal_id TEXT NOT NULL, patients INTEGER NOT NULL,
    PRIMARY KEY (role, day, principal_id)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE core_sentinel_containments (
    id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, reason TEXT NOT NULL, alert_id TEXT,
    created_at TEXT NOT NULL, lifted_at TEXT, lifted_by TEXT, lift_note BLOB
  ) STRICT;
  CREATE UNIQUE INDEX core_sentinel_containments_live ON core_sentinel_containments (principal_id) WHERE lifted_at IS NULL;
  CREATE INDEX core_sentinel_containments_created ON core_sentinel_containments (created_at, id);
  CREATE TABLE core_sentinel_canaries (
    tenant TEXT NOT NULL, pseudonym TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
    PRIMARY KEY (tenant, pseudonym)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE core_sentinel_deliveries (
    id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, channel TEXT NOT NULL CHECK (channel IN ('webhook', 'syslog')),
    payload TEXT NOT NULL, created_at TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at TEXT NOT NULL,
    delivered_at TEXT, last_error TEXT
  ) STRICT;
  CREATE INDEX core_sentinel_deliveries_due ON core_sentinel_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
  ALTER TABLE core_alerts ADD COLUMN evidence TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE core_alerts ADD COLUMN closed_at TEXT;
  ALTER TABLE core_alerts ADD COLUMN closed_by TEXT;
  ALTER TABLE core_alerts ADD COLUMN close_note BLOB;
  `,
  // 10: four-eyes bulk export (issue 4, deliverable 3; store/export-types.ts): one row per job,
  // its state machine decided in each UPDATE's WHERE clause, and the age ciphertext in chunks
  // until it is downloaded, cancelled, failed or expired. The reason is sealed by the caller.
  `
  CREATE TABLE core_export_jobs (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'ready', 'downloaded', 'rejected', 'cancelled', 'expired', 'failed')),
    export_view TEXT NOT NULL CHECK (export_view IN ('released', 'full')),
    scope TEXT NOT NULL,              -- JSON: from, to, types, identity
    recipient TEXT NOT NULL, recipient_label TEXT NOT NULL, purpose_of_use TEXT NOT NULL, reason BLOB NOT NULL,
    requested_by TEXT NOT NULL, requested_role TEXT NOT NULL, requested_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    decided_by TEXT, decided_at TEXT, run_started_at TEXT,
    records INTEGER, patients INTEGER, bytes INTEGER, sha256 TEXT, watermark TEXT, ready_at TEXT, download_expires_at TEXT,
    closed_by TEXT, closed_at TEXT, failure TEXT
  ) STRICT;
  CREATE INDEX core_export_jobs_listed ON core_export_jobs (requested_at, id);
  CREATE INDEX core_export_jobs_tenant ON core_export_jobs (tenant, requested_at, id);
  CREATE INDEX core_export_jobs_live ON core_export_jobs (status) WHERE status IN ('requested', 'ready', 'downloaded');
  CREATE TABLE core_export_chunks (
    job_id TEXT NOT NULL REFERENCES core_export_jobs (id), seq INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
  ) STRICT;
  `,
  // 11: the sentinel counts patients per minute and hour of their last release, so a release
  // costs the same whatever the principal's history (issue 4: at most 10% on read latency).
  // Each volume bucket gains the number of patients whose last release to the principal falls
  // in it, moved along as releases move them; rebuilt here from the per-patient rows. Nothing
  // reads those rows by time any more, so their index on last_at goes (one index write less).
  `
  ALTER TABLE core_sentinel_volume ADD COLUMN patients INTEGER NOT NULL DEFAULT 0;
  DROP INDEX core_sentinel_releases_recent;
  INSERT INTO core_sentinel_volume (principal_id, grain, bucket, records, bytes, patients)
    SELECT * FROM (
      SELECT principal_id, 'm', substr(last_at, 1, 16) || ':00.000Z', 0, 0, count(*) FROM core_sentinel_releases GROUP BY 1, 3
      UNION ALL
      SELECT principal_id, 'h', substr(last_at, 1, 13) || ':00:00.000Z', 0, 0, count(*) FROM core_sentinel_releases GROUP BY 1, 3)
    WHERE true
    ON CONFLICT (principal_id, grain, bucket) DO UPDATE SET patients = excluded.patients;
  `,
  // 12: sentinel leases. A node (per principal and tenant: the holder) may release up to a share
  // of what is left of the principal's budget without asking the store on every read; until the
  // lease ends, every other holder counts it as released (issue 4: one budget, at most 10% cost).
  `
  CREATE TABLE core_sentinel_leases (
    principal_id TEXT NOT NULL, holder TEXT NOT NULL, until TEXT NOT NULL,
    patients INTEGER NOT NULL, bytes INTEGER NOT NULL,
    PRIMARY KEY (principal_id, holder)
  ) STRICT, WITHOUT ROWID;
  `,
  // 13: restore drills' signed reports as production received them (issue 5); never changed.
  `
  CREATE TABLE core_backup_drills (
    id TEXT PRIMARY KEY, finished_at TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('passed', 'failed')),
    snapshot INTEGER, report TEXT NOT NULL, received_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX core_backup_drills_received ON core_backup_drills (received_at);
  CREATE INDEX core_backup_drills_passed ON core_backup_drills (outcome, received_at);
  CREATE TRIGGER core_backup_drills_no_update BEFORE UPDATE ON core_backup_drills
    BEGIN SELECT RAISE(ABORT, 'drill reports are append-only'); END;
  CREATE TRIGGER core_backup_drills_no_delete BEFORE DELETE ON core_backup_drills
    BEGIN SELECT RAISE(ABORT, 'drill reports are append-only'); END;
  `,
];

/** Connection settings; applied on every open, before anything else runs. */
export function applyPragmas(db: Database): void {
  db.pragma('journal_mode = WAL');
  // FULL: a commit (and so an audit append) is on disk when it returns.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Sorts and temp tables stay in memory: no plaintext-adjacent spill files on disk.
  db.pragma('temp_store = MEMORY');
  db.pragma('busy_timeout = 5000');
}

/** Brings the schema to the latest version; safe to call again and from two processes. */
export function migrateSqlite(db: Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string);
    }
    if (current < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
