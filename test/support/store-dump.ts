import type { SnapshotValue, Store } from '../../src/store/index.js';

export type StoreDump = Record<string, (readonly SnapshotValue[])[]>;

/** Every snapshot table's rows, read from a fresh snapshot of the store (to compare two stores). */
export async function dumpStore(store: Store): Promise<StoreDump> {
  const snap = await store.snapshot();
  const out: StoreDump = {};
  try {
    for await (const t of snap.tables) {
      const rows: (readonly SnapshotValue[])[] = [];
      for await (const batch of t.batches) rows.push(...batch);
      out[t.spec.name] = rows;
    }
  } finally {
    await snap.close();
  }
  return out;
}
