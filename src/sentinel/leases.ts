/**
 * The sentinel's write-behind (LeasePolicy in policy.ts): per principal part and tenant, a
 * lease on a share of what is left of the principal's budget. A release that fits the lease
 * passes on this node without a store call and waits, with the lease's other releases of the
 * same UTC minute, for the next call: the renewal (the release that no longer fits, which the
 * store then counts exactly and judges), or the flush when the lease ends.
 *
 * What fits: the lease's new patients (those it has not seen yet; a patient it has seen counts
 * once) and bytes within the grant, and, for every window, the totals at the grant plus the
 * other holders' leases then plus what the lease released since within the window's limit now
 * (signals may have lowered it). Totals only shrink as windows slide, so a read that fits cannot
 * cross a limit: containment happens in the store call, on the exact totals, as without leases.
 *
 * One call per key at a time: a release that needs the store while another is under way waits
 * for it and tries the new lease first. The pending releases go with the call that renews; if
 * it fails they are put back, so nothing is dropped from the counts.
 */
import type { LeaseGrant, ReleaseOutcome, ReleaseRow, SentinelStore } from '../store/index.js';
import type { LeasePolicy, WindowLimit } from './policy.js';

interface Pending {
  readonly pseudonyms: Set<string>;
  records: number;
  bytes: number;
  at: string;
}

interface Held {
  readonly principalId: string;
  readonly role: string;
  readonly tenant: string;
  /** Until when this node uses it (ms): `seconds` after the grant, never past its minute. */
  readonly until: number;
  readonly minute: string;
  readonly grant: LeaseGrant;
  /** Per window at the grant: the totals plus the other holders' leases. */
  readonly base: readonly { readonly patients: number; readonly bytes: number }[];
  readonly seen: Set<string>;
  usedPatients: number;
  usedBytes: number;
  pending: Pending | null;
}

/** A release to count: the row as the store takes it, its window starts and their limits. */
export interface Counted {
  readonly row: ReleaseRow;
  readonly windows: readonly string[];
  readonly limits: readonly WindowLimit[];
}

const MINUTE_MS = 60_000;

export class Leases {
  readonly #store: SentinelStore;
  readonly #node: string;
  readonly #policy: LeasePolicy;
  readonly #held = new Map<string, Held>();
  /** Per key: the store call under way (renewal or flush). */
  readonly #busy = new Map<string, Promise<unknown>>();

  constructor(store: SentinelStore, node: string, policy: LeasePolicy) {
    this.#store = store;
    this.#node = node;
    this.#policy = policy;
  }

