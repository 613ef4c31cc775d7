/**
 * A migrated store (SQLite in a temp dir, or a throwaway PostgreSQL database) with real data
 * keys from a real local keyring, for tests of the parts that sit on the store without the
 * whole app: sessions, accounts.
 */
import { join } from 'node:path';
import { createLocalKeyring, DataKeys } from '../../src/crypto/index.js';
import { systemRandom, type Clock } from '../../src/kernel/index.js';
import { createPostgresStore, createSqliteStore, type Store } from '../../src/store/index.js';
import { createTestDatabase } from './postgres.js';
import { createTempDir } from './tmp.js';
import type { Backend } from './vault-fixture.js';

export interface StoreEnv {
  readonly store: Store;
  readonly keys: DataKeys;
  cleanup(): Promise<void>;
}

export async function createStoreEnv(backend: Backend, clock: Clock): Promise<StoreEnv> {
  const tmp = await createTempDir('labkluis-env-');
  const dataDir = join(tmp.path, 'data');
  const db = backend === 'postgres' ? await createTestDatabase() : null;
  const store = db ? createPostgresStore({ connectionString: db.connectionString }) : createSqliteStore({ path: tmp.file('store.db') });
  await store.migrate();
  const kms = createLocalKeyring({ path: join(tmp.path, 'keys', 'keyring.json'), dataDir, signerName: 'test.labkluis.local/audit', random: systemRandom });
  const keys = new DataKeys({ store, kms, clock, random: systemRandom });
  return {
    store, keys,
    cleanup: async () => {
      await store.close();
      await db?.drop();
      await tmp.cleanup();
    },
  };
}
