/** Backups in tests: a store's snapshot written to a target, as `labkluis backup` writes one. */
import { verifierKeyString, type NoteSigner } from '../../src/audit/index.js';
import { openManifest, writeStoreSnapshot, type BackupTarget, type OpenedManifest, type WriteSummary } from '../../src/backup/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import type { Store } from '../../src/store/index.js';

export interface TestSnapshot {
  readonly target: BackupTarget;
  readonly recipients: readonly string[];
  readonly macKey: Buffer;
  readonly signer: NoteSigner;
  readonly previous: OpenedManifest | null;
}

/** Writes the store's snapshot and opens its manifest with the signer's key. */
export async function snapshotTo(store: Store, o: TestSnapshot): Promise<{ summary: WriteSummary; opened: OpenedManifest }> {
  const summary = await writeStoreSnapshot(store, {
    ...o, clock: systemClock, random: systemRandom,
    // Small chunks and packs: a test vault is tens of kilobytes (the benchmark backs up a gigabyte with the defaults).
    sizes: { min: 512, avg: 2048, max: 8192 }, packSize: 32 * 1024,
  });
  const opened = openManifest((await o.target.getManifest(summary.name))!, verifierKeyString(o.signer.name, o.signer.publicKey));
  return { summary, opened };
}
