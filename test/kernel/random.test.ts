import { describe, expect, it } from 'vitest';
import { base32, randomId, systemRandom } from '../../src/kernel/index.js';

describe('randomId', () => {
  it('gives 26 base32 characters for 128 bits and never repeats in a small sample', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => randomId(systemRandom)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[a-z2-7]{26}$/);
  });
  it('encodes known bytes as RFC 4648 base32 (lowercase, no padding)', () => {
    expect(base32(Buffer.from('foobar'))).toBe('mzxw6ytboi');
  });
});
