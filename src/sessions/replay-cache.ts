/**
 * Replay cache for DPoP proof identifiers (RFC 9449 §11.1): a key is remembered until its
 * expiry so that the same proof is accepted once. MemoryReplayCache serves one process;
 * StoreReplayCache keeps the keys in the store, so several nodes on one PostgreSQL database
 * refuse a proof any of them has seen.
 *
 * MemoryReplayCache keeps at most `maxEntries` unexpired keys. The public DPoP routes (sign-in,
 * enrolment, refresh, device grant) let anyone with a fresh key add entries, so the cap is hard:
 * when it is full, expired keys are swept first; if it is still full it does not evict
 * unexpired keys (that would reopen a replay window for exactly the proofs an attacker wants to
 * replay) but fails closed and refuses the new proof with a RateLimitedError (ERR_RATE_LIMITED,
 * 429, Retry-After: until the oldest entry expires). That is not a DpopError: the proof is not
 * at fault, so no session ends and no replay alarm is raised.
 */
import { MinHeap, RateLimitedError, type Clock } from '../kernel/index.js';
import type { Store } from '../store/index.js';

export interface ReplayCache {
  /**
   * Resolves true the first time `key` is remembered, false when it is already present and
   * not expired. An entry counts as present while the clock reads at most `expiresAtMs`.
   * Rejects (fails closed) when the cache cannot record the key.
   */
  remember(key: string, expiresAtMs: number): Promise<boolean>;
}

export interface MemoryReplayCacheOptions {
  readonly clock: Clock;
  /** Hard cap on unexpired entries; default 100,000. */
  readonly maxEntries?: number;
}

export const DEFAULT_REPLAY_CACHE_ENTRIES = 100_000;

export class MemoryReplayCache implements ReplayCache {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #expiry = new Map<string, number>();
  readonly #heap = new MinHeap<{ at: number; key: string }>((a, b) => a.at < b.at); // same entries as #expiry, ordered by expiry: pruning is O(log n) each

  constructor({ clock, maxEntries = DEFAULT_REPLAY_CACHE_ENTRIES }: MemoryReplayCacheOptions) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
    this.#clock = clock;
    this.#max = maxEntries;
  }

  /** Number of unexpired entries (after pruning). */
  get size(): number {
    this.#prune(this.#clock.now().getTime());
    return this.#expiry.size;
  }

  async remember(key: string, expiresAtMs: number): Promise<boolean> {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('key must be a non-empty string');
    if (!Number.isFinite(expiresAtMs)) throw new TypeError('expiresAtMs must be a finite number');
    const now = this.#clock.now().getTime();
    this.#prune(now);
    if (this.#expiry.has(key)) return false;
    if (this.#expiry.size >= this.#max) {
      // Pruned above: the soonest expiry is in the future, and then there is room again.
      throw new RateLimitedError('too many requests', this.#heap.peek()!.at + 1 - now);
    }
    this.#expiry.set(key, expiresAtMs);
    this.#heap.push({ at: expiresAtMs, key });
    return true;
  }

  #prune(nowMs: number): void {
    for (let top = this.#heap.peek(); top !== undefined && top.at < nowMs; top = this.#heap.peek()) {
      this.#heap.pop();
      this.#expiry.delete(top.key);
    }
  }
}

/** The keys in the store (one table, atomic insert-if-absent), swept of expired ones now and then. */
export class StoreReplayCache implements ReplayCache {
  readonly #store: Pick<Store, 'accounts'>;
  readonly #clock: Clock;
  #nextSweep = 0;

  constructor({ store, clock }: { store: Pick<Store, 'accounts'>; clock: Clock }) {
    this.#store = store;
    this.#clock = clock;
  }

  async remember(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.#clock.now().getTime();
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + 60_000;
      await this.#store.accounts.forgetProofs(now);
    }
    return this.#store.accounts.rememberProof(key, expiresAtMs, now);
  }
}
