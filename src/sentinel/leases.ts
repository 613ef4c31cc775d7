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
 * it fails they are put back, so nothing is dropped from the counts. Other holders count a lease
 * until it is given back (written), or GRACE_MS after it ended if it never is (a node gone), so
 * what a lease let pass is never out of the store's sight in between.
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
/**
 * How long after a lease ends the other holders still count it if it is not given back. A node
 * writes or gives back each ended lease within a second or two (its timer, or its next
 * request); one that has not after this long is taken to be gone (its unwritten releases are
 * then lost to the counts, not to the audit log). Clock skew between nodes eats into it.
 */
export const GRACE_MS = 10_000;

/** What a flush found: principals (without a part's suffix) whose written releases held a canary, and the first error. */
export interface Flushed {
  readonly touched: readonly { readonly principalId: string; readonly tenant: string }[];
  readonly error: unknown;
}

export class Leases {
  readonly #store: SentinelStore;
  readonly #node: string;
  readonly #policy: LeasePolicy;
  readonly #held = new Map<string, Held>();
  /** Per key: the store call under way (renewal or flush). */
  readonly #busy = new Map<string, Promise<unknown>>();
  /** Principals just contained (ms): no new lease is kept for them (drop()). */
  readonly #barred = new Map<string, number>();

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
   * lease from the totals; without `lease` the key's lease is dropped. The outcome is the store's;
   * null when, with `lease`, the release waited for the key's call under way and then fit the
   * lease that call took (concurrent reads of one principal share one renewal).
   */
  record(c: Counted, now: number, lease: boolean): Promise<ReleaseOutcome | null> {
    return this.#record(c, now, lease, lease);
  }

  /** As record(), always in the store (the totals are wanted, not a pass). */
  async recordNow(c: Counted, now: number, lease: boolean): Promise<ReleaseOutcome> {
    return (await this.#record(c, now, lease, false))!;
  }

  async #record(c: Counted, now: number, lease: boolean, mayTake: boolean): Promise<ReleaseOutcome | null> {
    const key = keyOf(c.row);
    for (let under = this.#busy.get(key); under !== undefined; under = this.#busy.get(key)) {
      await under.catch(() => {});
      if (mayTake && !this.#busy.has(key) && this.take(c, now)) return null;
    }
    return this.#exclusive(key, () => this.#renew(key, c, now, lease));
  }

  /**
   * Puts a lease's pending releases back after a failed write, before the key's call ends (so
   * the next call for the key finds them): as an ended lease, or into the lease held now.
   */
  #restore(key: string, h: Held, pending: Pending): void {
    const now = this.#held.get(key);
    if (now === undefined) {
      this.#held.set(key, { ...h, until: 0, pending });
      return;
    }
    const into = (now.pending ??= { pseudonyms: new Set(), records: 0, bytes: 0, at: pending.at });
    for (const p of pending.pseudonyms) into.pseudonyms.add(p);
    into.records += pending.records;
    into.bytes += pending.bytes;
    if (pending.at < into.at) into.at = pending.at; // counted in the earlier minute: never later than it was
  }

  /** Runs `work` as the key's one store call under way (set before its first await). */
  async #exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const call = work();
    this.#busy.set(key, call);
    try {
      return await call;
    } finally {
      if (this.#busy.get(key) === call) this.#busy.delete(key);
    }
  }

