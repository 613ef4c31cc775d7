/**
 * Content-defined chunking: chunks rebuild the stream, respect the sizes, do not depend on how
 * the stream arrives, and an edit in the middle changes only the chunks near it. The data is
 * pseudo-random bytes (SHA-256 in counter mode), no records.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Chunker, chunksOf, DEFAULT_CHUNK_SIZES, type ChunkSizes } from '../../src/backup/chunker.js';

function bytes(n: number, seed: string): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, block = 0; i < n; i += 32, block++) createHash('sha256').update(`${seed}:${block}`).digest().copy(out, i);
  return out;
}
const hashes = (chunks: Buffer[]) => chunks.map((c) => createHash('sha256').update(c).digest('hex'));
const SMALL: ChunkSizes = { min: 1024, avg: 4096, max: 16384 };

describe('content-defined chunking', () => {
  it('cuts a stream into chunks that rebuild it, each within min..max but the last', () => {
    const data = bytes(1_000_000, 'sizes');
    const chunks = chunksOf(data, SMALL);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(SMALL.min);
      expect(c.length).toBeLessThanOrEqual(SMALL.max);
    }
    const mean = data.length / chunks.length;
    expect(mean).toBeGreaterThan(SMALL.avg / 2);
    expect(mean).toBeLessThan(SMALL.avg * 2);
    // Data without content to cut on (all zeros) is cut at max.
    expect(chunksOf(Buffer.alloc(40_000), SMALL).map((c) => c.length)).toEqual([16384, 16384, 7232]);
    expect(chunksOf(Buffer.alloc(0), SMALL)).toEqual([]);
    expect(chunksOf(Buffer.from('short'), SMALL).map((c) => c.toString())).toEqual(['short']);
  });

  it('makes the same chunks however the stream arrives', () => {
    const data = bytes(300_000, 'pieces');
    const whole = hashes(chunksOf(data, SMALL));
    for (const size of [1, 7, 1000, 16384, 65536]) {
      const c = new Chunker(SMALL);
      const got: Buffer[] = [];
      for (let i = 0; i < data.length; i += size) got.push(...c.push(data.subarray(i, i + size)));
      got.push(...c.end());
      expect(hashes(got)).toEqual(whole);
    }
  });

  it('after an edit in the middle, keeps all but the chunks near it (the default sizes)', () => {
    const data = bytes(8 * 1024 * 1024, 'edit');
    const edited = Buffer.concat([data.subarray(0, 4_000_000), Buffer.from('a few inserted bytes'), data.subarray(4_000_100)]);
    const before = new Set(hashes(chunksOf(data)));
    const after = hashes(chunksOf(edited));
    const fresh = after.filter((h) => !before.has(h));
    expect(after.length).toBeGreaterThan(64);
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    expect(fresh.length).toBeLessThanOrEqual(3);
  });

  it('refuses sizes that are not a power-of-two average between min and max', () => {
    expect(() => new Chunker({ min: 1024, avg: 5000, max: 16384 })).toThrow(RangeError);
    expect(() => new Chunker({ min: 8192, avg: 4096, max: 16384 })).toThrow(RangeError);
    expect(() => new Chunker({ min: 1024, avg: 4096, max: 4096 })).toThrow(RangeError);
    expect(DEFAULT_CHUNK_SIZES.avg).toBe(65536);
  });
});
