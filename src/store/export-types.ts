/**
 * The store's contract for bulk export (issue 4, deliverable 3): four-eyes export jobs and the
 * age ciphertext each one produces. A job is requested by one person, decided by a second, run
 * once, and its ciphertext is handed out once before it expires; the state machine lives in the
 * WHERE clauses below, so two nodes (or two clicks) racing on one job see exactly one winner.
 *
 *   requested ─approve─> approved ─finish─> ready ─download─> downloaded
 *       │ reject / cancel / expire      │ fail          │ cancel / expire
 *       ▼                               ▼               ▼
 *   rejected · cancelled · expired    failed        cancelled · expired
 *
 * The ciphertext is kept in the store, in chunks, so that every node serving one PostgreSQL
 * database can hand it out and a download streams without one huge row. It is encrypted to
 * the recipient's age key: neither the store nor the server can read it back. It is deleted
 * once downloaded, cancelled, failed or expired. Every timestamp is an ISO-8601 UTC string from
 * the injected clock. Pseudonyms only, never identity; the free-text reason is sealed by the caller.
 */
import type { PersonRow } from './types.js';

export type ExportStatus = 'requested' | 'approved' | 'ready' | 'downloaded' | 'rejected' | 'cancelled' | 'expired' | 'failed';
export const EXPORT_STATUSES: readonly ExportStatus[] = Object.freeze([
  'requested', 'approved', 'ready', 'downloaded', 'rejected', 'cancelled', 'expired', 'failed',
]);

/**
 * What a job covers: the whole tenant (from and to null) or a period such as a screening
 * round (records whose clinical date is in [from, to)), limited to some resource types, with
 * or without identity (without: Patients as pseudonyms only).
 */
export interface ExportScope {
  readonly from: string | null;
  readonly to: string | null;
  readonly types: readonly string[];
  readonly identity: boolean;
}

/** What the run produced; set once, when the job becomes ready. */
export interface ExportResult {
  readonly records: number;
  readonly patients: number;
  /** Size of the age file in bytes. */
  readonly bytes: number;
  /** SHA-256 of the age file (hex), for the recipient to check what arrived. */
  readonly sha256: string;
  /** The per-recipient watermark written into the export (see src/export/watermark.ts). */
  readonly watermark: string;
  readonly readyAt: string;
  /** After this the ciphertext is deleted, downloaded or not. */
  readonly downloadExpiresAt: string;
}

export interface ExportJobRow {
  readonly id: string;
  readonly tenant: string;
  readonly status: ExportStatus;
  /** What the requester's role may export: 'released' (what a requester reads) or 'full' (a tenant transfer). */
  readonly view: 'released' | 'full';
  readonly scope: ExportScope;
  /** The recipient's age X25519 public key ('age1…'). */
  readonly recipient: string;
  /** Who the recipient is (an organisation, a department): a label, not patient data. */
  readonly recipientLabel: string;
  readonly purposeOfUse: string;
  /** The requester's free-text reason, sealed by the caller. */
  readonly reason: Buffer;
  readonly requestedBy: string;
  readonly requestedRole: string;
  readonly requestedAt: string;
  /** A job not decided by then expires. */
  readonly expiresAt: string;
  /** Who approved, rejected or cancelled it while it was requested, and when. */
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  /** When a node claimed the run; a run that takes too long is failed by expireJobs. */
  readonly runStartedAt: string | null;
  readonly result: ExportResult | null;
  /** Who ended it after approval (downloaded, cancelled) and when; expiry and failure set the time only. */
  readonly closedBy: string | null;
  readonly closedAt: string | null;
  /** An error code when the run failed ('ERR_STORE', ...), never a message. */
  readonly failure: string | null;
}

export interface ExportStore {
  /** Inserts a job in status 'requested' with no decision, run or result; a reused id is ERR_CONFLICT. */
  insertJob(row: ExportJobRow): Promise<void>;
  getJob(id: string): Promise<ExportJobRow | null>;
  /**
   * Newest first (requestedAt, then id, descending); only jobs of `tenants` unless it is null
   * (every tenant); limit 1..MAX_EXPORT_JOBS.
   */
  listJobs(options: { tenants: readonly string[] | null; limit: number }): Promise<ExportJobRow[]>;
  /**
   * Decides a job that is 'requested' and not expired at `at` (expiresAt > at): approved,
   * rejected or cancelled, by `by`. Returns whether this call decided it.
   */
  decideJob(id: string, decision: 'approved' | 'rejected' | 'cancelled', by: string, at: string): Promise<boolean>;
  /**
   * Claims the run of an 'approved' job that no run has claimed yet (one run per job, ever).
   * Returns whether this call claimed it.
   */
  claimRun(id: string, at: string): Promise<boolean>;
  /** Stores one chunk of a job's ciphertext (seq from 0); a seq stored twice is ERR_CONFLICT. */
  putChunk(id: string, seq: number, data: Buffer): Promise<void>;
  /** The chunk, or null (none, or deleted). */
  readChunk(id: string, seq: number): Promise<Buffer | null>;
  /**
   * 'approved' → 'ready' with its result, only for the run claimed at `runStartedAt` (a run
   * that lost its claim to another node cannot finish). Returns whether this call finished it.
   */
  finishJob(id: string, runStartedAt: string, result: ExportResult): Promise<boolean>;
  /** 'approved' → 'failed' with an error code; its chunks are deleted. Returns whether this call failed it. */
  failJob(id: string, failure: string, at: string): Promise<boolean>;
  /**
   * Ends a 'ready' job whose download has not expired at `at`: 'downloaded' (its chunks stay
   * until dropChunks, so they can be streamed) or 'cancelled' (its chunks are deleted).
   * Returns whether this call ended it.
   */
  closeJob(id: string, outcome: 'downloaded' | 'cancelled', by: string, at: string): Promise<boolean>;
  /** Deletes a job's chunks; returns how many. */
  dropChunks(id: string): Promise<number>;
  /**
   * Ends what is due at `at`: requested jobs past expiresAt and ready jobs past their download
   * expiry become 'expired'; approved jobs whose run started (or, never claimed, that were
   * approved) before `staleBefore` become 'failed' ('interrupted': their node stopped). Chunks of every ended job are deleted, those of
   * a download only once it ended before `staleBefore` (it may still be streaming). Returns the
   * number of jobs this call ended.
   */
  expireJobs(at: string, staleBefore: string): Promise<number>;

  /**
   * Current identity records of a tenant, by pseudonym (ascending, byte order), after
   * `afterPseudonym` (exclusive; null: from the start); limit 1..MAX_EXPORT_PERSONS. Only a
   * tenant transfer lists people: every other read names its person.
   */
  listPersons(tenant: string, afterPseudonym: string | null, limit: number): Promise<PersonRow[]>;
}
