/**
 * A backup source read in a thread of its own (source-thread.ts): the store's snapshot taken
 * there, its tables encoded there, and the pieces moved here, while the writer hands them on to
 * the packing thread (pack-worker.ts). Reading and packing then run on two cores and the
 * writer's thread only passes bytes along and writes packs.
 */
import { LabkluisError } from '../kernel/index.js';
import type { SnapshotAddress, Store } from '../store/index.js';
import { storeSourceHere } from './snapshot-codec.js';
import { Mailbox, startThread } from './threads.js';
import type { SnapshotSource, SnapshotTable } from './writer.js';

export interface SourceThreadData {
  readonly address: SnapshotAddress;
  readonly backend: SnapshotSource['backend'];
}

export type SourceMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'table'; readonly table: string }
  | { readonly kind: 'piece'; readonly piece: Uint8Array }
  | { readonly kind: 'tableEnd'; readonly rows: number }
  | { readonly kind: 'end'; readonly audit: { size: number; root: string } }
  | { readonly kind: 'error'; readonly code?: string; readonly message: string };

/**
 * A backup source over a snapshot of `store`, taken now: in a thread of its own, or in this one
 * (`here`). Close it when the backup is done, whether or not every table was read.
 */
export async function storeSource(store: Store, o: { here?: boolean } = {}): Promise<{ source: SnapshotSource; close: () => Promise<void> }> {
  if (o.here === true) return storeSourceHere(store);
  const data: SourceThreadData = { address: await store.snapshotAddress(), backend: store.backend };
  const worker = startThread('source-thread', data);
  const inbox = new Mailbox<SourceMessage>().listen(worker, (message) => ({ kind: 'error', message }));
  const first = await inbox.next();
  if (first.kind !== 'ready') {
    await worker.terminate();
    throw failure(first);
  }
  let audit: { size: number; root: string } | null = null;
  async function* tables(): AsyncIterable<SnapshotTable> {
    for (;;) {
      const m = await inbox.next();
      if (m.kind === 'end') {
        audit = m.audit;
        return;
      }
      if (m.kind !== 'table') throw failure(m);
      let rows: number | null = null;
      const data = (async function* () {
        for (;;) {
          const x = await inbox.next();
          if (x.kind === 'tableEnd') {
            rows = x.rows;
            return;
          }
          if (x.kind !== 'piece') throw failure(x);
          worker.postMessage('taken');
          yield x.piece;
        }
      })();
      yield {
        table: m.table, data, rows: () => {
          if (rows === null) throw new Error('a table\'s rows are known once its stream has ended');
          return rows;
        },
      };
    }
  }
  return {
    source: {
      backend: store.backend,
      encoding: 'rows/2',
      tables: tables(),
      audit: () => {
        if (audit === null) throw new LabkluisError('ERR_STORE', 'the snapshot had no audit head');
        return audit;
      },
    },
    // The thread ends by itself after the last table; before that, it is stopped (its snapshot ends with it).
    close: async () => {
      if (!inbox.ended) await worker.terminate();
    },
  };
}

export function failure(m: { kind: string; code?: string; message?: string }): Error {
  if (m.kind === 'error') return m.code !== undefined ? new LabkluisError(m.code as never, m.message ?? '') : new Error(m.message);
  return new Error(`the reading thread said ${m.kind} out of turn`);
}