  async #renew(key: string, c: Counted, now: number, lease: boolean): Promise<ReleaseOutcome> {
    const h = this.#held.get(key);
    this.#held.delete(key);
    let pending = h?.pending ?? null;
    let earlier: ReleaseOutcome | null = null;
    try {
      if (pending !== null && pending.at.slice(0, 16) !== c.row.at.slice(0, 16)) {
        // An earlier minute's releases are counted in their own minute first.
        earlier = await this.#store.recordRelease(rowOf(h!, pending), []);
        pending = null;
      }
    } catch (e) {
      if (h !== undefined && h.pending !== null) this.#restore(key, h, h.pending); // for the next call
      throw e;
    }
    // Contained meanwhile (nothing was recorded), or a canary among the earlier minute's: as if now.
    if (earlier?.containment) return earlier;
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
        // The others count it until it is given back, or its writing is overdue (a node gone).
        holder: this.#holder(c.row.tenant), until: iso(until + GRACE_MS),
        limits: c.limits.map((w) => ({ patients: w.patients, bytes: w.bytes })),
        share: this.#policy.share, maxPatients: this.#policy.maxPatients, maxBytes: this.#policy.maxBytes,
      } : undefined);
    } catch (e) {
      if (h !== undefined && pending !== null) this.#restore(key, h, pending); // for the next call
      // The earlier minute's canaries were found and those releases have left: they still count.
      if (earlier !== null && earlier.canaries.length > 0) return { containment: null, canaries: earlier.canaries, totals: [], lease: null };
      throw e;
    }
    const g = outcome.lease;
    if (g !== null && outcome.containment === null && !this.#isBarred(c.row.principalId, now)) {
      this.#held.set(key, {
        principalId: c.row.principalId, role: c.row.role, tenant: c.row.tenant, until, minute: minuteOf(now), grant: g,
        base: outcome.totals.map((t) => ({ patients: t.patients + g.othersPatients, bytes: t.bytes + g.othersBytes })),
        seen: new Set(row.pseudonyms), usedPatients: 0, usedBytes: 0, pending: null,
      });
    }
    return earlier !== null && earlier.canaries.length > 0 ? { ...outcome, canaries: [...earlier.canaries, ...outcome.canaries] } : outcome;
  }

  /**
   * Writes the pending releases of every lease that ended by `now` (all of them with `all`) and
   * gives the lease back; forgets ended leases with nothing pending (their reservation ends by
   * itself). A failed write keeps its releases for the next try and the others go on.
   */
  async flush(now: number, all = false): Promise<Flushed> {
    return this.#flushWhere((h) => all || now >= h.until || minuteOf(now) !== h.minute, false);
  }

  /**
   * Writes the pending releases of the principal's leases on this node (each part, each
   * tenant) and gives every one of them back, so the store's totals hold all this node let
   * pass and no other holder counts them as outstanding.
   */
  async flushOf(principalId: string): Promise<Flushed> {
    return this.#flushWhere((h) => h.principalId === principalId || h.principalId.startsWith(`${principalId}#`), true);
  }

  async #flushWhere(due: (h: Held) => boolean, giveBackAll: boolean): Promise<Flushed> {
    const out: { touched: { principalId: string; tenant: string }[]; error: unknown } = { touched: [], error: null };
    for (const [key, h] of [...this.#held]) {
      // Looked at again here: a call for the key may have run or started since.
      if (this.#held.get(key) !== h || this.#busy.has(key) || !due(h)) continue;
      this.#held.delete(key);
      // A lease that holds nothing and reserved nothing has nothing to write or give back.
      if (h.pending === null && h.grant.patients === 0 && h.grant.bytes === 0 && !giveBackAll) continue;
      const pending = h.pending;
      // Nothing pending: an empty release in the lease's minute, only to give the lease back
      // (the other holders stop counting it now rather than GRACE_MS after it ended).
      const row = rowOf(h, pending ?? { pseudonyms: new Set(), records: 0, bytes: 0, at: h.minute });
      try {
        const outcome = await this.#exclusive(key, async () => {
          try {
            return await this.#store.recordRelease(row, [], {
              holder: this.#holder(h.tenant), until: row.at, limits: [], share: 0, maxPatients: 0, maxBytes: 0,
            });
          } catch (e) {
            if (pending !== null) this.#restore(key, h, pending); // kept for the next try, before the key is free
            throw e;
          }
        });
        if (outcome.canaries.length > 0) out.touched.push({ principalId: h.principalId.split('#')[0]!, tenant: h.tenant });
      } catch (e) {
        out.error ??= e;
      }
    }
    return out;
  }

  /**
   * Drops the principal's leases on this node: the store found it contained (and records
   * nothing more for it), so their pending releases cannot be counted any more.
   */
  drop(principalId: string, now: number): void {
    for (const [key, h] of this.#held) {
      if (h.principalId === principalId || h.principalId.startsWith(`${principalId}#`)) this.#held.delete(key);
    }
    // A renewal under way for it must not leave a new lease behind.
    this.#barred.set(principalId, now);
  }

  /** Lifted: leases may be taken for it again. */
  unbar(principalId: string): void {
    this.#barred.delete(principalId);
  }

  #isBarred(partId: string, now: number): boolean {
    const at = this.#barred.get(partId.split('#')[0]!);
    if (at === undefined) return false;
    if (now - at < this.#policy.seconds * 1000 + GRACE_MS) return true;
    this.#barred.delete(partId.split('#')[0]!);
    return false;
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
