import { describe, expect, it } from 'vitest';
import { isValidBsn, syntheticBsn, SYNTHETIC_BSN_PREFIX } from '../../src/domain/index.js';
import { seededRandom } from '../../src/demo/index.js';

describe('isValidBsn (11-check)', () => {
  it('accepts numbers whose weighted sum is a non-zero multiple of 11', () => {
    for (const bsn of ['123456782', '999990019', '111222333']) expect(isValidBsn(bsn), bsn).toBe(true);
  });
  it('refuses numbers that fail the 11-check', () => {
    for (const bsn of ['123456789', '999990018', '111222334']) expect(isValidBsn(bsn), bsn).toBe(false);
  });
  it('refuses 000000000 and any other all-zero weighted sum', () => {
    expect(isValidBsn('000000000')).toBe(false);
    expect(isValidBsn('000000012')).toBe(false); // 2·1 − 2 = 0
  });
  it('refuses anything but exactly nine ASCII digits', () => {
    for (const bad of ['', '12345678', '1234567820', '12345678a', ' 23456782', '１２３４５６７８２', '12345 678']) {
      expect(isValidBsn(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('syntheticBsn', () => {
  it('produces valid BSNs in the synthetic range, deterministically for a seeded Random', () => {
    const a = seededRandom('bsn');
    const b = seededRandom('bsn');
    for (let i = 0; i < 500; i++) {
      const bsn = syntheticBsn(a);
      expect(isValidBsn(bsn)).toBe(true);
      expect(bsn.startsWith(SYNTHETIC_BSN_PREFIX)).toBe(true);
      expect(syntheticBsn(b)).toBe(bsn);
    }
  });
});