  /**
   * Takes the release into the key's lease if it fits (see the file's comment) and returns
   * true; false when it must go to the store (no lease, ended, another minute, too big).
   */
  take(c: Counted, now: number): boolean {
    const key = keyOf(c.row);
    const h = this.#held.get(key);
    if (h === undefined || this.#busy.has(key) || now >= h.until || minuteOf(now) !== h.minute || h.base.length !== c.limits.length) return false;
    let fresh = 0;
    for (const p of c.row.pseudonyms) if (!h.seen.has(p)) fresh += 1;
    const patients = h.usedPatients + fresh;
    const bytes = h.usedBytes + c.row.bytes;
    if (patients > h.grant.patients || bytes > h.grant.bytes) return false;
    for (const [i, w] of c.limits.entries()) {
      const b = h.base[i]!;
      if (b.patients + patients > w.patients || (w.bytes !== null && b.bytes + bytes > w.bytes)) return false;
    }
    h.usedPatients = patients;
    h.usedBytes = bytes;
    const pending = (h.pending ??= { pseudonyms: new Set(), records: 0, bytes: 0, at: c.row.at });
    for (const p of c.row.pseudonyms) {
      h.seen.add(p);
      pending.pseudonyms.add(p);
    }
    pending.records += c.row.records;
    pending.bytes += c.row.bytes;
    if (c.row.at > pending.at) pending.at = c.row.at;
    return true;
  }

  /**
   * Counts the release in the store with the key's pending releases, and (`lease`) takes a new
   * lease from the totals; without `lease` the key's lease is dropped. The outcome is the store's.
   */
  async record(c: Counted, now: number, lease: boolean): Promise<ReleaseOutcome> {
    const key = keyOf(c.row);
    for (let under = this.#busy.get(key); under !== undefined; under = this.#busy.get(key)) await under.catch(() => {});
    const call = this.#renew(key, c, now, lease);
    this.#busy.set(key, call);
    try {
      return await call;
    } finally {
      this.#busy.delete(key);
    }
  }

  async #renew(key: string, c: Counted, now: number, lease: boolean): Promise<ReleaseOutcome> {
    const h = this.#held.get(key);
    this.#held.delete(key);
    let pending = h?.pending ?? null;
    try {
      if (pending !== null && pending.at.slice(0, 16) !== c.row.at.slice(0, 16)) {
        // An earlier minute's releases are counted in their own minute first.
        await this.#store.recordRelease(rowOf(h!, pending), []);
        pending = null;
      }
    } catch (e) {
      if (h !== undefined) this.#held.set(key, h); // still pending, for the next call
      throw e;
    }
    const row = pending === null ? c.row : {
      ...c.row,
      pseudonyms: [...new Set([...pending.pseudonyms, ...c.row.pseudonyms])],
      records: pending.records + c.row.records,
      bytes: pending.bytes + c.row.bytes,
    };
    const until = Math.min(now + this.#policy.seconds * 1000, Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
    let outcome: ReleaseOutcome;
    try {
      outcome = await this.#store.recordRelease(row, c.windows, lease ? {
        holder: this.#holder(c.row.tenant), until: iso(until),
        limits: c.limits.map((w) => ({ patients: w.patients, bytes: w.bytes })),
        share: this.#policy.share, maxPatients: this.#policy.maxPatients, maxBytes: this.#policy.maxBytes,
      } : undefined);
    } catch (e) {
      if (h !== undefined && pending !== null) this.#held.set(key, { ...h, until: 0, pending }); // flushed by the next call
      throw e;
    }
    const g = outcome.lease;
    if (g !== null && outcome.containment === null) {
      this.#held.set(key, {
        principalId: c.row.principalId, role: c.row.role, tenant: c.row.tenant, until, minute: minuteOf(now), grant: g,
        base: outcome.totals.map((t) => ({ patients: t.patients + g.othersPatients, bytes: t.bytes + g.othersBytes })),
        seen: new Set(row.pseudonyms), usedPatients: 0, usedBytes: 0, pending: null,
      });
    }
    return outcome;
  }

  /**
   * Writes the pending releases of every lease that ended by `now` (all of them with `all`) and
   * gives the lease back; forgets ended leases with nothing pending. Returns the principals
   * (without a part's suffix) and tenants whose written releases held a canary: the caller
   * contains them.
   */
  async flush(now: number, all = false): Promise<{ principalId: string; tenant: string }[]> {
    return this.#flushWhere((h) => all || now >= h.until || minuteOf(now) !== h.minute);
  }

  /**
   * Writes the pending releases of the principal's leases on this node (each part, each
   * tenant) and gives the leases back: before it is contained, so its counts are complete.
   */
  async flushOf(principalId: string): Promise<void> {
    await this.#flushWhere((h) => h.principalId === principalId || h.principalId.startsWith(`${principalId}#`));
  }

  async #flushWhere(due: (h: Held) => boolean): Promise<{ principalId: string; tenant: string }[]> {
    const touched: { principalId: string; tenant: string }[] = [];
    for (const [key, h] of [...this.#held].filter(([k, x]) => due(x) && !this.#busy.has(k))) {
      this.#held.delete(key);
      if (h.pending === null) continue;
      const pending = h.pending;
      const call = this.#store.recordRelease(rowOf(h, pending), [], {
        holder: this.#holder(h.tenant), until: pending.at, limits: [], share: 0, maxPatients: 0, maxBytes: 0,
      });
      this.#busy.set(key, call);
      try {
        if ((await call).canaries.length > 0) touched.push({ principalId: h.principalId.split('#')[0]!, tenant: h.tenant });
      } catch (e) {
        if (!this.#held.has(key)) this.#held.set(key, { ...h, until: 0 }); // kept for the next try
        throw e;
      } finally {
        this.#busy.delete(key);
      }
    }
    return touched;
  }

  /**
   * Drops the principal's leases on this node: the store found it contained (and records
   * nothing more for it), so their pending releases cannot be counted any more.
   */
  drop(principalId: string): void {
    for (const [key, h] of this.#held) {
      if (h.principalId === principalId || h.principalId.startsWith(`${principalId}#`)) this.#held.delete(key);
    }
  }

  /** Leases held now (for tests and metrics). */
  get size(): number {
    return this.#held.size;
  }

  #holder(tenant: string): string {
    return `${this.#node}|${tenant}`;
  }
}

function keyOf(row: ReleaseRow): string {
  return `${row.principalId}\u0000${row.role}\u0000${row.tenant}`;
}

function rowOf(h: Held, p: Pending): ReleaseRow {
  return { principalId: h.principalId, role: h.role, tenant: h.tenant, pseudonyms: [...p.pseudonyms], records: p.records, bytes: p.bytes, at: p.at };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const minuteOf = (ms: number): string => iso(Math.floor(ms / MINUTE_MS) * MINUTE_MS);
