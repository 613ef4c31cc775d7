/**
 * The embedded backend: one SQLite file, one connection, synchronous better-sqlite3 calls
 * behind the async Store contract. Writes run in BEGIN IMMEDIATE transactions, so the
 * writer lock (and with it the audit head) is held from the first statement: two processes
 * on one file serialise instead of failing half-way with SQLITE_BUSY.
 */
import Database from 'better-sqlite3';
import { LabkluisError } from '../../kernel/index.js';
import { checkBatch, checkLimit, checkResourceQuery, conflictError, distinctPatients, runSealer } from '../batch-check.js';
import { SqliteAccounts } from './sqlite-accounts.js';
import { SqliteDevices } from './sqlite-devices.js';
import { SqlitePasskeys } from './sqlite-passkeys.js';
import { mustChange, one, run } from './sqlite-run.js';
import { SqliteSafeguards } from './sqlite-safeguards.js';
import { SqliteSentinel } from './sqlite-sentinel.js';
import { SqliteExports } from './sqlite-exports.js';
import type {
  ApiTokenRow, AuditHead, AuditQuery, AuditRow, AuditSealer, CheckpointRow, DataKeyRow, KeyPurpose,
  PersonRow, PrincipalRow, ResourceQuery, ResourceRow, ResourceType, Store, TenantRow, Versioned, WriteBatch,
} from '../types.js';
import {
  frontierText, toApiToken, toAudit, toCheckpoint, toDataKey, toHead, toPerson, toPrincipal, toResource,
  toTenant, type Raw,
} from './sqlite-rows.js';
import { applyPragmas, migrateSqlite } from './sqlite-schema.js';
import { buildAuditSearch, buildResourceSearch, StatementCache } from './sqlite-search.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';
import { sqliteRestore, sqliteSnapshot } from './sqlite-snapshot.js';
import type { SnapshotAddress, SnapshotTableRows, StoreSnapshot } from '../snapshot-tables.js';

