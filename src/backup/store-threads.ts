/**
 * A store's backup on three threads: one reads the store's snapshot and encodes its tables
 * (source-thread.ts), one cuts, MACs and seals (pack-worker-thread.ts), and the writer's thread
 * writes the packs and the manifest. The pieces go from the reader to the packer over a channel
 * of their own, never through the writer's thread: it sees only sealed packs. At most a few
 * pieces are between the reader and the writer's last taken step.
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { LabkluisError } from '../kernel/index.js';
import type { SnapshotAddress, Store } from '../store/index.js';
import type { PackerOptions } from './packer.js';
import { packWorkerData, stepFromThread, type PackWorkerData } from './pack-worker.js';
import { ROW_ENCODING } from './row-encoding.js';
import { fromThreadError, Mailbox, startThread, type ThreadError } from './threads.js';
import { reusable, writePacked, type PackedSnapshot, type PackEvent, type WriteOptions, type WriteSummary } from './writer.js';

/** What the reading thread is told at start (with a port to the packing thread). */
export interface SourceThreadData {
  readonly address: SnapshotAddress;
  readonly backend: PackedSnapshot['backend'];
  readonly to: MessagePort;
}

/** What the reading thread sends the packing thread: ready (its snapshot is taken), each table's pieces, the end. */
export type SourceMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'table'; readonly table: string }
  | { readonly kind: 'piece'; readonly piece: Uint8Array }
  | { readonly kind: 'tableEnd'; readonly rows: number }
  | { readonly kind: 'end'; readonly audit: { size: number; root: string } };

/** A thread's failure, as it tells the writer. */
export type ThreadFailure = { readonly kind: 'error' } & ThreadError;

type Message = PackEvent | { readonly kind: 'ready' } | ThreadFailure;

function failure(m: Message): Error {
  return m.kind === 'error' ? fromThreadError(m) : new LabkluisError('ERR_STORE', `a backup thread said ${m.kind} out of turn`);
}

/** Writes a snapshot of `store`, taken now, to `o.target` (what `labkluis backup` runs). */
export async function writeStoreSnapshot(store: Store, o: WriteOptions): Promise<WriteSummary> {
  const reuse = await reusable(o);
  const packed = await packStore(store, { recipients: o.recipients, macKey: o.macKey, sizes: o.sizes, packSize: o.packSize, known: reuse.located.keys() });
  return writePacked(packed, reuse, o);
}

/** The store's snapshot (taken before this returns) read and packed in two threads. */
export async function packStore(store: Store, o: PackerOptions): Promise<PackedSnapshot> {
  const address = await store.snapshotAddress();
  const { port1, port2 } = new MessageChannel();
  const mail = new Mailbox<Message>();
  const packer = startThread('pack-worker-thread', { ...packWorkerData(o), from: port2 } satisfies PackWorkerData & { from: MessagePort }, [port2]);
  let reader: Worker;
  try {
    reader = startThread('source-thread', { address, backend: store.backend, to: port1 } satisfies SourceThreadData, [port1]);
  } catch (e) {
    await packer.terminate();
    throw e;
  }
  const fails = (message: string): ThreadFailure => ({ kind: 'error', message });
  mail.listen(packer, fails);
  mail.listen(reader, fails, { doneAtZero: true }); // its last pieces went to the packer
  const close = async (): Promise<void> => {
    await Promise.all([packer.terminate(), reader.terminate()]);
  };
  // The reader says ready once its snapshot is taken (from then on the store may change), through
  // the packer, so that it comes before the first table; only failures come to the writer directly.
  const first = await mail.next();
  if (first.kind !== 'ready') {
    await close();
    throw failure(first);
  }
  async function* events(): AsyncIterable<PackEvent> {
    for (;;) {
      const m = await mail.next();
      switch (m.kind) {
        case 'table':
        case 'tableEnd':
          yield m;
          break;
        case 'step':
          yield { kind: 'step', step: stepFromThread(m.step) };
          break;
        case 'end':
          yield m;
          return;
        default:
          throw failure(m);
      }
    }
  }
  return { backend: store.backend, encoding: ROW_ENCODING, events: events(), taken: () => packer.postMessage('taken'), close };
}
