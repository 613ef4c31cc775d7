/**
 * The audit log the vault writes through. NEN 7513 requires every access to be logged; the
 * design adds "no entry, no data": append resolves only once the store has made the entries
 * durable, and any store failure becomes ERR_AUDIT_UNAVAILABLE so the request fails closed.
 *
 * Group commit: while one store.appendAudit is in flight, later callers' drafts queue up and go
 * to the store together in the next one; each caller gets back exactly its own rows. Under load
 * this turns N fsyncs into a few without delaying a lone caller.
 *
 * Checkpoints (C2SP tlog-checkpoint, Ed25519) are signed after appends once enough entries or
 * time have passed. A failed checkpoint write loses no entries (they are already durable and a
 * later checkpoint covers them) but is always reported through the injected logger.
 */
import { LabkluisError, type Clock, type Random } from '../kernel/index.js';
import type { AuditRow, AuditSealer, CheckpointRow, Store } from '../store/types.js';
import { signCheckpoint, type NoteSigner } from './checkpoint.js';
import { prepareEntry, type AuditDraft, type PreparedEntry } from './entry.js';
import { frontierRoot } from './merkle.js';
import { checkMacKey, sealPrepared } from './seal.js';

/** The part of a logger the audit log needs; a pino logger fits. */
export interface AuditLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

export interface AuditLogOptions {
  readonly store: Store;
  readonly macKey: Uint8Array;
  readonly signer: NoteSigner;
  readonly origin: string; // the checkpoint origin line, e.g. "lab.example.nl/labkluis/audit"
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: AuditLogger;
  readonly checkpointEvery?: { readonly entries: number; readonly ms: number };
  /**
   * Yield one macrotask before each store write so that requests ready in the same turn of the
   * event loop share it. For stores whose writes run synchronously (SQLite), where otherwise
   * every append is its own fsync; an asynchronous store (PostgreSQL) groups by itself.
   */
  readonly coalesce?: boolean;
}

interface Waiter {
  readonly entries: readonly PreparedEntry[];
  resolve(rows: AuditRow[]): void;
  reject(error: unknown): void;
}

export class AuditLog {
  readonly #store: Store;
  readonly #macKey: Buffer;
  readonly #signer: NoteSigner;
  readonly #origin: string;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: AuditLogger;
  readonly #every: { readonly entries: number; readonly ms: number };
  readonly #coalesce: boolean;

  #queue: Waiter[] = [];
  #writing: Promise<void> | null = null;
  #closed = false;
  // The newest row this node knows of, and what the last checkpoint covered.
  #newest: { size: number; root: Buffer } | null = null;
  #checkpointedSize = 0;
  #lastCheckpointAt: number;
  #checkpointing: Promise<unknown> = Promise.resolve();

  constructor(options: AuditLogOptions) {
    const { store, macKey, signer, origin, clock, random, logger, checkpointEvery = { entries: 256, ms: 1000 }, coalesce = false } = options;
    checkMacKey(macKey);
    if (origin.length === 0 || /[\n\r]/.test(origin)) throw new TypeError('origin must be one non-empty line');
    const { entries, ms } = checkpointEvery;
    if (!Number.isSafeInteger(entries) || entries < 1 || !Number.isFinite(ms) || ms < 0) {
      throw new TypeError('checkpointEvery needs entries >= 1 and ms >= 0');
    }
    this.#store = store;
    this.#macKey = Buffer.from(macKey);
    this.#signer = signer;
    this.#origin = origin;
    this.#clock = clock;
    this.#random = random;
    this.#logger = logger;
    this.#every = Object.freeze({ entries, ms });
    this.#coalesce = coalesce;
    this.#lastCheckpointAt = clock.now().getTime();
  }

