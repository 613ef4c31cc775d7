import type { Clock } from '../kernel/index.js';
import type { SentinelStore } from '../store/index.js';
import type { BaselinePolicy } from './policy.js';

/** What one role's history says, as one node last read it. */
interface RoleBaseline {
  readonly readAt: number;
  /** Each principal's own 95th percentile of patients a day (only with enough days). */
  readonly own: ReadonlyMap<string, number>;
  /** The role's 95th percentile over all its principal-days (null: not enough of them). */
  readonly peers: number | null;
}

/**
 * Per-principal day limits from history (issue 4, signal 1): what a principal and its peers of
 * the same role normally touch in a day. The counts are the store's daily distinct-patient
 * rows, which every node shares, so every node computes the same limits; each node keeps a
 * role's figures for `refreshSeconds` before reading them again.
 *
 * Days with no release at all have no row and do not count: the percentiles describe working
 * days, so they err on the high side. Today is left out (it is not over).
 */
export class Baselines {
  readonly #store: SentinelStore;
  readonly #clock: Clock;
  readonly #policy: BaselinePolicy;
  readonly #roles = new Map<string, Promise<RoleBaseline>>();

  constructor(store: SentinelStore, clock: Clock, policy: BaselinePolicy) {
    this.#store = store;
    this.#clock = clock;
    this.#policy = policy;
  }

  /**
   * The principal's baselined day limit: `multiplier` times the larger of its own and its
   * peers' 95th percentile, at least `minimumDay`. Null when there is no history to go by
   * (a new deployment, a new role) or baselines are off: then the hard limits alone apply.
   */
  async dayLimit(principalId: string, role: string): Promise<number | null> {
    if (!this.#policy.enabled) return null;
    const b = await this.#forRole(role);
    const own = b.own.get(principalId) ?? null;
    const base = own === null ? b.peers : b.peers === null ? own : Math.max(own, b.peers);
    if (base === null) return null;
    return Math.max(this.#policy.minimumDay, Math.ceil(this.#policy.multiplier * base));
  }

  async #forRole(role: string): Promise<RoleBaseline> {
    const now = this.#clock.now().getTime();
    const cached = this.#roles.get(role);
    if (cached) {
      const b = await cached;
      if (now - b.readAt < this.#policy.refreshSeconds * 1000) return b;
    }
    const reading = this.#read(role, now);
    this.#roles.set(role, reading);
    // A failed read is not kept: the next request tries again.
    reading.catch(() => {
      if (this.#roles.get(role) === reading) this.#roles.delete(role);
    });
    return reading;
  }

  async #read(role: string, now: number): Promise<RoleBaseline> {
    const today = new Date(now).toISOString().slice(0, 10);
    const since = new Date(now - this.#policy.days * 86_400_000).toISOString().slice(0, 10);
    const rows = (await this.#store.dailyPatients(role, since)).filter((r) => r.day < today);
    const perPrincipal = new Map<string, number[]>();
    for (const r of rows) {
      const days = perPrincipal.get(r.principalId) ?? [];
      days.push(r.patients);
      perPrincipal.set(r.principalId, days);
    }
    const own = new Map<string, number>();
    for (const [id, days] of perPrincipal) {
      if (days.length >= this.#policy.minOwnDays) own.set(id, percentile95(days));
    }
    const all = rows.map((r) => r.patients);
    return { readAt: now, own, peers: all.length >= this.#policy.minPeerDays ? percentile95(all) : null };
  }
}

/** The nearest-rank 95th percentile of a non-empty list. */
export function percentile95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
}
