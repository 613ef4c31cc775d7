/**
 * The PostgreSQL backend: a pg Pool shared by any number of labkluis nodes. Each method is
 * one transaction whose statements run under the role of the part they touch (see
 * postgres-tx.ts); the audit sequence lives in audit.head, so every node appends to one log.
 */
import pg from 'pg';
import { LabkluisError } from '../../kernel/index.js';
import { checkBatch, checkLimit, checkResourceQuery, storeError } from '../batch-check.js';
import type {
  ApiTokenRow, AuditHead, AuditQuery, AuditRow, AuditSealer, CheckpointRow, DataKeyRow, KeyPurpose,
  PersonRow, PrincipalRow, ResourceQuery, ResourceRow, ResourceType, Store, TenantRow, WriteBatch,
} from '../types.js';
import { PostgresAccounts } from './postgres-accounts.js';
import { appendSealed, writePersons, writeResources } from './postgres-commit.js';
import { PostgresDevices } from './postgres-devices.js';
import { PostgresPasskeys } from './postgres-passkeys.js';
import { PostgresSafeguards } from './postgres-safeguards.js';
import { PostgresSentinel, RELEASE_SESSION } from './postgres-sentinel.js';
import { PostgresExports } from './postgres-exports.js';
import { postgresRestore, postgresSnapshot } from './postgres-snapshot.js';
import type { SnapshotAddress, SnapshotTableRows, StoreSnapshot } from '../snapshot-tables.js';
import {
  toApiToken, toAudit, toCheckpoint, toDataKey, toHead, toPerson, toPrincipal, toResource, toTenant,
} from './postgres-rows.js';
import { migratePostgres, roleNames } from './postgres-schema.js';
import { buildAuditSearch, buildResourceSearch } from './postgres-search.js';
import { driver, firstRow, PgAutocommit, PgRunner, sessionConfig, type Named, type Row } from './postgres-tx.js';

