import type { Logger } from 'pino';
import { mayActFor, requireStepUp, type Principal } from '../auth/index.js';
import type { DataKeys } from '../crypto/index.js';
import { conflict, forbidden, isLabkluisError, notFound, randomId, type Clock, type ErrorCode, type Random } from '../kernel/index.js';
import type { ExportJobRow, Store } from '../store/index.js';
import { approvalRefusal, exportRuleFor, type AccountEvent, type Vault } from '../vault/index.js';
import { bundleText, encryptToStore } from './export-file.js';
import { parseExportRequest } from './export-input.js';
import { checkExportPolicy, DEFAULT_EXPORT_POLICY, type ExportPolicy } from './export-policy.js';
import { parseMark, Watermarks, type MarkCheck } from './watermark.js';

/** Where a request came from, for the audit log. */
export interface Facts {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface ExportDeps {
  readonly store: Store;
  readonly vault: Vault;
  readonly keys: DataKeys;
  readonly clock: Clock;
  readonly random: Random;
  /** The server's public URL: the base of each entry's fullUrl. */
  readonly publicUrl: string;
  /** Seals and opens the requester's free-text reason (it may describe people). */
  readonly sealNote: (kind: 'ExportReason', id: string, text: string) => Promise<Buffer>;
  readonly openNote: (kind: 'ExportReason', id: string, sealed: Buffer) => Promise<string>;
  /** Into the audit log (vault.recordAccountEvent). */
  readonly events: (event: AccountEvent) => Promise<void>;
  readonly logger?: Logger;
  readonly policy?: Partial<ExportPolicy>;
}

/** A job as people see it: never the ciphertext; the reason only when one job is asked for. */
export interface ExportJobView {
  readonly id: string;
  readonly tenant: string;
  readonly status: ExportJobRow['status'];
  readonly view: ExportJobRow['view'];
  readonly scope: ExportJobRow['scope'];
  readonly recipient: { readonly key: string; readonly label: string };
  readonly purpose: { readonly code: string; readonly reason?: string };
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly result: ExportJobRow['result'];
  readonly closedBy: string | null;
  readonly closedAt: string | null;
  readonly failure: string | null;
}

export interface ExportDownload {
  readonly jobId: string;
  readonly filename: string;
  readonly bytes: number;
  readonly sha256: string;
  /** The age file, chunk by chunk; its chunks are deleted once it has been read to the end. */
  readonly body: AsyncIterable<Buffer>;
}

const JOB_ID = /^[a-z2-7]{26}$/;
const VIEWERS = new Set(['requester', 'admin', 'security-officer']);

/**
 * Bulk export as a four-eyes job (issue 4, deliverable 3). One person requests it (a fresh
 * step-up), a second approves it (another person, in a role the rules name, a fresh step-up);
 * the approval starts the run, which reads the records through the vault (export-reads.ts),
 * watermarks them for the recipient, encrypts them to the recipient's age key and stores the
 * ciphertext; the requester downloads it once (a fresh step-up), before it expires. Requests,
 * decisions, the run and the download are account events in the audit log; the records read
 * are one NEN 7513 entry with action E naming every patient.
 */
export class ExportService {
  readonly #d: ExportDeps;
  readonly policy: ExportPolicy;
  readonly #marks: Watermarks;
  readonly #running = new Set<Promise<void>>();

  constructor(deps: ExportDeps) {
    this.#d = deps;
    this.policy = checkExportPolicy({ ...DEFAULT_EXPORT_POLICY, ...deps.policy });
    this.#marks = new Watermarks({ keys: deps.keys });
  }

