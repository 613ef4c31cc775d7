/**
 * The reading thread (thread-source.ts): takes the store's snapshot at its address, encodes
 * each table and moves the pieces to the writer's thread, or, when started with a port to a
 * packing thread (store-threads.ts), to that thread; at most WINDOW ahead of what was taken.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { isLabkluisError } from '../kernel/index.js';
import { openSnapshot, type SnapshotAddress } from '../store/index.js';
import { snapshotSource } from './snapshot-codec.js';
import { movable } from './threads.js';
import type { SourceMessage, SourceThreadData } from './thread-source.js';

/** Pieces (about 1 MiB each) sent and not yet taken. */
const WINDOW = 8;

const port = parentPort!;
const { address, backend, to } = workerData as SourceThreadData & { readonly to?: MessagePort };
/** Where the tables go: the writer, or the packing thread. Ready and errors always go to the writer. */
const out = to ?? port;
let outstanding = 0;
let wake: (() => void) | null = null;
out.on('message', (m: 'taken') => {
  if (m !== 'taken') return;
  outstanding -= 1;
  wake?.();
  wake = null;
});
const send = (m: SourceMessage, move: ArrayBuffer[] = []) => (m.kind === 'ready' || m.kind === 'error' ? port : out).postMessage(m, move);

async function main(a: SnapshotAddress): Promise<void> {
  const snap = await openSnapshot(a);
  try {
    send({ kind: 'ready' });
    const source = snapshotSource(snap, backend);
    for await (const t of source.tables) {
      send({ kind: 'table', table: t.table });
      for await (const piece of t.data) {
        while (outstanding >= WINDOW) await new Promise<void>((r) => (wake = r));
        outstanding += 1;
        const move = movable(piece);
        send({ kind: 'piece', piece }, move !== null ? [move] : []);
      }
      send({ kind: 'tableEnd', rows: t.rows() });
    }
    send({ kind: 'end', audit: source.audit() });
  } finally {
    await snap.close();
  }
}

main(address).then(
  () => {
    port.close();
    to?.close();
  },
  (e: unknown) => {
    send({ kind: 'error', code: isLabkluisError(e) ? e.code : undefined, message: e instanceof Error ? e.message : String(e) });
    port.close();
    to?.close();
  },
);