const q = (name: string, text: string) => ({ name: `lk_${name}`, text });
const SQL = {
  insertTenant: q('insert_tenant', 'INSERT INTO core.tenants (id, name, kind, created_at) VALUES ($1, $2, $3, $4)'),
  getTenant: q('get_tenant', 'SELECT * FROM core.tenants WHERE id = $1'),
  listTenants: q('list_tenants', 'SELECT * FROM core.tenants ORDER BY id'),
  insertPrincipal: q('insert_principal', `INSERT INTO core.principals
    (id, kind, role, tenants, instrument, display_name, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`),
  getPrincipal: q('get_principal', `SELECT p.*, EXISTS (SELECT 1 FROM core.sentinel_containments c
    WHERE c.principal_id = p.id AND c.lifted_at IS NULL) AS contained FROM core.principals p WHERE p.id = $1`),
  setDisabled: q('set_disabled', 'UPDATE core.principals SET disabled = $2 WHERE id = $1 RETURNING 1'),
  insertApiToken: q('insert_api_token', `INSERT INTO core.api_tokens
    (id, principal_id, secret_hash, created_at, expires_at, revoked_at, jkt) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
  getApiToken: q('get_api_token', 'SELECT * FROM core.api_tokens WHERE id = $1'),
  // The first revocation time stands: revoking again must not move it later.
  revokeApiToken: q('revoke_api_token',
    'UPDATE core.api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING 1'),
  revokeApiTokensOf: q('revoke_api_tokens_of',
    'UPDATE core.api_tokens SET revoked_at = $2 WHERE principal_id = $1 AND revoked_at IS NULL RETURNING 1'),
  insertDataKey: q('insert_data_key', `INSERT INTO core.data_keys (tenant, purpose, version, kek_id, wrapped, created_at)
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING *`),
  getDataKey: q('get_data_key', 'SELECT * FROM core.data_keys WHERE tenant = $1 AND purpose = $2 AND version = $3'),
  getDataKeys: q('get_data_keys', 'SELECT * FROM core.data_keys WHERE tenant = $1 AND purpose = $2 ORDER BY version'),
  getPerson: q('get_person', 'SELECT * FROM identity.persons WHERE tenant = $1 AND pseudonym = $2 AND is_current'),
  findByBsn: q('find_by_bsn', `SELECT * FROM identity.persons WHERE tenant = $1 AND bsn_token = $2 AND is_current
    ORDER BY pseudonym`),
  getCurrent: q('get_current', 'SELECT * FROM clinical.resources WHERE tenant = $1 AND type = $2 AND id = $3 AND is_current'),
  getVersion: q('get_version', 'SELECT * FROM clinical.resources WHERE tenant = $1 AND type = $2 AND id = $3 AND version = $4'),
  getHead: q('get_head', 'SELECT size, frontier, last_mac FROM audit.head WHERE id'),
  readAudit: q('read_audit', 'SELECT * FROM audit.entries WHERE seq >= $1 ORDER BY seq LIMIT $2'),
  insertCheckpoint: q('insert_checkpoint', `INSERT INTO audit.checkpoints (size, root, note, created_at)
    VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING`),
  checkpointRoot: q('checkpoint_root', 'SELECT root FROM audit.checkpoints WHERE size = $1'),
  listCheckpoints: q('list_checkpoints', 'SELECT * FROM audit.checkpoints ORDER BY size'),
} as const;

export class PostgresStore implements Store {
  readonly backend = 'postgres' as const;
  readonly #pool: pg.Pool;
  #runner: Promise<PgRunner> | null = null;
  // The sentinel's release statement (every clinical response) runs on a second, smaller pool
  // whose sessions start in the core role with that statement's settings: one round trip per
  // release instead of BEGIN / statement / COMMIT. Made on first use (role names come from the
  // server), ended by close(). See RELEASE_SESSION in postgres-sentinel.ts.
  readonly #connectionString: string;
  readonly #releasePoolSize: number;
  #releasePool: pg.Pool | null = null;
  #releases: Promise<PgAutocommit> | null = null;
  #closed = false;
  readonly accounts: PostgresAccounts = new PostgresAccounts(() => this.#run());
  readonly passkeys: PostgresPasskeys = new PostgresPasskeys(() => this.#run());
  readonly devices: PostgresDevices = new PostgresDevices(() => this.#run());
  readonly safeguards: PostgresSafeguards = new PostgresSafeguards(() => this.#run());
  readonly sentinel: PostgresSentinel = new PostgresSentinel(() => this.#run(), () => this.#release());
  readonly exports: PostgresExports = new PostgresExports(() => this.#run());

  constructor(options: { readonly connectionString: string; readonly poolSize?: number }) {
    const { connectionString, poolSize = 10 } = options;
    if (typeof connectionString !== 'string' || connectionString === '') throw new TypeError('connectionString is required');
    if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new TypeError('poolSize must be a positive integer');
    this.#pool = new pg.Pool({ connectionString, max: poolSize });
    this.#connectionString = connectionString;
    this.#releasePoolSize = Math.ceil(poolSize / 2);
    sessionConfig(connectionString, 'core', RELEASE_SESSION); // a connection string it cannot use is ERR_CONFIG now, not at the first read
    // An idle client that loses its connection emits 'error'; the pool drops it. Without a
    // listener Node would crash the process; the next query reports the failure instead.
    this.#pool.on('error', () => {});
  }

  /** Role names depend on the database name, learnt once from the server. */
  #run(): Promise<PgRunner> {
    this.#runner ??= driver(() => this.#pool.query<{ db: string }>('SELECT current_database() AS db'))
      .then((res) => new PgRunner(this.#pool, roleNames(String(res.rows[0]?.db))))
      .catch((e: unknown) => {
        this.#runner = null; // let a later call retry once the server is reachable
        throw e;
      });
    return this.#runner;
  }

  /** The release pool, made once the role names are known (after migrate has made the roles). */
  #release(): Promise<PgAutocommit> {
    if (this.#closed) return Promise.reject(storeError('postgres', 'CLOSED'));
    this.#releases ??= this.#run().then(({ roles }) => {
      if (this.#closed) throw storeError('postgres', 'CLOSED');
      const pool = new pg.Pool({ ...sessionConfig(this.#connectionString, roles.core, RELEASE_SESSION), max: this.#releasePoolSize });
      pool.on('error', () => {}); // as for the main pool
      this.#releasePool = pool;
      return new PgAutocommit(pool);
    }).catch((e: unknown) => {
      this.#releases = null;
      throw e;
    });
    return this.#releases;
  }

  async migrate(): Promise<void> {
    const { roles } = await this.#run();
    // Migration runs as the connecting (owning) user: it creates the roles it later drops to.
    const client = await driver(() => this.#pool.connect());
    try {
      await driver(async () => {
        await client.query('BEGIN');
        try {
          await migratePostgres(client, roles);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw e;
        }
      });
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([this.#pool, this.#releasePool].map((pool) => pool?.end().catch(() => {})));
  }

  async insertTenant(t: TenantRow): Promise<void> {
    await (await this.#run()).run('core', (tx) => tx.query(SQL.insertTenant, [t.id, t.name, t.kind, t.createdAt]));
  }
  async getTenant(id: string): Promise<TenantRow | null> {
    return firstRow(await (await this.#run()).read('core', SQL.getTenant, [id]), toTenant);
  }
  async listTenants(): Promise<TenantRow[]> {
    return (await (await this.#run()).read('core', SQL.listTenants, [])).map(toTenant);
  }

  async insertPrincipal(p: PrincipalRow): Promise<void> {
    await (await this.#run()).run('core', (tx) => tx.query(SQL.insertPrincipal, [
      p.id, p.kind, p.role, p.tenants, p.instrument, p.displayName, p.disabled, p.createdAt,
    ]));
  }
  async snapshot(): Promise<StoreSnapshot> {
    await this.#run(); // migrated: the roles and tables exist
    return postgresSnapshot(this.#connectionString);
  }
  async snapshotAddress(): Promise<SnapshotAddress> {
    await this.#run(); // migrated
    return { kind: 'postgres', connectionString: this.#connectionString };
  }
  async restoreSnapshot(tables: AsyncIterable<SnapshotTableRows>): Promise<Record<string, number>> {
    await this.#run();
    return postgresRestore(this.#connectionString, tables);
  }
  async getPrincipal(id: string): Promise<PrincipalRow | null> {
    return firstRow(await (await this.#run()).read('core', SQL.getPrincipal, [id]), toPrincipal);
  }
  async setPrincipalDisabled(id: string, disabled: boolean): Promise<void> {
    await this.#updateOne(SQL.setDisabled, [id, disabled]);
  }
  async insertApiToken(t: ApiTokenRow): Promise<void> {
    await (await this.#run()).run('core', (tx) => tx.query(SQL.insertApiToken, [
      t.id, t.principalId, t.secretHash, t.createdAt, t.expiresAt, t.revokedAt, t.jkt,
    ]));
  }
  async getApiToken(id: string): Promise<ApiTokenRow | null> {
    return firstRow(await (await this.#run()).read('core', SQL.getApiToken, [id]), toApiToken);
  }
  async revokeApiToken(id: string, at: string): Promise<void> {
    await this.#updateOne(SQL.revokeApiToken, [id, at]);
  }
  async revokeApiTokensOf(principalId: string, at: string): Promise<number> {
    return (await (await this.#run()).run('core', (tx) => tx.query(SQL.revokeApiTokensOf, [principalId, at]))).length;
  }

  /** An UPDATE in core that must hit exactly one row. */
  async #updateOne(statement: Named, values: unknown[]): Promise<void> {
    const rows = await (await this.#run()).run('core', (tx) => tx.query(statement, values));
    if (rows.length !== 1) throw new LabkluisError('ERR_NOT_FOUND', 'no such record');
  }

  async insertDataKey(k: DataKeyRow): Promise<DataKeyRow> {
    const rows = await (await this.#run()).run('core', async (tx) => {
      const inserted = await tx.query(SQL.insertDataKey, [k.tenant, k.purpose, k.version, k.kekId, k.wrapped, k.createdAt]);
      // Lost the race (or the key existed): the next statement's snapshot sees the winner.
      return inserted.length > 0 ? inserted : tx.query(SQL.getDataKey, [k.tenant, k.purpose, k.version]);
    });
    return toDataKey(rows[0] as Row);
  }
  async getDataKeys(tenant: string, purpose: KeyPurpose): Promise<DataKeyRow[]> {
    return (await (await this.#run()).read('core', SQL.getDataKeys, [tenant, purpose])).map(toDataKey);
  }

  async commit(batch: WriteBatch, seal: AuditSealer): Promise<readonly AuditRow[]> {
    checkBatch(batch);
    const tenants = batch.tenants ?? [];
    const firstPart = tenants.length > 0 ? 'core' : batch.persons.length > 0 ? 'identity' : batch.resources.length > 0 ? 'clinical' : 'audit';
    return (await this.#run()).run(firstPart, async (tx) => {
      if (tenants.length > 0) {
        await tx.as('core');
        for (const t of tenants) await tx.query(SQL.insertTenant, [t.id, t.name, t.kind, t.createdAt]);
      }
      await writePersons(tx, batch.persons);
      await writeResources(tx, batch.resources);
      return appendSealed(tx, seal);
    });
  }

  async getPerson(tenant: string, pseudonym: string): Promise<PersonRow | null> {
    return firstRow(await (await this.#run()).read('identity', SQL.getPerson, [tenant, pseudonym]), toPerson);
  }
  async findPersonsByBsn(tenant: string, bsnToken: string): Promise<PersonRow[]> {
    return (await (await this.#run()).read('identity', SQL.findByBsn, [tenant, bsnToken])).map(toPerson);
  }
  async getResource(tenant: string, type: ResourceType, id: string, version?: number): Promise<ResourceRow | null> {
    const runner = await this.#run();
    const rows = version === undefined
      ? await runner.read('clinical', SQL.getCurrent, [tenant, type, id])
      : await runner.read('clinical', SQL.getVersion, [tenant, type, id, version]);
    return firstRow(rows, toResource);
  }
  async searchResources(query: ResourceQuery): Promise<ResourceRow[]> {
    checkResourceQuery(query);
    const { text, values } = buildResourceSearch(query);
    return (await (await this.#run()).read('clinical', text, values)).map(toResource);
  }

  async appendAudit(seal: AuditSealer): Promise<readonly AuditRow[]> {
    return (await this.#run()).run('audit', (tx) => appendSealed(tx, seal));
  }
  async auditHead(): Promise<AuditHead> {
    const [row] = await (await this.#run()).read('audit', SQL.getHead, []);
    if (row === undefined) throw new LabkluisError('ERR_STORE', 'postgres store failed (NO_AUDIT_HEAD)');
    return toHead(row);
  }
  async readAudit(fromSeq: number, limit: number): Promise<AuditRow[]> {
    checkLimit(limit);
    return (await (await this.#run()).read('audit', SQL.readAudit, [fromSeq, limit])).map(toAudit);
  }
  async searchAudit(query: AuditQuery): Promise<AuditRow[]> {
    checkLimit(query.limit);
    const { text, values } = buildAuditSearch(query);
    return (await (await this.#run()).read('audit', text, values)).map(toAudit);
  }
  async insertCheckpoint(c: CheckpointRow): Promise<void> {
    const stored = await (await this.#run()).run('audit', async (tx) => {
      await tx.query(SQL.insertCheckpoint, [c.size, c.root, c.note, c.createdAt]);
      return (await tx.query(SQL.checkpointRoot, [c.size]))[0]?.root as Buffer | undefined;
    });
    // Two different roots for one size mean two histories of the log: never keep quiet about it.
    if (!stored || !Buffer.from(stored).equals(c.root)) throw new LabkluisError('ERR_INTEGRITY', 'a checkpoint for this size already exists with another root');
  }
  async listCheckpoints(): Promise<CheckpointRow[]> {
    return (await (await this.#run()).read('audit', SQL.listCheckpoints, [])).map(toCheckpoint);
  }
}

