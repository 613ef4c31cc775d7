/**
 * PostgreSQL schema, roles and grants. Each part (core, identity, clinical, audit) is a schema
 * with its own NOLOGIN role; the store runs every statement after SET LOCAL ROLE to the part
 * it touches, so a bug or an injection in clinical code still cannot read identity rows,
 * and nothing the application runs can rewrite the audit log.
 *
 * Roles are cluster-wide, so they are named after the database (<db>_clinical ...): two
 * databases on one server (tests, staging) never share a role.
 */
import { LabkluisError } from '../../kernel/index.js';

export type Part = 'core' | 'identity' | 'clinical' | 'audit';
export const PARTS: readonly Part[] = Object.freeze(['core', 'identity', 'clinical', 'audit']);

/** Role names per part, unquoted; quoteRoles() gives identifiers ready to splice into SQL. */
export type RoleNames = Readonly<Record<Part, string>>;

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteRoles(roles: RoleNames): RoleNames {
  return Object.freeze({
    core: quoteIdent(roles.core), identity: quoteIdent(roles.identity),
    clinical: quoteIdent(roles.clinical), audit: quoteIdent(roles.audit),
  });
}

export function roleNames(database: string): RoleNames {
  const out: Partial<Record<Part, string>> = {};
  for (const part of PARTS) {
    const name = `${database}_${part}`;
    // PostgreSQL truncates identifiers at 63 bytes: two parts could end up sharing one role.
    if (Buffer.byteLength(name) > 63) throw new LabkluisError('ERR_CONFIG', 'database name too long for part roles');
    out[part] = name;
  }
  return Object.freeze(out as Record<Part, string>);
}

