import { createHash } from 'node:crypto';
import type { Random } from '../kernel/index.js';

/**
 * A reproducible Random for demo data and tests: SHA-256(seed ‖ counter) blocks. Anyone who
 * knows the seed knows every byte, so it must never feed keys, tokens, nonces or pseudonyms
 * of real data; the composition root passes systemRandom for those.
 */
export function seededRandom(seed: string): Random {
  let counter = 0;
  let pool = Buffer.alloc(0);
  const bytes = (n: number): Buffer => {
    while (pool.length < n) {
      const block = createHash('sha256').update(seed).update(String(counter++)).digest();
      pool = Buffer.concat([pool, block]);
    }
    const out = pool.subarray(0, n);
    pool = pool.subarray(n);
    return Buffer.from(out);
  };
  const uuid = (): string => {
    const b = bytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  return Object.freeze({ bytes, uuid });
}
