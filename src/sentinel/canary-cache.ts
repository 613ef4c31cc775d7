import type { SentinelStore } from '../store/index.js';

/**
 * Each tenant's canary patients, as this node last read them (the lease path checks a response
 * here instead of in the store). Read again after `seconds`, and at once when they change on
 * this node; a canary seeded on another node or by the CLI is checked here within `seconds`,
 * and before that by the store, at the lease's next renewal or flush.
 */
export class CanaryCache {
  readonly #store: SentinelStore;
  readonly #ms: number;
  readonly #byTenant = new Map<string, { readonly at: number; readonly pseudonyms: ReadonlySet<string> }>();

  constructor(store: SentinelStore, seconds: number) {
    this.#store = store;
    this.#ms = seconds * 1000;
  }

  /** Whether any of these patients of `tenant` is one of its canaries. */
  async any(tenant: string, pseudonyms: readonly string[], now: number): Promise<boolean> {
    if (pseudonyms.length === 0) return false;
    let known = this.#byTenant.get(tenant);
    if (known === undefined || now - known.at >= this.#ms || now < known.at) {
      known = { at: now, pseudonyms: new Set((await this.#store.listCanaries(tenant)).map((c) => c.pseudonym)) };
      this.#byTenant.set(tenant, known);
    }
    const set = known.pseudonyms;
    return pseudonyms.some((p) => set.has(p));
  }

  forget(tenant: string): void {
    this.#byTenant.delete(tenant);
  }
}