export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #path: string;
  #stmts: Statements | null = null;
  readonly #dynamic: StatementCache;
  readonly accounts: SqliteAccounts;
  readonly passkeys: SqlitePasskeys;
  readonly devices: SqliteDevices;
  readonly safeguards: SqliteSafeguards;
  readonly sentinel: SqliteSentinel;
  readonly exports: SqliteExports;

  constructor(options: { readonly path: string }) {
    if (typeof options.path !== 'string' || options.path === '') throw new TypeError('path is required');
    this.#db = run(() => new Database(options.path));
    this.#path = options.path;
    run(() => applyPragmas(this.#db));
    this.#dynamic = new StatementCache(this.#db);
    this.accounts = new SqliteAccounts(this.#db);
    this.passkeys = new SqlitePasskeys(this.#db);
    this.devices = new SqliteDevices(this.#db);
    this.safeguards = new SqliteSafeguards(this.#db);
    this.sentinel = new SqliteSentinel(this.#db);
    this.exports = new SqliteExports(this.#db);
  }

  /** Statements exist only after migrate(): they refer to tables it creates. */
  get #s(): Statements {
    if (this.#stmts === null) throw new LabkluisError('ERR_STORE', 'sqlite store is not migrated');
    return this.#stmts;
  }

  async migrate(): Promise<void> {
    run(() => {
      migrateSqlite(this.#db);
      this.#stmts ??= prepareStatements(this.#db);
    });
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  async snapshot(): Promise<StoreSnapshot> {
    this.#s; // migrated
    return sqliteSnapshot(this.#path);
  }
  async snapshotAddress(): Promise<SnapshotAddress> {
    this.#s; // migrated
    return { kind: 'sqlite', path: this.#path };
  }
  async restoreSnapshot(tables: AsyncIterable<SnapshotTableRows>): Promise<Record<string, number>> {
    this.#s;
    return sqliteRestore(this.#db, tables);
  }

  async insertTenant(t: TenantRow): Promise<void> {
    run(() => this.#s.insertTenant.run(t.id, t.name, t.kind, t.createdAt));
  }
  async getTenant(id: string): Promise<TenantRow | null> {
    return one(run(() => this.#s.getTenant.get(id)), toTenant);
  }
  async listTenants(): Promise<TenantRow[]> {
    return run(() => this.#s.listTenants.all() as Raw[]).map(toTenant);
  }

  async insertPrincipal(p: PrincipalRow): Promise<void> {
    run(() => this.#s.insertPrincipal.run(
      p.id, p.kind, p.role, JSON.stringify(p.tenants), p.instrument, p.displayName, p.disabled ? 1 : 0, p.createdAt,
    ));
  }
  async getPrincipal(id: string): Promise<PrincipalRow | null> {
    return one(run(() => this.#s.getPrincipal.get(id)), toPrincipal);
  }
  async setPrincipalDisabled(id: string, disabled: boolean): Promise<void> {
    mustChange(run(() => this.#s.setPrincipalDisabled.run(disabled ? 1 : 0, id)).changes);
  }
  async insertApiToken(t: ApiTokenRow): Promise<void> {
    run(() => this.#s.insertApiToken.run(t.id, t.principalId, t.secretHash, t.createdAt, t.expiresAt, t.revokedAt, t.jkt));
  }
  async getApiToken(id: string): Promise<ApiTokenRow | null> {
    return one(run(() => this.#s.getApiToken.get(id)), toApiToken);
  }
  async revokeApiToken(id: string, at: string): Promise<void> {
    mustChange(run(() => this.#s.revokeApiToken.run(at, id)).changes);
  }
  async revokeApiTokensOf(principalId: string, at: string): Promise<number> {
    return run(() => this.#s.revokeApiTokensOf.run(at, principalId)).changes;
  }

  async insertDataKey(k: DataKeyRow): Promise<DataKeyRow> {
    return run(() => {
      this.#s.insertDataKey.run(k.tenant, k.purpose, k.version, k.kekId, k.wrapped, k.createdAt);
      return toDataKey(this.#s.getDataKey.get(k.tenant, k.purpose, k.version) as Raw);
    });
  }
  async getDataKeys(tenant: string, purpose: KeyPurpose): Promise<DataKeyRow[]> {
    return run(() => this.#s.getDataKeys.all(tenant, purpose) as Raw[]).map(toDataKey);
  }

  async commit(batch: WriteBatch, seal: AuditSealer): Promise<readonly AuditRow[]> {
    checkBatch(batch);
    return run(() => this.#db.transaction(() => {
      for (const t of batch.tenants ?? []) this.#s.insertTenant.run(t.id, t.name, t.kind, t.createdAt);
      for (const p of batch.persons) this.#writePerson(p);
      for (const r of batch.resources) this.#writeResource(r);
      return this.#append(seal);
    }).immediate());
  }

  #writePerson({ row: p, expectedVersion }: Versioned<PersonRow>): void {
    if (expectedVersion !== null) {
      const retired = this.#s.retirePerson.run(p.tenant, p.pseudonym, expectedVersion).changes;
      if (retired !== 1) throw conflictError('person version mismatch');
    }
    this.#s.insertPerson.run(p.tenant, p.pseudonym, p.version, p.bsnToken, p.body, p.enteredBy, p.lastUpdated);
  }

  #writeResource({ row: r, expectedVersion }: Versioned<ResourceRow>): void {
    const s = this.#s;
    if (expectedVersion !== null) {
      const old = s.retireResource.get(r.tenant, r.type, r.id, expectedVersion) as { pos: number; tokens: string } | undefined;
      if (old === undefined) throw conflictError('resource version mismatch');
      // The search index and the unique claims follow the current version only.
      for (const token of JSON.parse(old.tokens) as string[]) s.deleteToken.run(r.tenant, token, old.pos);
      s.releaseUniqueTokens.run(r.tenant, r.type, r.id);
    }
    const pos = s.insertResource.run(
      r.tenant, r.type, r.id, r.version, r.pseudonym, r.status, r.date, JSON.stringify(r.tokens),
      JSON.stringify(r.uniqueTokens), r.body, r.enteredBy, r.lastUpdated,
    ).lastInsertRowid;
    for (const token of r.tokens) s.insertToken.run(r.tenant, token, pos);
    for (const token of new Set(r.uniqueTokens)) s.claimUniqueToken.run(r.tenant, token, r.type, r.id);
  }

  /** Runs inside a write transaction, so the head cannot move under the sealer. */
  #append(seal: AuditSealer): readonly AuditRow[] {
    const s = this.#s;
    const sealed = runSealer(seal, toHead(s.getHead.get() as Raw));
    for (const e of sealed.rows) {
      s.insertAudit.run(
        e.seq, e.time, e.action, e.principalId, e.tenant, JSON.stringify(e.patients), e.leaf, e.leafHash, e.mac,
        e.rootAfter,
      );
      for (const pseudonym of distinctPatients(e)) s.insertAuditPatient.run(pseudonym, e.seq);
    }
    s.setHead.run(sealed.head.size, frontierText(sealed.head), sealed.head.lastMac);
    return sealed.rows;
  }

  async getPerson(tenant: string, pseudonym: string): Promise<PersonRow | null> {
    return one(run(() => this.#s.getPerson.get(tenant, pseudonym)), toPerson);
  }
  async findPersonsByBsn(tenant: string, bsnToken: string): Promise<PersonRow[]> {
    return run(() => this.#s.findPersonsByBsn.all(tenant, bsnToken) as Raw[]).map(toPerson);
  }
  async getResource(tenant: string, type: ResourceType, id: string, version?: number): Promise<ResourceRow | null> {
    return one(run(() => version === undefined
      ? this.#s.getCurrentResource.get(tenant, type, id)
      : this.#s.getResourceVersion.get(tenant, type, id, version)), toResource);
  }
  async searchResources(query: ResourceQuery): Promise<ResourceRow[]> {
    checkResourceQuery(query);
    const { sql, params } = buildResourceSearch(query);
    return run(() => this.#dynamic.get(sql).all(...params) as Raw[]).map(toResource);
  }

  async appendAudit(seal: AuditSealer): Promise<readonly AuditRow[]> {
    return run(() => this.#db.transaction(() => this.#append(seal)).immediate());
  }
  async auditHead(): Promise<AuditHead> {
    return toHead(run(() => this.#s.getHead.get() as Raw));
  }
  async readAudit(fromSeq: number, limit: number): Promise<AuditRow[]> {
    checkLimit(limit);
    return run(() => this.#s.readAudit.all(fromSeq, limit) as Raw[]).map(toAudit);
  }
  async searchAudit(query: AuditQuery): Promise<AuditRow[]> {
    checkLimit(query.limit);
    const { sql, params } = buildAuditSearch(query);
    return run(() => this.#dynamic.get(sql).all(...params) as Raw[]).map(toAudit);
  }
  async insertCheckpoint(c: CheckpointRow): Promise<void> {
    const stored = run(() => this.#db.transaction(() => {
      this.#s.insertCheckpoint.run(c.size, c.root, c.note, c.createdAt);
      return (this.#s.checkpointRoot.get(c.size) as { root: Buffer }).root;
    })());
    if (!Buffer.from(stored).equals(c.root)) throw forkedCheckpoint();
  }
  async listCheckpoints(): Promise<CheckpointRow[]> {
    return run(() => this.#s.listCheckpoints.all() as Raw[]).map(toCheckpoint);
  }
}

/** Two different roots for one size mean two histories of the log: never keep quiet about it. */
function forkedCheckpoint(): LabkluisError {
  return new LabkluisError('ERR_INTEGRITY', 'a checkpoint for this size already exists with another root');
}