  async request(by: Principal, body: unknown, facts: Facts): Promise<ExportJobView> {
    const rule = exportRuleFor(by.role);
    if (rule === null) throw forbidden(`role '${by.role}' may not request a bulk export`);
    requireStepUp(by, this.#d.clock, 'requesting a bulk export');
    const input = parseExportRequest(body, rule.view);
    if (input.purposeOfUse === 'ETREAT') throw forbidden('break-glass (ETREAT) does not cover a bulk export');
    // The tenant and the purpose as every request checks them: one of the person's tenants, a purpose the role may claim.
    const ctx = this.#d.vault.context(by, { tenant: input.tenant, purposeOfUse: input.purposeOfUse, ...facts });
    if (ctx.tenant === '*' || (await this.#d.store.getTenant(ctx.tenant)) === null) throw notFound('no such tenant');
    if (by.suspended) throw forbidden('this account is suspended (training or recertification): it may not export');
    await this.#notContained(by);
    const now = this.#d.clock.now();
    const id = randomId(this.#d.random);
    const row: ExportJobRow = {
      id, tenant: ctx.tenant, status: 'requested', view: rule.view, scope: input.scope, recipient: input.recipient,
      recipientLabel: input.recipientLabel, purposeOfUse: ctx.purposeOfUse, reason: await this.#d.sealNote('ExportReason', id, input.reason),
      requestedBy: by.id, requestedRole: by.role, requestedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.policy.decisionSeconds * 1000).toISOString(),
      decidedBy: null, decidedAt: null, runStartedAt: null, result: null, closedBy: null, closedAt: null, failure: null,
    };
    await this.#d.store.exports.insertJob(row);
    await this.#event('export-requested', by.id, id, facts);
    return this.#view(row, input.reason);
  }

  /** Approves a requested job and starts its run (settled() waits for it). */
  async approve(by: Principal, jobId: string, facts: Facts): Promise<ExportJobView> {
    const job = await this.#visibleJob(by, jobId);
    const refusal = approvalRefusal(job, by);
    if (refusal !== null) throw forbidden(refusal);
    requireStepUp(by, this.#d.clock, 'approving a bulk export');
    if (by.suspended) throw forbidden('this account is suspended (training or recertification): it may not approve');
    await this.#notContained(by);
    const now = this.#d.clock.now().toISOString();
    this.#assertOpen(job, now);
    if (!(await this.#d.store.exports.decideJob(job.id, 'approved', by.id, now))) throw conflict('this export job was decided already');
    await this.#event('export-approved', by.id, job.id, facts);
    this.#start(job.id);
    return this.#view({ ...job, status: 'approved', decidedBy: by.id, decidedAt: now });
  }

  /** An approver (never the requester: they cancel) turns a requested job down. */
  async reject(by: Principal, jobId: string, facts: Facts): Promise<ExportJobView> {
    const job = await this.#visibleJob(by, jobId);
    const refusal = approvalRefusal(job, by);
    if (refusal !== null) throw forbidden(refusal);
    const now = this.#d.clock.now().toISOString();
    this.#assertOpen(job, now);
    if (!(await this.#d.store.exports.decideJob(job.id, 'rejected', by.id, now))) throw conflict('this export job was decided already');
    await this.#event('export-rejected', by.id, job.id, facts);
    return this.#view({ ...job, status: 'rejected', decidedBy: by.id, decidedAt: now });
  }

  /**
   * The requester (or a security officer) withdraws a job: while it waits for approval, or
   * once it is ready and not yet downloaded (its ciphertext is deleted then).
   */
  async cancel(by: Principal, jobId: string, facts: Facts): Promise<ExportJobView> {
    const job = await this.#visibleJob(by, jobId);
    if (by.id !== job.requestedBy && by.role !== 'security-officer') throw forbidden('only the requester or a security officer cancels an export');
    const now = this.#d.clock.now().toISOString();
    let done = false;
    if (job.status === 'requested') done = await this.#d.store.exports.decideJob(job.id, 'cancelled', by.id, now);
    else if (job.status === 'ready') done = await this.#d.store.exports.closeJob(job.id, 'cancelled', by.id, now);
    if (!done) throw conflict(`an export job that is ${job.status} cannot be cancelled`);
    await this.#event('export-cancelled', by.id, job.id, facts);
    return this.#view((await this.#d.store.exports.getJob(job.id))!);
  }

  /** The jobs of the person's tenants (every tenant for lab-wide staff), newest first. */
  async list(by: Principal): Promise<ExportJobView[]> {
    this.#viewer(by);
    await this.#sweep();
    const rows = await this.#d.store.exports.listJobs({ tenants: by.tenants.includes('*') ? null : [...by.tenants], limit: 200 });
    return rows.map((r) => this.#view(r));
  }

  /** One job, with the requester's reason (the approver decides on it). */
  async get(by: Principal, jobId: string): Promise<ExportJobView> {
    const job = await this.#visibleJob(by, jobId);
    return this.#view(job, await this.#d.openNote('ExportReason', job.id, job.reason));
  }

  /** The age file, once, to the person who requested it, with a fresh step-up, before it expires. */
  async download(by: Principal, jobId: string, facts: Facts): Promise<ExportDownload> {
    const job = await this.#visibleJob(by, jobId);
    if (by.id !== job.requestedBy) throw forbidden('only the person who requested an export downloads it');
    requireStepUp(by, this.#d.clock, 'downloading a bulk export');
    // The file is the recipient's to open, but the requester may be the recipient: a contained account gets nothing.
    await this.#notContained(by);
    const now = this.#d.clock.now().toISOString();
    if (job.status !== 'ready' || job.result === null) throw conflict(`an export job that is ${job.status} has nothing to download`);
    if (job.result.downloadExpiresAt <= now) throw conflict('this export expired before it was downloaded');
    if (!(await this.#d.store.exports.closeJob(job.id, 'downloaded', by.id, now))) throw conflict('this export was downloaded or ended already');
    await this.#event('export-downloaded', by.id, job.id, facts);
    return {
      jobId: job.id, filename: `labkluis-export-${job.id}.json.age`, bytes: job.result.bytes, sha256: job.result.sha256,
      body: this.#chunks(job.id),
    };
  }

  /**
   * Checks a (leaked) Bundle against a job's watermark (watermark.ts): whether its identifier
   * is that job's for that job's recipient, and how much of its order is. `recipient` checks
   * against another key instead of the job's (a wrong one does not verify).
   */
  async checkWatermark(jobId: string, bundle: unknown, recipient?: string): Promise<MarkCheck> {
    const job = await this.#d.store.exports.getJob(jobId);
    const mark = job?.result ? parseMark(job.result.watermark) : null;
    if (job === null || mark === null) throw notFound('no export with a watermark by that id');
    return this.#marks.check(bundle, { jobId, recipient: recipient ?? job.recipient, keyVersion: mark.keyVersion });
  }

  /** Resolves when every run this node started has ended (tests; shutdown). */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  #start(jobId: string): void {
    const run: Promise<void> = this.#run(jobId)
      .catch((e: unknown) => this.#d.logger?.error({ errorCode: isLabkluisError(e) ? e.code : 'ERR_INTERNAL' }, 'export run could not record its end'))
      .finally(() => this.#running.delete(run));
    this.#running.add(run);
  }

  /** Claims the run, reads through the vault, writes the watermarked, encrypted Bundle, finishes. */
  async #run(jobId: string): Promise<void> {
    const startedAt = this.#d.clock.now().toISOString();
    const store = this.#d.store.exports;
    if (!(await store.claimRun(jobId, startedAt))) return;
    const job = (await store.getJob(jobId))!;
    try {
      const mark = await this.#marks.mark(job.id, job.recipient);
      const release = await this.#d.vault.exportJob(job.id, mark.order);
      let records = 0;
      const text = bundleText({ jobId: job.id, watermark: mark.value, timestamp: startedAt }, release.resources(), this.#d.publicUrl, (n) => (records = n));
      const file = await encryptToStore(store, job.id, job.recipient, text, this.policy.chunkBytes);
      const ready = this.#d.clock.now();
      const finished = await store.finishJob(job.id, startedAt, {
        records, patients: release.patients, bytes: file.bytes, sha256: file.sha256, watermark: mark.value, readyAt: ready.toISOString(),
        downloadExpiresAt: new Date(ready.getTime() + this.policy.downloadSeconds * 1000).toISOString(),
      });
      if (!finished) throw conflict('the export job ended while it ran');
      await this.#event('export-ready', job.requestedBy, job.id, { ip: null, userAgent: null });
    } catch (e) {
      const code = isLabkluisError(e) ? e.code : 'ERR_INTERNAL';
      await store.failJob(job.id, code, this.#d.clock.now().toISOString());
      await store.dropChunks(job.id);
      this.#d.logger?.warn({ errorCode: code }, 'export run failed');
      await this.#d.events({
        kind: 'export-failed', reason: code.toLowerCase().replaceAll('_', '-'), principalId: job.requestedBy, sessionId: null,
        subject: { type: 'ExportJob', id: job.id }, outcome: 'failed', errorCode: code as ErrorCode,
      });
    }
  }

  async *#chunks(jobId: string): AsyncGenerator<Buffer> {
    let completed = false;
    try {
      for (let seq = 0; ; seq++) {
        const chunk = await this.#d.store.exports.readChunk(jobId, seq);
        if (chunk === null) break;
        yield chunk;
      }
      completed = true;
    } finally {
      // Read to the end: gone. Broken off: left for the sweep, which deletes it a little later.
      if (completed) await this.#d.store.exports.dropChunks(jobId);
    }
  }

  /** Ends what is due (expired requests and downloads, stalled runs) and deletes what they leave. */
  async #sweep(): Promise<void> {
    const now = this.#d.clock.now();
    await this.#d.store.exports.expireJobs(now.toISOString(), new Date(now.getTime() - this.policy.staleRunSeconds * 1000).toISOString());
  }

  /** A job the person may see: a viewer role, and a tenant the person acts for; otherwise as absent. */
  async #visibleJob(by: Principal, jobId: string): Promise<ExportJobRow> {
    this.#viewer(by);
    if (!JOB_ID.test(jobId)) throw notFound('no such export job');
    await this.#sweep();
    const job = await this.#d.store.exports.getJob(jobId);
    if (job === null || !mayActFor(by, job.tenant)) throw notFound('no such export job');
    return job;
  }

  /** The sentinel's lock holds here too (the run checks both people again before it reads). */
  async #notContained(by: Principal): Promise<void> {
    if (await this.#d.store.sentinel.liveContainment(by.id)) throw forbidden('access is stopped: the sentinel contained this account');
  }

  #viewer(by: Principal): void {
    if (!VIEWERS.has(by.role)) throw forbidden(`role '${by.role}' has no part in bulk exports`);
  }

  #assertOpen(job: ExportJobRow, now: string): void {
    if (job.status === 'expired' || (job.status === 'requested' && job.expiresAt <= now)) throw conflict('this export request expired: request it again');
    if (job.status !== 'requested') throw conflict(`this export job was ${job.status} already`);
  }

  async #event(kind: string, principalId: string, jobId: string, facts: Facts): Promise<void> {
    await this.#d.events({ kind, principalId, sessionId: null, subject: { type: 'ExportJob', id: jobId }, outcome: 'success', ip: facts.ip, userAgent: facts.userAgent });
  }

  #view(row: ExportJobRow, reason?: string): ExportJobView {
    return {
      id: row.id, tenant: row.tenant, status: row.status, view: row.view, scope: row.scope,
      recipient: { key: row.recipient, label: row.recipientLabel },
      purpose: { code: row.purposeOfUse, ...(reason === undefined ? {} : { reason }) },
      requestedBy: row.requestedBy, requestedAt: row.requestedAt, expiresAt: row.expiresAt, decidedBy: row.decidedBy, decidedAt: row.decidedAt,
      result: row.result, closedBy: row.closedBy, closedAt: row.closedAt, failure: row.failure,
    };
  }
}

