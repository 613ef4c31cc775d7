import { LabkluisError, type Clock, type Random } from '../kernel/index.js';
import type { KeyPurpose, Store } from '../store/index.js';
import type { DataKey } from './envelope.js';
import type { Kms } from './kms.js';

/**
 * Per-tenant data keys (identity, clinical, blind index) and the global audit MAC key.
 * Created on first use, wrapped by the KMS, stored in the database; unwrapped keys are
 * cached in memory only. Two processes racing to create a key agree through the store's
 * first-writer-wins insert.
 */
export class DataKeys {
  readonly #store: Store;
  readonly #kms: Kms;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #cache = new Map<string, Promise<Map<number, DataKey>>>();

  constructor(deps: { store: Store; kms: Kms; clock: Clock; random: Random }) {
    this.#store = deps.store;
    this.#kms = deps.kms;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  /** The newest key of that purpose, for sealing. */
  async current(tenant: string, purpose: KeyPurpose): Promise<DataKey> {
    const keys = await this.#load(tenant, purpose);
    let newest: DataKey | undefined;
    for (const k of keys.values()) if (!newest || k.version > newest.version) newest = k;
    if (!newest) throw new LabkluisError('ERR_KEYRING', 'no data key');
    return newest;
  }

  /** A specific version, for opening older records. */
  async version(tenant: string, purpose: KeyPurpose, version: number): Promise<DataKey> {
    const key = (await this.#load(tenant, purpose)).get(version);
    if (!key) throw new LabkluisError('ERR_DECRYPTION_FAILED', 'decryption failed');
    return key;
  }

  #load(tenant: string, purpose: KeyPurpose): Promise<Map<number, DataKey>> {
    const slot = `${tenant}\x1f${purpose}`;
    let pending = this.#cache.get(slot);
    if (!pending) {
      pending = this.#fetchOrCreate(tenant, purpose);
      this.#cache.set(slot, pending);
      pending.catch(() => this.#cache.delete(slot)); // a failed load is retried next time
    }
    return pending;
  }

  async #fetchOrCreate(tenant: string, purpose: KeyPurpose): Promise<Map<number, DataKey>> {
    let rows = await this.#store.getDataKeys(tenant, purpose);
    if (rows.length === 0) {
      const key = this.#random.bytes(32);
      const wrapped = await this.#kms.wrap(key, context(tenant, purpose, 1));
      key.fill(0);
      const stored = await this.#store.insertDataKey({
        tenant, purpose, version: 1, kekId: this.#kms.kekId, wrapped, createdAt: this.#clock.now().toISOString(),
      });
      rows = [stored];
    }
    const out = new Map<number, DataKey>();
    for (const row of rows) {
      const key = await this.#kms.unwrap(row.wrapped, row.kekId, context(row.tenant, row.purpose, row.version));
      out.set(row.version, { version: row.version, key });
    }
    return out;
  }
}

const context = (tenant: string, purpose: string, version: number): string => `${tenant}\x1f${purpose}\x1f${version}`;
