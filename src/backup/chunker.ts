/**
 * Content-defined chunking (FastCDC, Xia et al., USENIX ATC 2016, with normalised chunking):
 * a snapshot stream is cut where a rolling gear hash of its bytes matches a mask, so an edit
 * moves only the cuts near it and a nightly backup after a small change writes few new chunks.
 * Cuts depend on content only: however the stream arrives (in whatever pieces), the chunks are
 * the same. Written here because no maintained npm package does FastCDC for Node 20 without a
 * native build; the algorithm is a page long.
 *
 * The gear table is derived from SHA-256 of a fixed label, so chunk boundaries never change
 * between versions of labkluis (a changed table would make the next backup write everything).
 */
import { createHash } from 'node:crypto';

export interface ChunkSizes {
  /** No cut before this many bytes (except at the end of the stream). */
  readonly min: number;
  /** The size chunks are normalised towards: a power of two. */
  readonly avg: number;
  /** A cut at this size at the latest. */
  readonly max: number;
}

export const DEFAULT_CHUNK_SIZES: ChunkSizes = Object.freeze({ min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 });

/** As signed 32-bit words: the hash is kept in int32 arithmetic (`| 0`), which V8 runs fastest; its bits are those of the unsigned sum. */
const GEAR: Int32Array = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) table[i] = createHash('sha256').update(`labkluis fastcdc gear ${i}`).digest().readInt32BE(0);
  return table;
})();

/** `bits` one-bits at the top of a 32-bit word: the gear hash's high bits see the most bytes. */
const topMask = (bits: number): number => (bits >= 32 ? -1 : ((1 << bits) - 1) << (32 - bits));

export function checkChunkSizes(s: ChunkSizes): ChunkSizes {
  const bits = Math.log2(s.avg);
  if (!Number.isInteger(bits) || bits < 6 || bits > 24) throw new RangeError('chunk avg must be a power of two from 64 B to 16 MiB');
  if (!Number.isInteger(s.min) || !Number.isInteger(s.max) || s.min < 64 || s.min >= s.avg || s.max <= s.avg || s.max > 64 * 1024 * 1024) {
    throw new RangeError('chunk sizes must be whole numbers with 64 <= min < avg < max <= 64 MiB');
  }
  return s;
}

/**
 * Where the chunk starting at `start` ends (exclusive). The caller has at least `max` bytes
 * from `start` on, or the stream ends at `end`.
 */
function cutPoint(buf: Uint8Array, start: number, end: number, s: ChunkSizes, maskHard: number, maskEasy: number): number {
  const available = end - start;
  if (available <= s.min) return end;
  const limit = start + Math.min(available, s.max);
  const normal = start + Math.min(available, s.max, s.avg);
  let h = 0;
  let i = start + s.min;
  // Before the normal size a cut is harder to find, after it easier: sizes cluster round avg.
  for (; i < normal; i++) {
    h = ((h << 1) + GEAR[buf[i]!]!) | 0;
    if ((h & maskHard) === 0) return i + 1;
  }
  for (; i < limit; i++) {
    h = ((h << 1) + GEAR[buf[i]!]!) | 0;
    if ((h & maskEasy) === 0) return i + 1;
  }
  // No cut found: at max, or at the end of the stream (the caller has max bytes or the end).
  return limit;
}

/**
 * A stream cut into content-defined chunks: push pieces, take the chunks that are complete,
 * then end(). Cuts are looked for only once `max` bytes are buffered (or at the end), so each
 * byte is hashed once and pieces of any size cost no rescans.
 */
export class Chunker {
  readonly #sizes: ChunkSizes;
  readonly #maskHard: number;
  readonly #maskEasy: number;
  #pieces: Uint8Array[] = [];
  #buffered = 0;

  constructor(sizes: ChunkSizes = DEFAULT_CHUNK_SIZES) {
    this.#sizes = checkChunkSizes(sizes);
    const bits = Math.log2(sizes.avg);
    this.#maskHard = topMask(bits + 2);
    this.#maskEasy = topMask(bits - 2);
  }

  /**
   * Adds bytes (kept by reference until cut: do not change them); returns the chunks now
   * complete, which may share memory with the pieces pushed.
   */
  push(piece: Uint8Array): Buffer[] {
    if (piece.length === 0) return [];
    this.#pieces.push(piece);
    this.#buffered += piece.length;
    return this.#buffered < this.#sizes.max ? [] : this.#take(false);
  }

  /** The last chunks; the chunker is empty after. */
  end(): Buffer[] {
    return this.#take(true);
  }

  #take(final: boolean): Buffer[] {
    const buf = this.#pieces.length === 1 ? Buffer.from(this.#pieces[0]!.buffer, this.#pieces[0]!.byteOffset, this.#pieces[0]!.length) : Buffer.concat(this.#pieces);
    const out: Buffer[] = [];
    let start = 0;
    while (start < buf.length && (final || buf.length - start >= this.#sizes.max)) {
      const cut = cutPoint(buf, start, buf.length, this.#sizes, this.#maskHard, this.#maskEasy);
      out.push(buf.subarray(start, cut));
      start = cut;
    }
    const rest = buf.subarray(start);
    this.#pieces = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }
}

/** All chunks of one buffer. */
export function chunksOf(data: Uint8Array, sizes: ChunkSizes = DEFAULT_CHUNK_SIZES): Buffer[] {
  const c = new Chunker(sizes);
  return [...c.push(data), ...c.end()];
}