/** Numbered migrations; each entry runs once, in order, inside the migration transaction. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE core.tenants (id text PRIMARY KEY, name text NOT NULL, kind text NOT NULL, created_at text NOT NULL);
  CREATE TABLE core.principals (
    id text PRIMARY KEY, kind text NOT NULL, role text NOT NULL, tenants text[] NOT NULL,
    instrument text, display_name text NOT NULL, disabled boolean NOT NULL, created_at text NOT NULL);
  CREATE TABLE core.api_tokens (
    id text PRIMARY KEY, principal_id text NOT NULL REFERENCES core.principals (id),
    secret_hash bytea NOT NULL, created_at text NOT NULL, expires_at text, revoked_at text);
  CREATE TABLE core.data_keys (
    tenant text NOT NULL, purpose text NOT NULL, version integer NOT NULL, kek_id text NOT NULL,
    wrapped bytea NOT NULL, created_at text NOT NULL, PRIMARY KEY (tenant, purpose, version));

  CREATE TABLE identity.persons (
    tenant text NOT NULL, pseudonym text NOT NULL, version integer NOT NULL, bsn_token text,
    body bytea NOT NULL, entered_by text NOT NULL, last_updated text NOT NULL, is_current boolean NOT NULL,
    PRIMARY KEY (tenant, pseudonym, version));
  CREATE UNIQUE INDEX persons_bsn ON identity.persons (tenant, bsn_token)
    WHERE is_current AND bsn_token IS NOT NULL;

  CREATE TABLE clinical.resources (
    pos bigserial PRIMARY KEY, tenant text NOT NULL, type text NOT NULL, id text NOT NULL,
    version integer NOT NULL, pseudonym text, status text, date text,
    tokens text[] NOT NULL, unique_tokens text[] NOT NULL, body bytea NOT NULL,
    entered_by text NOT NULL, last_updated text NOT NULL, is_current boolean NOT NULL,
    UNIQUE (tenant, type, id, version));
  CREATE INDEX resources_current ON clinical.resources (tenant, type, pos) WHERE is_current;
  CREATE INDEX resources_subject ON clinical.resources (tenant, pseudonym, pos) WHERE is_current;
  CREATE INDEX resources_tokens ON clinical.resources USING gin (tokens) WHERE is_current;
  CREATE TABLE clinical.unique_tokens (
    tenant text NOT NULL, token text NOT NULL, type text NOT NULL, id text NOT NULL,
    PRIMARY KEY (tenant, token));
  CREATE INDEX unique_tokens_owner ON clinical.unique_tokens (tenant, type, id);

  CREATE TABLE audit.entries (
    seq bigint PRIMARY KEY, time text NOT NULL, action text NOT NULL, principal_id text, tenant text,
    patients text[] NOT NULL, leaf bytea NOT NULL, leaf_hash bytea NOT NULL, mac bytea NOT NULL,
    root_after bytea NOT NULL);
  CREATE INDEX entries_principal ON audit.entries (principal_id, seq);
  CREATE INDEX entries_tenant ON audit.entries (tenant, seq);
  CREATE INDEX entries_time ON audit.entries (time);
  CREATE TABLE audit.entry_patients (pseudonym text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (pseudonym, seq));
  CREATE TABLE audit.head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id), size bigint NOT NULL,
    frontier bytea[] NOT NULL, last_mac bytea);
  INSERT INTO audit.head (id, size, frontier, last_mac) VALUES (true, 0, '{}', NULL);
  CREATE TABLE audit.checkpoints (size bigint PRIMARY KEY, root bytea NOT NULL, note text NOT NULL, created_at text NOT NULL);

  -- Grants already keep the audit role from rewriting entries; the trigger also stops the
  -- owner and any role granted more later (NEN 7513: the log is append-only).
  CREATE FUNCTION audit.forbid_change() RETURNS trigger LANGUAGE plpgsql AS
    $fn$ BEGIN RAISE EXCEPTION 'audit entries are append-only' USING ERRCODE = 'insufficient_privilege'; END $fn$;
  CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON audit.entries
    FOR EACH ROW EXECUTE FUNCTION audit.forbid_change();
  CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON audit.entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit.forbid_change();
  CREATE TRIGGER entry_patients_append_only BEFORE UPDATE OR DELETE ON audit.entry_patients
    FOR EACH ROW EXECUTE FUNCTION audit.forbid_change();
  -- Signed checkpoints are the evidence against truncation: append-only as well.
  CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON audit.checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit.forbid_change();
  CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON audit.checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit.forbid_change();
  `,
  // 2: human sign-in (accounts, one-time enrolment links, device-bound sessions, refresh tokens).
  `
  CREATE TABLE core.accounts (
    principal_id text PRIMARY KEY REFERENCES core.principals (id),
    username text NOT NULL UNIQUE, password_hash text, password_changed_at text,
    totp_allowed boolean NOT NULL, created_at text NOT NULL);
  CREATE TABLE core.enrolment_links (
    secret_hash bytea PRIMARY KEY, principal_id text NOT NULL REFERENCES core.principals (id),
    purpose text NOT NULL, created_by text, created_at text NOT NULL, expires_at text NOT NULL, used_at text);
  CREATE TABLE core.sessions (
    id text PRIMARY KEY, principal_id text NOT NULL REFERENCES core.principals (id), jkt text NOT NULL,
    created_at text NOT NULL, last_seen_at text NOT NULL, idle_seconds integer NOT NULL,
    absolute_expires_at text NOT NULL, authenticated_at text NOT NULL, auth_method text NOT NULL,
    revoked_at text, revoked_reason text, ip text, user_agent text);
  CREATE INDEX sessions_principal ON core.sessions (principal_id, created_at);
  CREATE TABLE core.refresh_tokens (
    secret_hash bytea PRIMARY KEY, session_id text NOT NULL REFERENCES core.sessions (id),
    created_at text NOT NULL, expires_at text NOT NULL, used_at text);
  `,
  // 3: passkeys (WebAuthn credential records) and single-use ceremony challenges. The counter is
  // an unsigned 32-bit value, beyond integer's range. A challenge's principal has no foreign key:
  // starting a sign-in for an unknown principal must not fail differently from a known one.
  `
  CREATE TABLE core.passkeys (
    credential_id text PRIMARY KEY, principal_id text NOT NULL REFERENCES core.principals (id),
    public_key bytea NOT NULL, counter bigint NOT NULL, transports text[] NOT NULL,
    backed_up boolean NOT NULL, device_type text NOT NULL, created_at text NOT NULL, last_used_at text,
    name text NOT NULL);
  CREATE INDEX passkeys_principal ON core.passkeys (principal_id, created_at);
  CREATE TABLE core.passkey_challenges (
    id text PRIMARY KEY, challenge text NOT NULL, purpose text NOT NULL, principal_id text,
    created_at text NOT NULL, expires_at text NOT NULL, used_at text);
  CREATE INDEX passkey_challenges_expiry ON core.passkey_challenges (expires_at);
  `,
  // 4: the device authorisation grant (RFC 8628): the CLI's pending sign-ins, found by the hash of
  // the device code (the CLI polls) or by the user code (the person approves). The checks keep a
  // grant's state one of pending, approved, denied or redeemed after approval.
  `
  CREATE TABLE core.device_grants (
    device_code_hash bytea PRIMARY KEY, user_code text NOT NULL UNIQUE, jkt text NOT NULL,
    created_at text NOT NULL, expires_at text NOT NULL, interval_seconds integer NOT NULL, last_polled_at text,
    approved_by text REFERENCES core.principals (id), approved_at text, denied_at text, redeemed_at text,
    CHECK ((approved_by IS NULL) = (approved_at IS NULL)),
    CHECK (approved_at IS NULL OR denied_at IS NULL),
    CHECK (redeemed_at IS NULL OR approved_at IS NOT NULL));
  CREATE INDEX device_grants_expiry ON core.device_grants (expires_at);
  `,
  // 5: second factors besides passkeys, break-glass and access hygiene: a TOTP factor per person
  // (sealed secret, last accepted time step, a bigint like every counter), single-use recovery
  // codes (hashes), break-glass grants, alerts for the security officer (an alert's principal
  // has no foreign key: it may concern a principal the store does not know), and the records
  // of training and of access recertification, append-only by grant.
  `
  CREATE TABLE core.totp (
    principal_id text PRIMARY KEY REFERENCES core.principals (id),
    secret bytea NOT NULL, created_at text NOT NULL, last_step bigint NOT NULL);
  CREATE TABLE core.recovery_codes (
    principal_id text NOT NULL REFERENCES core.principals (id), code_hash bytea NOT NULL,
    created_at text NOT NULL, used_at text, PRIMARY KEY (principal_id, code_hash));
  CREATE TABLE core.break_glass (
    id text PRIMARY KEY, principal_id text NOT NULL REFERENCES core.principals (id),
    tenant text NOT NULL, pseudonym text NOT NULL, reason bytea NOT NULL,
    created_at text NOT NULL, expires_at text NOT NULL, ended_at text);
  CREATE INDEX break_glass_live ON core.break_glass (principal_id, tenant, expires_at);
  CREATE TABLE core.alerts (
    id text PRIMARY KEY, kind text NOT NULL, principal_id text, tenant text, subject text,
    created_at text NOT NULL, acknowledged_at text, acknowledged_by text);
  CREATE INDEX alerts_created ON core.alerts (created_at, id);
  CREATE INDEX alerts_open ON core.alerts (created_at, id) WHERE acknowledged_at IS NULL;
  CREATE TABLE core.training (
    principal_id text NOT NULL REFERENCES core.principals (id),
    completed_at text NOT NULL, expires_at text NOT NULL, recorded_by text NOT NULL, recorded_at text NOT NULL,
    PRIMARY KEY (principal_id, recorded_at));
  CREATE TABLE core.recertifications (
    principal_id text NOT NULL REFERENCES core.principals (id), role text NOT NULL, tenants text[] NOT NULL,
    certified_by text NOT NULL, certified_at text NOT NULL, expires_at text NOT NULL,
    PRIMARY KEY (principal_id, certified_at));
  `,
  // 6: an API token may be bound to its service's registered DPoP key (RFC 7638 thumbprint).
  `
  ALTER TABLE core.api_tokens ADD COLUMN jkt text;
  `,
  // 7: the DPoP replay cache shared by every node (RFC 9449 §11.1).
  `
  CREATE TABLE core.dpop_proofs (key text PRIMARY KEY, expires_at bigint NOT NULL);
  CREATE INDEX dpop_proofs_expiry ON core.dpop_proofs (expires_at);
  `,
  // 8: the sentinel (issue 4), sized for the read path (every clinical response records a
  // release). Per (principal, tenant, pseudonym) the last release, indexed to count a
  // principal's distinct patients since a window start; per principal the records and bytes
  // of each minute and each hour ('m'/'h' buckets: a 24-hour window sums at most 60 minutes and
  // 24 hours); per (role, day, principal) the distinct patients of that UTC day, kept as they
  // come. Then containments (at most one live per principal, by a partial unique index),
  // canary patients and the alert delivery outbox. Alerts gain the audit leaves they rest on
  // and a close with a sealed note.
  `
  -- first_of_day: whether the row's last upsert was the patient's first release to the principal
  -- that UTC day, for that upsert's RETURNING (it cannot return the old row before PostgreSQL 18).
  CREATE TABLE core.sentinel_releases (
    principal_id text NOT NULL, tenant text NOT NULL, pseudonym text NOT NULL, last_at text NOT NULL,
    first_of_day boolean NOT NULL,
    PRIMARY KEY (principal_id, tenant, pseudonym));
  CREATE INDEX sentinel_releases_recent ON core.sentinel_releases (principal_id, last_at);
  CREATE TABLE core.sentinel_volume (
    principal_id text NOT NULL, grain text NOT NULL CHECK (grain IN ('m', 'h')), bucket text NOT NULL,
    records bigint NOT NULL, bytes bigint NOT NULL,
    PRIMARY KEY (principal_id, grain, bucket));
  CREATE TABLE core.sentinel_daily (
    role text NOT NULL, day text NOT NULL, principal_id text NOT NULL, patients integer NOT NULL,
    PRIMARY KEY (role, day, principal_id));
  CREATE TABLE core.sentinel_containments (
    id text PRIMARY KEY, principal_id text NOT NULL, reason text NOT NULL, alert_id text,
    created_at text NOT NULL, lifted_at text, lifted_by text, lift_note bytea);
  CREATE UNIQUE INDEX sentinel_containments_live ON core.sentinel_containments (principal_id) WHERE lifted_at IS NULL;
  CREATE INDEX sentinel_containments_created ON core.sentinel_containments (created_at, id);
  CREATE TABLE core.sentinel_canaries (
    tenant text NOT NULL, pseudonym text NOT NULL, created_at text NOT NULL, created_by text NOT NULL,
    PRIMARY KEY (tenant, pseudonym));
  CREATE TABLE core.sentinel_deliveries (
    id text PRIMARY KEY, alert_id text NOT NULL, channel text NOT NULL CHECK (channel IN ('webhook', 'syslog')),
    payload text NOT NULL, created_at text NOT NULL, attempts integer NOT NULL, next_attempt_at text NOT NULL,
    delivered_at text, last_error text);
  CREATE INDEX sentinel_deliveries_due ON core.sentinel_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
  ALTER TABLE core.alerts ADD COLUMN evidence bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN closed_at text, ADD COLUMN closed_by text, ADD COLUMN close_note bytea;
  `,
  // 9: four-eyes bulk export (issue 4, deliverable 3; store/export-types.ts): one row per job,
  // its state machine decided in each UPDATE's WHERE clause, and the age ciphertext in chunks
  // until it is downloaded, cancelled, failed or expired. The reason is sealed by the caller.
  `
  CREATE TABLE core.export_jobs (
    id text PRIMARY KEY, tenant text NOT NULL,
    status text NOT NULL CHECK (status IN ('requested', 'approved', 'ready', 'downloaded', 'rejected', 'cancelled', 'expired', 'failed')),
    export_view text NOT NULL CHECK (export_view IN ('released', 'full')),
    scope text NOT NULL,
    recipient text NOT NULL, recipient_label text NOT NULL, purpose_of_use text NOT NULL, reason bytea NOT NULL,
    requested_by text NOT NULL, requested_role text NOT NULL, requested_at text NOT NULL, expires_at text NOT NULL,
    decided_by text, decided_at text, run_started_at text,
    records bigint, patients bigint, bytes bigint, sha256 text, watermark text, ready_at text, download_expires_at text,
    closed_by text, closed_at text, failure text);
  CREATE INDEX export_jobs_listed ON core.export_jobs (requested_at, id COLLATE "C");
  CREATE INDEX export_jobs_tenant ON core.export_jobs (tenant, requested_at, id COLLATE "C");
  CREATE INDEX export_jobs_live ON core.export_jobs (status) WHERE status IN ('requested', 'ready', 'downloaded');
  CREATE TABLE core.export_chunks (
    job_id text NOT NULL REFERENCES core.export_jobs (id), seq integer NOT NULL, data bytea NOT NULL,
    PRIMARY KEY (job_id, seq));
  `,
  // 10: the sentinel counts patients per minute and hour of their last release, so a release
  // costs the same whatever the principal's history (issue 4: at most 10% on read latency).
  // Each volume bucket gains the number of patients whose last release to the principal falls
  // in it, moved along as releases move them; rebuilt here from the per-patient rows. Nothing
  // reads those rows by time any more, so their index on last_at goes (one index write less).
  // prev_at replaces first_of_day: the row's last_at before its last upsert (NULL when that
  // upsert inserted it), for that upsert's RETURNING (no OLD in RETURNING before PostgreSQL 18).
  // Old nodes' release statement needs first_of_day: stop them before this migration runs.
  `
  ALTER TABLE core.sentinel_volume ADD COLUMN patients integer NOT NULL DEFAULT 0;
  ALTER TABLE core.sentinel_releases DROP COLUMN first_of_day, ADD COLUMN prev_at text;
  DROP INDEX core.sentinel_releases_recent;
  INSERT INTO core.sentinel_volume AS v (principal_id, grain, bucket, records, bytes, patients)
    SELECT r.principal_id, b.grain, b.bucket, 0, 0, count(*) FROM core.sentinel_releases r
    CROSS JOIN LATERAL (VALUES ('m', left(r.last_at, 16) || ':00.000Z'), ('h', left(r.last_at, 13) || ':00:00.000Z')) AS b (grain, bucket)
    GROUP BY 1, 2, 3
    ON CONFLICT (principal_id, grain, bucket) DO UPDATE SET patients = EXCLUDED.patients;
  `,
  // 11: sentinel leases. A node (per principal and tenant: the holder) may release up to a share
  // of what is left of the principal's budget without asking the store on every read; until the
  // lease ends, every other holder counts it as released (issue 4: one budget, at most 10% cost).
  `
  CREATE TABLE core.sentinel_leases (
    principal_id text NOT NULL, holder text NOT NULL, until text NOT NULL,
    patients bigint NOT NULL, bytes bigint NOT NULL,
    PRIMARY KEY (principal_id, holder));
  `,
  // 12: restore drills' signed reports as production received them (issue 5); never changed.
  `
  CREATE TABLE core.backup_drills (
    id text PRIMARY KEY, finished_at text NOT NULL, outcome text NOT NULL CHECK (outcome IN ('passed', 'failed')),
    snapshot bigint, report text NOT NULL, received_at text NOT NULL);
  CREATE INDEX backup_drills_received ON core.backup_drills (received_at);
  CREATE INDEX backup_drills_passed ON core.backup_drills (outcome, received_at);
  CREATE FUNCTION core.forbid_drill_change() RETURNS trigger LANGUAGE plpgsql AS
    $fn$ BEGIN RAISE EXCEPTION 'drill reports are append-only' USING ERRCODE = 'insufficient_privilege'; END $fn$;
  CREATE TRIGGER backup_drills_append_only BEFORE UPDATE OR DELETE ON core.backup_drills
    FOR EACH ROW EXECUTE FUNCTION core.forbid_drill_change();
  `,
];

/** Roles and schemas; run on every migrate, before the tables. */
function rolesAndSchemas(roles: RoleNames): string {
  return PARTS.map((part) => {
    const role = quoteIdent(roles[part]);
    const literal = `'${roles[part].replaceAll("'", "''")}'`;
    return `
    DO $do$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal}) THEN CREATE ROLE ${role} NOLOGIN; END IF;
    END $do$;
    GRANT ${role} TO CURRENT_USER;
    CREATE SCHEMA IF NOT EXISTS ${part};`;
  }).join('\n');
}

