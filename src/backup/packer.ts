/**
 * From table streams to sealed packs: each table's bytes cut into content-defined chunks
 * (chunker.ts), each chunk known by its keyed MAC, and the chunks not stored before gathered
 * into packs of about `packSize` bytes, each pack sealed to the offline recipients as one
 * object. Chunks stay small (an edit rewrites little); objects are large, so the per-object
 * costs (a fresh X25519 exchange for age, a file and an fsync at a dir: target, a request at
 * the receiver) are paid per pack, not per chunk.
 *
 * Everything here is computation on bytes, with no store or target: it runs where the writer
 * puts it, in its own thread (pack-worker.ts) or in the writer's.
 */
import { Chunker, DEFAULT_CHUNK_SIZES, type ChunkSizes } from './chunker.js';
import { ObjectSealer } from './objects.js';

export const DEFAULT_PACK_SIZE = 4 * 1024 * 1024;

/** A chunk's place in its pack's plaintext. */
export interface PackedChunk {
  readonly mac: string;
  readonly offset: number;
  readonly length: number;
}

export interface SealedPack {
  /** SHA-256 (hex) of `bytes`: the object's name. */
  readonly id: string;
  readonly bytes: Buffer;
  readonly chunks: readonly PackedChunk[];
}

/** What one call gave: the MACs of the chunks completed (in the table's order), and the packs sealed. */
export interface PackStep {
  readonly macs: string[];
  readonly packs: SealedPack[];
  /** Of `macs`, how many were stored before (by an earlier snapshot or earlier in this one). */
  readonly reused: number;
  /** Bytes of table stream taken by this call (a push's piece). */
  readonly bytes: number;
}

export interface PackerOptions {
  readonly recipients: readonly string[];
  readonly macKey: Buffer;
  readonly sizes?: ChunkSizes;
  readonly packSize?: number;
  /** MACs of chunks already stored at the target (not packed again). */
  readonly known: Iterable<string>;
}

export class SnapshotPacker {
  readonly #sealer: ObjectSealer;
  readonly #sizes: ChunkSizes;
  readonly #packSize: number;
  readonly #known: Set<string>;
  #chunker: Chunker | null = null;
  #open: Buffer[] = [];
  #openChunks: PackedChunk[] = [];
  #openBytes = 0;
  /** Calls run one after another, in the order made: a caller may make the next before the last has ended. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(o: PackerOptions) {
    this.#sealer = new ObjectSealer(o.recipients, o.macKey);
    this.#sizes = o.sizes ?? DEFAULT_CHUNK_SIZES;
    this.#packSize = o.packSize ?? DEFAULT_PACK_SIZE;
    if (!Number.isInteger(this.#packSize) || this.#packSize < 1) throw new RangeError('the pack size is a positive whole number of bytes');
    this.#known = new Set(o.known);
    this.#chunker = new Chunker(this.#sizes); // checks the sizes now, not at the first byte
  }

  /** The current table's next bytes (kept by reference until cut: do not change them). */
  push(piece: Uint8Array): Promise<PackStep> {
    return this.#next(() => {
      this.#chunker ??= new Chunker(this.#sizes);
      const bytes = piece.length;
      return this.#pack(this.#chunker.push(piece), false).then((step) => ({ ...step, bytes }));
    });
  }

  /** The current table has ended: its last chunks. The next push starts another table. */
  endTable(): Promise<PackStep> {
    return this.#next(() => {
      const last = this.#chunker?.end() ?? [];
      this.#chunker = null;
      return this.#pack(last, false);
    });
  }

  /** The snapshot has ended: the open pack is sealed. */
  finish(): Promise<PackStep> {
    return this.#next(() => this.#pack([], true));
  }

  #next(work: () => Promise<PackStep>): Promise<PackStep> {
    const run = this.#tail.then(work);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #pack(chunks: readonly Buffer[], final: boolean): Promise<PackStep> {
    const step: { macs: string[]; packs: SealedPack[]; reused: number; bytes: number } = { macs: [], packs: [], reused: 0, bytes: 0 };
    for (const chunk of chunks) {
      const mac = this.#sealer.mac(chunk);
      step.macs.push(mac);
      if (this.#known.has(mac)) {
        step.reused += 1;
        continue;
      }
      this.#known.add(mac); // a chunk repeated within this snapshot is stored once
      this.#openChunks.push({ mac, offset: this.#openBytes, length: chunk.length });
      this.#open.push(chunk);
      this.#openBytes += chunk.length;
      if (this.#openBytes >= this.#packSize) step.packs.push(await this.#seal());
    }
    if (final && this.#openBytes > 0) step.packs.push(await this.#seal());
    return step;
  }

  async #seal(): Promise<SealedPack> {
    const [parts, chunks] = [this.#open, this.#openChunks];
    [this.#open, this.#openChunks, this.#openBytes] = [[], [], 0];
    const sealed = await this.#sealer.seal(parts);
    return { id: sealed.id, bytes: sealed.bytes, chunks };
  }
}
