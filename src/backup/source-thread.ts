/**
 * The reading thread (store-threads.ts): takes the store's snapshot at its address, encodes
 * each table and moves the pieces to the packing thread, at most WINDOW ahead of what the
 * writer has taken. Its failure goes to the writer's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSnapshot, type SnapshotAddress } from '../store/index.js';
import { snapshotSource } from './snapshot-codec.js';
import { movable, toThreadError } from './threads.js';
import type { SourceMessage, SourceThreadData, ThreadFailure } from './store-threads.js';

/** Pieces (about 1 MiB each) sent and not yet taken. */
const WINDOW = 8;

const writer = parentPort!;
const { address, backend, to: out } = workerData as SourceThreadData;
let outstanding = 0;
let wake: (() => void) | null = null;
out.on('message', (m: 'taken') => {
  if (m !== 'taken') return;
  outstanding -= 1;
  wake?.();
  wake = null;
});
const send = (m: SourceMessage, move: ArrayBuffer[] = []) => out.postMessage(m, move);

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
  () => out.close(),
  (e: unknown) => {
    writer.postMessage({ kind: 'error', ...toThreadError(e) } satisfies ThreadFailure);
    out.close();
  },
);