/**
 * Least privilege per part, re-applied on every migrate (GRANT is idempotent). UPDATE is
 * granted per column so a role can only flip what the store flips. The audit role may
 * INSERT and SELECT entries, and UPDATE the single head row, never entries.
 */
function grants(roles: RoleNames): string {
  const r = quoteRoles(roles);
  return `
  GRANT USAGE ON SCHEMA core TO ${r.core};
  GRANT SELECT, INSERT ON core.tenants, core.principals, core.api_tokens, core.data_keys TO ${r.core};
  GRANT UPDATE (disabled) ON core.principals TO ${r.core};
  GRANT UPDATE (revoked_at) ON core.api_tokens TO ${r.core};
  GRANT SELECT, INSERT, DELETE ON core.dpop_proofs TO ${r.core};
  GRANT UPDATE (expires_at) ON core.dpop_proofs TO ${r.core};
  GRANT SELECT, INSERT ON core.accounts, core.enrolment_links, core.sessions, core.refresh_tokens TO ${r.core};
  GRANT UPDATE (password_hash, password_changed_at) ON core.accounts TO ${r.core};
  GRANT UPDATE (used_at) ON core.enrolment_links, core.refresh_tokens TO ${r.core};
  GRANT UPDATE (last_seen_at, authenticated_at, revoked_at, revoked_reason) ON core.sessions TO ${r.core};
  GRANT SELECT, INSERT, DELETE ON core.passkeys, core.passkey_challenges TO ${r.core};
  GRANT UPDATE (counter, last_used_at) ON core.passkeys TO ${r.core};
  GRANT UPDATE (used_at) ON core.passkey_challenges TO ${r.core};
  GRANT SELECT, INSERT, DELETE ON core.device_grants TO ${r.core};
  GRANT UPDATE (last_polled_at, interval_seconds, approved_by, approved_at, denied_at, redeemed_at) ON core.device_grants TO ${r.core};
  GRANT SELECT, INSERT ON core.totp, core.recovery_codes, core.break_glass, core.alerts, core.training,
    core.recertifications TO ${r.core};
  GRANT DELETE ON core.totp, core.recovery_codes TO ${r.core};
  GRANT UPDATE (secret, created_at, last_step) ON core.totp TO ${r.core};
  GRANT UPDATE (used_at) ON core.recovery_codes TO ${r.core};
  GRANT UPDATE (ended_at) ON core.break_glass TO ${r.core};
  GRANT UPDATE (acknowledged_at, acknowledged_by, closed_at, closed_by, close_note) ON core.alerts TO ${r.core};
  GRANT SELECT, INSERT, DELETE ON core.sentinel_releases, core.sentinel_volume, core.sentinel_canaries TO ${r.core};
  GRANT UPDATE (last_at, prev_at) ON core.sentinel_releases TO ${r.core};
  GRANT UPDATE (records, bytes, patients) ON core.sentinel_volume TO ${r.core};
  GRANT SELECT, INSERT ON core.sentinel_daily, core.sentinel_containments, core.sentinel_deliveries TO ${r.core};
  GRANT UPDATE (patients) ON core.sentinel_daily TO ${r.core};
  GRANT UPDATE (lifted_at, lifted_by, lift_note) ON core.sentinel_containments TO ${r.core};
  GRANT UPDATE (attempts, next_attempt_at, delivered_at, last_error) ON core.sentinel_deliveries TO ${r.core};
  GRANT SELECT, INSERT, DELETE ON core.sentinel_leases TO ${r.core};
  GRANT UPDATE (until, patients, bytes) ON core.sentinel_leases TO ${r.core};
  -- Export jobs (migration 9): never deleted; only their state, decision, run, result and end change.
  GRANT SELECT, INSERT ON core.export_jobs TO ${r.core};
  GRANT UPDATE (status, decided_by, decided_at, run_started_at, records, patients, bytes, sha256, watermark, ready_at,
    download_expires_at, closed_by, closed_at, failure) ON core.export_jobs TO ${r.core};
  GRANT SELECT, INSERT, DELETE ON core.export_chunks TO ${r.core};
  -- Restore drills' reports (migration 12): only ever added.
  GRANT SELECT, INSERT ON core.backup_drills TO ${r.core};

  GRANT USAGE ON SCHEMA identity TO ${r.identity};
  GRANT SELECT, INSERT ON identity.persons TO ${r.identity};
  GRANT UPDATE (is_current) ON identity.persons TO ${r.identity};

  GRANT USAGE ON SCHEMA clinical TO ${r.clinical};
  GRANT SELECT, INSERT ON clinical.resources TO ${r.clinical};
  GRANT UPDATE (is_current) ON clinical.resources TO ${r.clinical};
  GRANT USAGE ON SEQUENCE clinical.resources_pos_seq TO ${r.clinical};
  GRANT SELECT, INSERT, DELETE ON clinical.unique_tokens TO ${r.clinical};

  GRANT USAGE ON SCHEMA audit TO ${r.audit};
  GRANT SELECT, INSERT ON audit.entries, audit.entry_patients, audit.checkpoints TO ${r.audit};
  GRANT SELECT ON audit.head TO ${r.audit};
  GRANT UPDATE (size, frontier, last_mac) ON audit.head TO ${r.audit};`;
}

/** Minimal structural view of a pg client: the migration needs nothing more. */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** A fixed key for pg_advisory_xact_lock: two processes migrating at once take turns. */
const MIGRATION_LOCK = 0x6c6b6c73; // 'lkls'

/** Runs inside a transaction the caller opened (as the connecting, owning user). */
export async function migratePostgres(client: SqlClient, roles: RoleNames): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
  await client.query(`${rolesAndSchemas(roles)}
    CREATE TABLE IF NOT EXISTS core.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`);
  const { rows } = await client.query('SELECT coalesce(max(version), 0) AS v FROM core.schema_migrations');
  for (let v = Number(rows[0]?.v ?? 0); v < MIGRATIONS.length; v++) {
    await client.query(MIGRATIONS[v] as string);
    await client.query('INSERT INTO core.schema_migrations (version) VALUES ($1)', [v + 1]);
  }
  await client.query(grants(roles));
}
