import { notFound } from '../kernel/index.js';
import type { Store } from '../store/index.js';

/**
 * Which tenants exist. Clinical operations act only in a tenant that was created (with its
 * Organization and audit entry), never in a name a principal with '*' happens to send.
 * Only positive answers are cached: a tenant never disappears, but one may appear.
 */
export class TenantDirectory {
  readonly #store: Store;
  readonly #known = new Set<string>();

  constructor(store: Store) {
    this.#store = store;
  }

  async assertExists(tenant: string): Promise<void> {
    if (this.#known.has(tenant)) return;
    if (!(await this.#store.getTenant(tenant))) throw notFound('no such tenant');
    this.#known.add(tenant);
  }
}

/** Tenant ids are lowercase letters, digits and dashes, with at least one letter (never BSN-shaped). */
export const TENANT_ID = /^(?=[a-z0-9-]*[a-z])[a-z0-9][a-z0-9-]{3,63}$/;
