/**
 * A store snapshot (store/snapshot-tables.ts) as the byte streams a backup chunks, one per
 * table in the row encoding of row-encoding.ts, and back: restored byte streams as the tables
 * of rows Store.restoreSnapshot takes.
 */
import { frontierRoot } from '../audit/index.js';
import { LabkluisError } from '../kernel/index.js';
import type { SnapshotRow, SnapshotTableRows, SnapshotTableSpec, Store, StoreSnapshot } from '../store/index.js';
import { decodeRows, ROW_ENCODING, RowEncoder } from './row-encoding.js';
import type { SnapshotSource } from './writer.js';

async function* encodeTable(spec: SnapshotTableSpec, batches: AsyncIterable<readonly SnapshotRow[]>, count: { n: number }): AsyncIterable<Uint8Array> {
  const encoder = new RowEncoder(spec);
  for await (const batch of batches) {
    count.n += batch.length;
    const piece = encoder.push(batch);
    if (piece !== null) yield piece;
  }
  const last = encoder.end();
  if (last !== null) yield last;
}

/**
 * A backup source over a store snapshot, in this thread: each table encoded as it is read, and
 * the audit log's size and root from the snapshot's head row. Close the snapshot when the
 * backup is done. (`labkluis backup` reads in a thread of its own: store-threads.ts.)
 */
export async function storeSource(store: Store): Promise<{ source: SnapshotSource; close: () => Promise<void> }> {
  const snap = await store.snapshot();
  return { source: snapshotSource(snap, store.backend), close: () => snap.close() };
}

/** An open store snapshot as a backup source. */
export function snapshotSource(snap: StoreSnapshot, backend: SnapshotSource['backend']): SnapshotSource {
  let audit: { size: number; root: string } | null = null;
  async function* tables() {
    for await (const t of snap.tables) {
      const count = { n: 0 };
      const batches = t.spec.name !== 'audit_head' ? t.batches : (async function* () {
        for await (const batch of t.batches) {
          for (const row of batch) {
            const [size, frontier] = row as [number, Buffer[]];
            audit = { size, root: frontierRoot(frontier, size).toString('hex') };
          }
          yield batch;
        }
      })();
      yield { table: t.spec.name, data: encodeTable(t.spec, batches, count), rows: () => count.n };
    }
  }
  return {
    backend,
    encoding: ROW_ENCODING,
    tables: tables(),
    audit: () => {
      if (audit === null) throw new LabkluisError('ERR_STORE', 'the snapshot had no audit head');
      return audit;
    },
  };
}

/** Table streams (as restored from a backup) as snapshot tables for Store.restoreSnapshot. */
export async function* decodeTables(
  tables: AsyncIterable<{ spec: SnapshotTableSpec; data: AsyncIterable<Uint8Array> }>,
): AsyncIterable<SnapshotTableRows> {
  for await (const t of tables) yield { spec: t.spec, batches: decodeRows(t.data, t.spec) };
}
