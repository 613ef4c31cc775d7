/** The packing thread (pack-worker.ts): a SnapshotPacker answering the writer's steps in order. */
import { parentPort, workerData } from 'node:worker_threads';
import { isLabkluisError } from '../kernel/index.js';
import { SnapshotPacker } from './packer.js';
import { movable } from './threads.js';
import type { PackReply, PackRequest, PackWorkerData } from './pack-worker.js';

const data = workerData as PackWorkerData;
const packer = new SnapshotPacker({ ...data, macKey: Buffer.from(data.macKey) });
const port = parentPort!;

port.on('message', (req: PackRequest) => {
  const step = req.op === 'push' ? packer.push(req.piece) : req.op === 'endTable' ? packer.endTable() : packer.finish();
  step.then(
    (s) => {
      // Each sealed pack's memory is moved to the writer (a pack owns its buffer unless it is small).
      const move = s.packs.map((p) => movable(p.bytes)).filter((b): b is ArrayBuffer => b !== null);
      port.postMessage({ id: req.id, step: s } satisfies PackReply, [...new Set(move)]);
    },
    (e: unknown) => port.postMessage({ id: req.id, error: { code: isLabkluisError(e) ? e.code : undefined, message: e instanceof Error ? e.message : String(e) } } satisfies PackReply),
  );
});
