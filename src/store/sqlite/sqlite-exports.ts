/**
 * The exports part of the SQLite backend (see export-types.ts). Each state change is one
 * UPDATE that decides in its WHERE clause (atomic even with a second process on the file);
 * those that also delete chunks run both statements in one BEGIN IMMEDIATE transaction.
 */
import type { Database, Statement } from 'better-sqlite3';
import {
  checkChunk, checkJobListing, checkPersonListing, checkResult, exportJobToInsert, INSERT_COLUMNS, toExportJob,
} from '../export-rows.js';
import type { ExportJobRow, ExportResult, ExportStore } from '../export-types.js';
import type { PersonRow } from '../types.js';
import { lazyStatements, one, run } from './sqlite-run.js';
import { toPerson, type Raw } from './sqlite-rows.js';

const SQL = {
  insertJob: `INSERT INTO core_export_jobs (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  getJob: 'SELECT * FROM core_export_jobs WHERE id = ?',
  listJobs: 'SELECT * FROM core_export_jobs ORDER BY requested_at DESC, id DESC LIMIT ?',
  listTenantJobs: `SELECT * FROM core_export_jobs WHERE tenant IN (SELECT value FROM json_each(?))
    ORDER BY requested_at DESC, id DESC LIMIT ?`,
  decideJob: `UPDATE core_export_jobs SET status = @decision, decided_by = @by, decided_at = @at
    WHERE id = @id AND status = 'requested' AND expires_at > @at`,
  claimRun: `UPDATE core_export_jobs SET run_started_at = @at
    WHERE id = @id AND status = 'approved' AND run_started_at IS NULL`,
  putChunk: 'INSERT INTO core_export_chunks (job_id, seq, data) VALUES (?, ?, ?)',
  readChunk: 'SELECT data FROM core_export_chunks WHERE job_id = ? AND seq = ?',
  finishJob: `UPDATE core_export_jobs SET status = 'ready', records = @records, patients = @patients, bytes = @bytes,
      sha256 = @sha256, watermark = @watermark, ready_at = @readyAt, download_expires_at = @downloadExpiresAt
    WHERE id = @id AND status = 'approved' AND run_started_at = @runStartedAt`,
  failJob: `UPDATE core_export_jobs SET status = 'failed', failure = @failure, closed_at = @at
    WHERE id = @id AND status = 'approved'`,
  closeJob: `UPDATE core_export_jobs SET status = @outcome, closed_by = @by, closed_at = @at
    WHERE id = @id AND status = 'ready' AND download_expires_at > @at`,
  dropChunks: 'DELETE FROM core_export_chunks WHERE job_id = ?',
  expireRequested: `UPDATE core_export_jobs SET status = 'expired', closed_at = @at
    WHERE status = 'requested' AND expires_at <= @at`,
  expireReady: `UPDATE core_export_jobs SET status = 'expired', closed_at = @at
    WHERE status = 'ready' AND download_expires_at <= @at`,
  failStale: `UPDATE core_export_jobs SET status = 'failed', failure = 'interrupted', closed_at = @at
    WHERE status = 'approved' AND coalesce(run_started_at, decided_at) < @staleBefore`,
  // Chunks of every job that is over (the ones just ended included); a download's only once
  // it has had until staleBefore to stream them.
  dropEnded: `DELETE FROM core_export_chunks WHERE job_id IN (SELECT id FROM core_export_jobs
    WHERE status IN ('expired', 'cancelled', 'failed', 'rejected') OR (status = 'downloaded' AND closed_at < @staleBefore))`,
  listPersons: `SELECT * FROM identity_persons WHERE tenant = @tenant AND is_current = 1 AND pseudonym > @after
    ORDER BY pseudonym LIMIT @limit`,
} as const;

type Statements = { readonly [K in keyof typeof SQL]: Statement };

export class SqliteExports implements ExportStore {
  readonly #db: Database;
  readonly #statements: () => Statements;

  constructor(db: Database) {
    this.#db = db;
    this.#statements = lazyStatements(db, SQL);
  }

  get #s(): Statements {
    return this.#statements();
  }

  async insertJob(row: ExportJobRow): Promise<void> {
    const values = exportJobToInsert(row);
    run(() => this.#s.insertJob.run(...values));
  }
  async getJob(id: string): Promise<ExportJobRow | null> {
    return one(run(() => this.#s.getJob.get(id)), toExportJob);
  }
  async listJobs(options: { tenants: readonly string[] | null; limit: number }): Promise<ExportJobRow[]> {
    checkJobListing(options);
    const rows = options.tenants === null
      ? run(() => this.#s.listJobs.all(options.limit) as Raw[])
      : run(() => this.#s.listTenantJobs.all(JSON.stringify(options.tenants), options.limit) as Raw[]);
    return rows.map(toExportJob);
  }
  async decideJob(id: string, decision: 'approved' | 'rejected' | 'cancelled', by: string, at: string): Promise<boolean> {
    if (!['approved', 'rejected', 'cancelled'].includes(decision)) throw new TypeError('decision must be approved, rejected or cancelled');
    return run(() => this.#s.decideJob.run({ id, decision, by, at })).changes === 1;
  }
  async claimRun(id: string, at: string): Promise<boolean> {
    return run(() => this.#s.claimRun.run({ id, at })).changes === 1;
  }
  async putChunk(id: string, seq: number, data: Buffer): Promise<void> {
    checkChunk(seq, data);
    run(() => this.#s.putChunk.run(id, seq, data));
  }
  async readChunk(id: string, seq: number): Promise<Buffer | null> {
    const row = run(() => this.#s.readChunk.get(id, seq)) as Raw | undefined;
    return row === undefined ? null : (row.data as Buffer);
  }
  async finishJob(id: string, runStartedAt: string, r: ExportResult): Promise<boolean> {
    checkResult(r);
    return run(() => this.#s.finishJob.run({ id, runStartedAt, ...r })).changes === 1;
  }
  async failJob(id: string, failure: string, at: string): Promise<boolean> {
    return run(() => this.#db.transaction(() => {
      const failed = this.#s.failJob.run({ id, failure, at }).changes === 1;
      if (failed) this.#s.dropChunks.run(id);
      return failed;
    }).immediate());
  }
  async closeJob(id: string, outcome: 'downloaded' | 'cancelled', by: string, at: string): Promise<boolean> {
    if (outcome !== 'downloaded' && outcome !== 'cancelled') throw new TypeError('outcome must be downloaded or cancelled');
    return run(() => this.#db.transaction(() => {
      const closed = this.#s.closeJob.run({ id, outcome, by, at }).changes === 1;
      if (closed && outcome === 'cancelled') this.#s.dropChunks.run(id);
      return closed;
    }).immediate());
  }
  async dropChunks(id: string): Promise<number> {
    return run(() => this.#s.dropChunks.run(id)).changes;
  }
  async expireJobs(at: string, staleBefore: string): Promise<number> {
    return run(() => this.#db.transaction(() => {
      const s = this.#s;
      const n = s.expireRequested.run({ at }).changes + s.expireReady.run({ at }).changes + s.failStale.run({ at, staleBefore }).changes;
      s.dropEnded.run({ staleBefore });
      return n;
    }).immediate());
  }

  async listPersons(tenant: string, afterPseudonym: string | null, limit: number): Promise<PersonRow[]> {
    checkPersonListing(limit);
    return run(() => this.#s.listPersons.all({ tenant, after: afterPseudonym ?? '', limit }) as Raw[]).map(toPerson);
  }
}
