/**
 * The exports part of the PostgreSQL backend (see export-types.ts), in the core part's role,
 * which may insert jobs and change only their state columns, never delete one. Each state
 * change is one UPDATE deciding in its WHERE clause: under READ COMMITTED a concurrent second
 * UPDATE of the same row waits and re-checks against the first one's result, so one wins.
 * Listing a tenant's people for a tenant transfer runs in the identity part's role.
 * Orderings by id or pseudonym use the "C" collation: the same byte order as SQLite's.
 */
import {
  checkChunk, checkJobListing, checkPersonListing, checkResult, exportJobToInsert, INSERT_COLUMNS, toExportJob,
} from '../export-rows.js';
import type { ExportJobRow, ExportResult, ExportStore } from '../export-types.js';
import type { PersonRow } from '../types.js';
import { toPerson } from './postgres-rows.js';
import { coreRead, coreWrite, firstRow, type Named, type PgRunner } from './postgres-tx.js';

const q = (name: string, text: string): Named => ({ name: `lk_ex_${name}`, text });
const SQL = {
  insertJob: q('insert_job', `INSERT INTO core.export_jobs (${INSERT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`),
  getJob: q('get_job', 'SELECT * FROM core.export_jobs WHERE id = $1'),
  listJobs: q('list_jobs', 'SELECT * FROM core.export_jobs ORDER BY requested_at DESC, id COLLATE "C" DESC LIMIT $1'),
  listTenantJobs: q('list_tenant_jobs', `SELECT * FROM core.export_jobs WHERE tenant = ANY ($1::text[])
    ORDER BY requested_at DESC, id COLLATE "C" DESC LIMIT $2`),
  decideJob: q('decide_job', `UPDATE core.export_jobs SET status = $2, decided_by = $3, decided_at = $4
    WHERE id = $1 AND status = 'requested' AND expires_at > $4 RETURNING 1`),
  claimRun: q('claim_run', `UPDATE core.export_jobs SET run_started_at = $2
    WHERE id = $1 AND status = 'approved' AND run_started_at IS NULL RETURNING 1`),
  putChunk: q('put_chunk', 'INSERT INTO core.export_chunks (job_id, seq, data) VALUES ($1, $2, $3)'),
  readChunk: q('read_chunk', 'SELECT data FROM core.export_chunks WHERE job_id = $1 AND seq = $2'),
  finishJob: q('finish_job', `UPDATE core.export_jobs SET status = 'ready', records = $3, patients = $4, bytes = $5,
      sha256 = $6, watermark = $7, ready_at = $8, download_expires_at = $9
    WHERE id = $1 AND status = 'approved' AND run_started_at = $2 RETURNING 1`),
  failJob: q('fail_job', `WITH failed AS (
      UPDATE core.export_jobs SET status = 'failed', failure = $2, closed_at = $3 WHERE id = $1 AND status = 'approved' RETURNING id),
    dropped AS (DELETE FROM core.export_chunks WHERE job_id IN (SELECT id FROM failed))
    SELECT 1 FROM failed`),
  closeJob: q('close_job', `WITH closed AS (
      UPDATE core.export_jobs SET status = $2, closed_by = $3, closed_at = $4
      WHERE id = $1 AND status = 'ready' AND download_expires_at > $4 RETURNING id),
    dropped AS (DELETE FROM core.export_chunks WHERE $2 = 'cancelled' AND job_id IN (SELECT id FROM closed))
    SELECT 1 FROM closed`),
  dropChunks: q('drop_chunks', 'WITH d AS (DELETE FROM core.export_chunks WHERE job_id = $1 RETURNING 1) SELECT count(*) AS n FROM d'),
  expire: q('expire', `UPDATE core.export_jobs SET
      status = CASE WHEN status = 'approved' THEN 'failed' ELSE 'expired' END,
      failure = CASE WHEN status = 'approved' THEN 'interrupted' ELSE failure END,
      closed_at = $1
    WHERE (status = 'requested' AND expires_at <= $1) OR (status = 'ready' AND download_expires_at <= $1)
      OR (status = 'approved' AND coalesce(run_started_at, decided_at) < $2)
    RETURNING 1`),
  // A separate statement: in one statement the DELETE would not see the rows the UPDATE just ended.
  dropEnded: q('drop_ended', `DELETE FROM core.export_chunks WHERE job_id IN (SELECT id FROM core.export_jobs
    WHERE status IN ('expired', 'cancelled', 'failed', 'rejected') OR (status = 'downloaded' AND closed_at < $1))`),
  listPersons: q('list_persons', `SELECT * FROM identity.persons WHERE tenant = $1 AND is_current AND pseudonym COLLATE "C" > $2
    ORDER BY pseudonym COLLATE "C" LIMIT $3`),
} as const;

