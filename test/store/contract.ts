/**
 * The one contract suite every Store backend passes. Each backend's test file calls
 * describeStoreContract with a factory; the cases live in contract-*.ts, one file per area,
 * and share a single migrated store (tests isolate themselves by tenant and by ids).
 */
import { afterAll, beforeAll, describe } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { describeAccountContract } from './contract-accounts.js';
import { describeAuditContract } from './contract-audit.js';
import { describeCoreContract } from './contract-core.js';
import { describeDeviceContract } from './contract-devices.js';
import { describeExportContract } from './contract-exports.js'; // four-eyes export (issue 4)
import { describePasskeyContract } from './contract-passkeys.js';
import { describePersonContract } from './contract-persons.js';
import { describeResourceContract } from './contract-resources.js';
import { describeSafeguardContract } from './contract-safeguards.js';
import { describeSearchContract } from './contract-search.js';
import { describeSentinelContract } from './contract-sentinel.js';

export interface MadeStore {
  readonly store: Store;
  cleanup(): Promise<void>;
}

export type MakeStore = () => Promise<MadeStore>;

/** What each area's cases get: the shared store, and a way to make a private one. */
export interface ContractContext {
  store(): Store;
  fresh(): Promise<MadeStore>;
}

export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`Store contract: ${name}`, () => {
    let made: MadeStore | null = null;
    beforeAll(async () => {
      made = await makeStore();
      await made.store.migrate();
    });
    afterAll(async () => {
      await made?.cleanup();
    });
    const ctx: ContractContext = {
      store: () => {
        if (made === null) throw new Error('store not ready');
        return made.store;
      },
      fresh: async () => {
        const m = await makeStore();
        await m.store.migrate();
        return m;
      },
    };
    describeCoreContract(ctx);
    describePersonContract(ctx);
    describeResourceContract(ctx);
    describeSearchContract(ctx);
    describeAuditContract(ctx);
    describeAccountContract(ctx);
    describePasskeyContract(ctx);
    describeDeviceContract(ctx);
    describeSafeguardContract(ctx);
    describeSentinelContract(ctx);
    describeExportContract(ctx); // four-eyes export (issue 4)
  });
}