  /** Durably appends the drafts; rejects with ERR_AUDIT_UNAVAILABLE if the store fails. */
  append(drafts: readonly AuditDraft[]): Promise<AuditRow[]> {
    if (this.#closed) return Promise.reject(new LabkluisError('ERR_AUDIT_UNAVAILABLE', 'audit log is closed'));
    let entries: PreparedEntry[];
    try {
      entries = drafts.map((d) => prepareEntry(d, { clock: this.#clock, random: this.#random }));
    } catch (e) {
      return Promise.reject(e); // a bad draft is the caller's bug; it must not spoil the group
    }
    if (entries.length === 0) return Promise.resolve([]);
    return new Promise<AuditRow[]>((resolve, reject) => {
      this.#queue.push({ entries, resolve, reject });
      this.#writing ??= this.#drain();
    });
  }

  /** Writes queued groups one store call at a time until the queue is empty. */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      if (this.#coalesce) await new Promise<void>((resolve) => setImmediate(resolve));
      const group = this.#queue;
      this.#queue = [];
      try {
        const rows = await this.#store.appendAudit(sealPrepared(group.flatMap((w) => w.entries), this.#macKey));
        const total = group.reduce((n, w) => n + w.entries.length, 0);
        if (rows.length !== total) throw new Error(`store returned ${rows.length} audit rows for ${total} entries`);
        let at = 0;
        for (const w of group) {
          w.resolve(rows.slice(at, at + w.entries.length));
          at += w.entries.length;
        }
        this.noteAppended(rows);
      } catch (cause) {
        this.#logger.error({ err: cause, entries: group.length }, 'audit append failed; requests fail closed');
        for (const w of group) w.reject(new LabkluisError('ERR_AUDIT_UNAVAILABLE', 'audit log unavailable', { cause }));
      }
    }
    this.#writing = null;
  }

  /** A sealer for writes that go through store.commit(batch, sealer) in one transaction. */
  sealerFor(drafts: readonly AuditDraft[]): AuditSealer {
    if (this.#closed) throw new LabkluisError('ERR_AUDIT_UNAVAILABLE', 'audit log is closed');
    return sealPrepared(drafts.map((d) => prepareEntry(d, { clock: this.#clock, random: this.#random })), this.#macKey);
  }

  /** Tells the log about rows a store.commit wrote, so the checkpoint policy sees them. */
  noteAppended(rows: readonly AuditRow[]): void {
    for (const row of rows) {
      if (this.#newest === null || row.seq + 1 > this.#newest.size) this.#newest = { size: row.seq + 1, root: row.rootAfter };
    }
    const newest = this.#newest;
    if (newest === null || newest.size <= this.#checkpointedSize) return;
    const dueByCount = newest.size - this.#checkpointedSize >= this.#every.entries;
    const dueByTime = this.#clock.now().getTime() - this.#lastCheckpointAt >= this.#every.ms;
    if (dueByCount || dueByTime) {
      this.#lastCheckpointAt = this.#clock.now().getTime(); // one attempt per period, even if it fails
      void this.#enqueueCheckpoint(newest).catch(() => undefined); // already logged
    }
  }

  /** Signs and stores checkpoints one at a time; failures are logged, then rethrown. */
  #enqueueCheckpoint(at: { size: number; root: Buffer }): Promise<CheckpointRow | null> {
    const run = this.#checkpointing.then(async () => {
      if (at.size <= this.#checkpointedSize) return null; // a newer one already covers it
      try {
        const note = await signCheckpoint({ origin: this.#origin, size: at.size, root: at.root }, this.#signer);
        const row: CheckpointRow = { size: at.size, root: at.root, note, createdAt: this.#clock.now().toISOString() };
        await this.#store.insertCheckpoint(row);
        this.#checkpointedSize = Math.max(this.#checkpointedSize, at.size);
        this.#lastCheckpointAt = this.#clock.now().getTime();
        return row;
      } catch (cause) {
        this.#logger.error({ err: cause, size: at.size }, 'audit checkpoint failed; entries are kept, not yet anchored');
        throw new LabkluisError('ERR_AUDIT_UNAVAILABLE', 'audit checkpoint failed', { cause });
      }
    });
    this.#checkpointing = run.catch(() => undefined);
    return run;
  }

  /**
   * Forces a checkpoint of the store's current head (root recomputed from its frontier).
   * Null when the log is empty or this log already checkpointed that size.
   */
  async checkpoint(): Promise<CheckpointRow | null> {
    await this.#writing;
    let at: { size: number; root: Buffer };
    try {
      const head = await this.#store.auditHead();
      at = { size: head.size, root: frontierRoot(head.frontier, head.size) };
    } catch (cause) {
      this.#logger.error({ err: cause }, 'audit checkpoint failed: cannot read the log head');
      throw new LabkluisError('ERR_AUDIT_UNAVAILABLE', 'audit checkpoint failed', { cause });
    }
    if (at.size === 0) return null;
    return this.#enqueueCheckpoint(at);
  }

  /** Refuses new appends, flushes queued ones, then writes a final checkpoint. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writing;
    await this.#checkpointing;
    await this.checkpoint();
  }
}
