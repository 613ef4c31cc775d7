/**
 * The snapshot row encoding (src/backup/row-encoding.ts): every column type, cut anywhere,
 * decodes to the same rows; the same rows give the same bytes; damaged bytes are refused.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeRows, RowEncoder } from '../../src/backup/row-encoding.js';
import type { SnapshotRow, SnapshotTableSpec } from '../../src/store/index.js';

const SPEC: SnapshotTableSpec = {
  name: 'synthetic_table', key: ['n'], order: ['n'],
  columns: [
    { name: 'n', type: 'int' }, { name: 's', type: 'text' }, { name: 'b', type: 'bool' }, { name: 'body', type: 'bytes' },
    { name: 'tokens', type: 'texts' }, { name: 'ids', type: 'ints' }, { name: 'frontier', type: 'bytesList' },
  ],
};

// Synthetic rows only: no personal data.
const ROWS: SnapshotRow[] = [
  [1, 'plain', true, Buffer.from('body'), ['a', 'b'], [1, 2, -3], [Buffer.alloc(32, 7)]],
  [2, '', false, Buffer.alloc(0), [], [], []],
  [3, null, null, null, null, null, null],
  [Number.MAX_SAFE_INTEGER, 'ümlaut, 中文, emoji 🧪', true, randomBytes(100_000), ['é', ''], [Number.MIN_SAFE_INTEGER, 0], [randomBytes(5), Buffer.alloc(0)]],
];

function encode(rows: readonly SnapshotRow[]): Buffer {
  const e = new RowEncoder(SPEC);
  const pieces = rows.map((r) => e.push([r])).filter((p): p is Buffer => p !== null);
  const last = e.end();
  return Buffer.concat(last === null ? pieces : [...pieces, last]);
}

async function decode(bytes: Buffer, pieceSize: number): Promise<SnapshotRow[]> {
  const data = (async function* () {
    for (let i = 0; i < bytes.length; i += pieceSize) yield bytes.subarray(i, i + pieceSize);
  })();
  const out: SnapshotRow[] = [];
  for await (const batch of decodeRows(data, SPEC)) out.push(...batch);
  return out;
}

describe('snapshot row encoding', () => {
  it('decodes every column type, nulls and empties, however the stream is cut', async () => {
    const bytes = encode(ROWS);
    for (const size of [64, 4096, 65_536, bytes.length]) expect(await decode(bytes, size)).toEqual(ROWS);
    const small = ROWS.slice(0, 3);
    for (const size of [1, 3]) expect(await decode(encode(small), size)).toEqual(small); // every byte a cut
  });

  it('gives the same bytes for the same rows, whatever the batches', () => {
    const e = new RowEncoder(SPEC);
    const once = [e.push(ROWS), e.end()].filter((p): p is Buffer => p !== null);
    expect(Buffer.concat(once).equals(encode(ROWS))).toBe(true);
  });

  it('hands on pieces of about a mebibyte while rows come in', () => {
    const e = new RowEncoder(SPEC);
    const pieces: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      const p = e.push([[i, 'x', true, Buffer.alloc(100_000, i), [], [], []]]);
      if (p !== null) pieces.push(p);
    }
    expect(pieces.length).toBe(3);
    for (const p of pieces) expect(p.length).toBeGreaterThanOrEqual(1024 * 1024);
  });

  it('refuses to write what a restore would refuse: an int that is not a safe whole number', () => {
    for (const n of [1.5, 2 ** 53, Number.NaN]) {
      expect(() => new RowEncoder(SPEC).push([[n, null, null, null, null, null, null]])).toThrow(expect.objectContaining({ code: 'ERR_STORE' }));
    }
  });

  it('refuses a stream cut inside a row, a bad tag or bool, a fraction where an int belongs, extra bytes and impossible lengths', async () => {
    const one = encode([ROWS[0]!]);
    const refuse = async (b: Buffer, why: RegExp) => {
      await expect(decode(b, 7)).rejects.toMatchObject({ code: 'ERR_INTEGRITY', message: expect.stringMatching(why) });
    };
    await refuse(one.subarray(0, one.length - 1), /ends inside a row/);
    const tag = Buffer.from(one);
    tag[4] = 2; // the first value's tag
    await refuse(tag, /unknown tag/);
    const boolAt = 4 + 1 + 8 + 1 + 4 + 5 + 1; // length, n, s ('plain'), then b's tag
    const bool = Buffer.from(one);
    expect(bool[boolAt]).toBe(1);
    bool[boolAt] = 2;
    await refuse(bool, /bool/);
    const frac = Buffer.from(one);
    frac.writeDoubleLE(1.5, 5);
    await refuse(frac, /whole number/);
    const longer = Buffer.concat([one, Buffer.alloc(0)]);
    longer.writeUInt32LE(one.readUInt32LE(0) + 1, 0);
    await refuse(Buffer.concat([longer, Buffer.from([0])]), /longer than its columns/);
    const shorter = Buffer.from(one);
    shorter.writeUInt32LE(one.readUInt32LE(0) - 1, 0);
    await refuse(shorter.subarray(0, one.length - 1), /ends inside a value/);
    const huge = Buffer.alloc(8);
    huge.writeUInt32LE(0xffffffff, 0);
    await refuse(huge, /longer than any row/);
    const list = encode([[1, null, null, null, null, [], null]]);
    list.writeUInt32LE(1_000_000, 4 + 9 + 4 + 1); // the ints list's count: after the length, n, four nulls and its tag
    await refuse(list, /list is longer than its row/);
  });
});
