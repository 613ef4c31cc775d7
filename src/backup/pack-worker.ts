/**
 * Packing (packer.ts) in a worker thread, for a source read in the writer's thread (writeSnapshot):
 * the worker cuts, MACs and seals while the source is read. Steps come back in the order they
 * were asked for. Pieces are moved to the worker, not copied, where they own their memory
 * (SnapshotTable.data hands each piece over to the writer). A store's backup (store-threads.ts)
 * reads in a thread too, and sends its pieces to the packing thread directly.
 */
import type { PackerOptions, PackStep } from './packer.js';
import { fromThreadError, movable, startThread, type ThreadError } from './threads.js';
import type { Packing } from './writer.js';

/** What the thread is told at start (structured-cloned). */
export interface PackWorkerData {
  readonly recipients: readonly string[];
  readonly macKey: Uint8Array;
  readonly sizes?: PackerOptions['sizes'];
  readonly packSize?: number;
  readonly known: readonly string[];
}

export type PackRequest = { readonly id: number; readonly op: 'push'; readonly piece: Uint8Array } | { readonly id: number; readonly op: 'endTable' | 'finish' };
export type PackReply = { readonly id: number; readonly step: PackStep } | { readonly id: number; readonly error: ThreadError };

/** What a packing thread is started with, for these options. */
export function packWorkerData(o: PackerOptions): PackWorkerData {
  return { recipients: [...o.recipients], macKey: new Uint8Array(o.macKey), sizes: o.sizes, packSize: o.packSize, known: [...o.known] };
}

/** A step as it arrives from a packing thread: its packs' bytes as Buffers again (they arrive as plain Uint8Arrays). */
export function stepFromThread(step: PackStep): PackStep {
  return { ...step, packs: step.packs.map((p) => ({ ...p, bytes: Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.length) })) };
}

export function packInWorker(o: PackerOptions): Packing {
  const worker = startThread('pack-worker-thread', packWorkerData(o));
  const waiting = new Map<number, { resolve: (s: PackStep) => void; reject: (e: unknown) => void }>();
  let next = 0;
  let broken: unknown = null;
  const fail = (e: unknown): void => {
    broken ??= e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on('message', (reply: PackReply) => {
    const w = waiting.get(reply.id);
    if (w === undefined) return;
    waiting.delete(reply.id);
    if ('error' in reply) w.reject(fromThreadError(reply.error));
    else w.resolve(stepFromThread(reply.step));
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the packing thread stopped (exit ${code})`)));
  const ask = (op: 'push' | 'endTable' | 'finish', piece?: Uint8Array): Promise<PackStep> => {
    if (broken !== null) return Promise.reject(broken);
    const id = next++;
    const done = new Promise<PackStep>((resolve, reject) => waiting.set(id, { resolve, reject }));
    if (op === 'push') {
      const move = movable(piece!);
      worker.postMessage({ id, op, piece: piece! } satisfies PackRequest, move !== null ? [move] : []);
    } else {
      worker.postMessage({ id, op } satisfies PackRequest);
    }
    return done;
  };
  return {
    push: (piece) => ask('push', piece),
    endTable: () => ask('endTable'),
    finish: () => ask('finish'),
    close: async () => {
      broken ??= new Error('the packing thread was closed');
      await worker.terminate();
    },
  };
}