export class PostgresExports implements ExportStore {
  readonly #runner: () => Promise<PgRunner>;

  constructor(runner: () => Promise<PgRunner>) {
    this.#runner = runner;
  }

  async insertJob(row: ExportJobRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertJob, exportJobToInsert(row));
  }
  async getJob(id: string): Promise<ExportJobRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.getJob, [id]), toExportJob);
  }
  async listJobs(options: { tenants: readonly string[] | null; limit: number }): Promise<ExportJobRow[]> {
    checkJobListing(options);
    const rows = options.tenants === null
      ? await coreRead(this.#runner, SQL.listJobs, [options.limit])
      : await coreRead(this.#runner, SQL.listTenantJobs, [[...options.tenants], options.limit]);
    return rows.map(toExportJob);
  }
  async decideJob(id: string, decision: 'approved' | 'rejected' | 'cancelled', by: string, at: string): Promise<boolean> {
    if (!['approved', 'rejected', 'cancelled'].includes(decision)) throw new TypeError('decision must be approved, rejected or cancelled');
    return (await coreWrite(this.#runner, SQL.decideJob, [id, decision, by, at])).length === 1;
  }
  async claimRun(id: string, at: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.claimRun, [id, at])).length === 1;
  }
  async putChunk(id: string, seq: number, data: Buffer): Promise<void> {
    checkChunk(seq, data);
    await coreWrite(this.#runner, SQL.putChunk, [id, seq, data]);
  }
  async readChunk(id: string, seq: number): Promise<Buffer | null> {
    return firstRow(await coreRead(this.#runner, SQL.readChunk, [id, seq]), (r) => r.data as Buffer);
  }
  async finishJob(id: string, runStartedAt: string, r: ExportResult): Promise<boolean> {
    checkResult(r);
    const values = [id, runStartedAt, r.records, r.patients, r.bytes, r.sha256, r.watermark, r.readyAt, r.downloadExpiresAt];
    return (await coreWrite(this.#runner, SQL.finishJob, values)).length === 1;
  }
  async failJob(id: string, failure: string, at: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.failJob, [id, failure, at])).length === 1;
  }
  async closeJob(id: string, outcome: 'downloaded' | 'cancelled', by: string, at: string): Promise<boolean> {
    if (outcome !== 'downloaded' && outcome !== 'cancelled') throw new TypeError('outcome must be downloaded or cancelled');
    return (await coreWrite(this.#runner, SQL.closeJob, [id, outcome, by, at])).length === 1;
  }
  async dropChunks(id: string): Promise<number> {
    return Number((await coreWrite(this.#runner, SQL.dropChunks, [id]))[0]?.n ?? 0);
  }
  async expireJobs(at: string, staleBefore: string): Promise<number> {
    return (await this.#runner()).run('core', async (tx) => {
      const ended = await tx.query(SQL.expire, [at, staleBefore]);
      await tx.query(SQL.dropEnded, [staleBefore]);
      return ended.length;
    });
  }

  async listPersons(tenant: string, afterPseudonym: string | null, limit: number): Promise<PersonRow[]> {
    checkPersonListing(limit);
    return (await (await this.#runner()).read('identity', SQL.listPersons, [tenant, afterPseudonym ?? '', limit])).map(toPerson);
  }
}
