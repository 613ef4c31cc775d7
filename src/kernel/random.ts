import { randomBytes, randomUUID } from 'node:crypto';

/** Injected randomness: ids, pseudonyms, nonces and keys come only through this. */
export interface Random {
  bytes(n: number): Buffer;
  uuid(): string;
}

export const systemRandom: Random = Object.freeze({
  bytes: (n: number) => randomBytes(n),
  uuid: () => randomUUID(),
});

/** Random identifier safe as a FHIR id: 128 bits, lowercase base32 (26 chars). */
export function randomId(random: Random, bytes = 16): string {
  return base32(random.bytes(bytes));
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
export function base32(buf: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}
