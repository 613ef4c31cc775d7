/**
 * The packing thread (pack-worker.ts): a SnapshotPacker. It takes its pieces either from the
 * writer (answering each request in order), or, when started with a port to a reading thread
 * (store-threads.ts), straight from that thread, and then sends the writer the packed snapshot
 * as events, in order (the reader's ready first); the reader is told a piece was taken once the
 * writer has taken its step.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { SnapshotPacker, type PackStep } from './packer.js';
import { movable, toThreadError } from './threads.js';
import type { PackReply, PackRequest, PackWorkerData } from './pack-worker.js';
import type { SourceMessage, ThreadFailure } from './store-threads.js';
import type { PackEvent } from './writer.js';

const data = workerData as PackWorkerData & { readonly from?: MessagePort };
const packer = new SnapshotPacker({ ...data, macKey: Buffer.from(data.macKey) });
const writer = parentPort!;
/** Each sealed pack's memory is moved to the writer (a pack owns its buffer unless it is small). */
const moves = (s: PackStep): ArrayBuffer[] => [...new Set(s.packs.map((p) => movable(p.bytes)).filter((b): b is ArrayBuffer => b !== null))];

if (data.from === undefined) {
  writer.on('message', (req: PackRequest) => {
    const step = req.op === 'push' ? packer.push(req.piece) : req.op === 'endTable' ? packer.endTable() : packer.finish();
    step.then(
      (s) => writer.postMessage({ id: req.id, step: s } satisfies PackReply, moves(s)),
      (e: unknown) => writer.postMessage({ id: req.id, error: toThreadError(e) } satisfies PackReply),
    );
  });
} else {
  const reader = data.from;
  // Steps sent and not yet taken by the writer, in order: true where a piece made it (the reader hears of it when taken).
  const fromPiece: boolean[] = [];
  writer.on('message', (m: 'taken') => {
    if (m === 'taken' && fromPiece.shift() === true) reader.postMessage('taken');
  });
  const send = (e: PackEvent | { kind: 'ready' } | ThreadFailure, move: ArrayBuffer[] = []) => writer.postMessage(e, move);
  const step = (s: PackStep, piece: boolean) => {
    fromPiece.push(piece);
    send({ kind: 'step', step: s }, moves(s));
  };
  // The reader's messages, handled one after another in the order they came.
  let tail: Promise<void> = Promise.resolve();
  reader.on('message', (m: SourceMessage) => {
    tail = tail.then(async () => {
      switch (m.kind) {
        case 'ready': send({ kind: 'ready' }); break; // the reader's snapshot is taken: before its first table
        case 'table': send({ kind: 'table', table: m.table }); break;
        case 'piece': step(await packer.push(m.piece), true); break;
        case 'tableEnd':
          step(await packer.endTable(), false);
          send({ kind: 'tableEnd', rows: m.rows });
          break;
        case 'end':
          step(await packer.finish(), false);
          send({ kind: 'end', audit: m.audit });
          reader.close();
          break;
      }
    }).catch((e: unknown) => send({ kind: 'error', ...toThreadError(e) }));
  });
}
