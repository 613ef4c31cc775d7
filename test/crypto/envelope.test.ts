import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { aesGcmCipher, blindToken } from '../../src/crypto/index.js';
import { isLabkluisError, systemRandom } from '../../src/kernel/index.js';

const key = { version: 1, key: Buffer.alloc(32, 7) };
const at = { tenant: 't1', type: 'Observation', id: 'obs1', version: 1 };
const cipher = aesGcmCipher(systemRandom);

function refuses(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(isLabkluisError(e, 'ERR_DECRYPTION_FAILED')).toBe(true);
    expect((e as Error).message).toBe('decryption failed'); // says nothing about why
    return;
  }
  throw new Error('expected decryption to be refused');
}

describe('record envelope (AES-256-GCM, AAD = tenant, type, id, version)', () => {
  it('round-trips and leaves no plaintext in the blob', () => {
    const plain = Buffer.from('{"valueString":"SYNTHETIC-RESULT-positive"}');
    const blob = cipher.seal(key, at, plain);
    expect(blob.includes(Buffer.from('SYNTHETIC-RESULT'))).toBe(false);
    expect(cipher.open(key, at, blob).equals(plain)).toBe(true);
    expect(cipher.keyVersionOf(blob)).toBe(1);
  });

  it('uses a fresh nonce each time', () => {
    const plain = Buffer.from('same');
    expect(cipher.seal(key, at, plain).equals(cipher.seal(key, at, plain))).toBe(false);
  });

  it.each([
    ['another tenant', { ...at, tenant: 't2' }],
    ['another type', { ...at, type: 'DiagnosticReport' }],
    ['another id', { ...at, id: 'obs2' }],
    ['another version', { ...at, version: 2 }],
  ])('refuses a ciphertext moved to %s', (_what, other) => {
    const blob = cipher.seal(key, at, Buffer.from('x'));
    refuses(() => cipher.open(key, other, blob));
  });

  it('refuses a flipped bit, a truncated blob and the wrong key', () => {
    const blob = cipher.seal(key, at, Buffer.from('payload'));
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 20]! ^= 1;
    refuses(() => cipher.open(key, at, flipped));
    refuses(() => cipher.open(key, at, blob.subarray(0, 10)));
    refuses(() => cipher.open({ version: 1, key: Buffer.alloc(32, 8) }, at, blob));
    refuses(() => cipher.open({ version: 2, key: key.key }, at, blob));
  });
});

describe('blind index', () => {
  it('is deterministic per key and unrelated across keys, params and systems', () => {
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(32, 2);
    const t = blindToken(k1, 'identifier', 'bsn', '999990019');
    expect(blindToken(k1, 'identifier', 'bsn', '999990019')).toBe(t);
    expect(blindToken(k2, 'identifier', 'bsn', '999990019')).not.toBe(t);
    expect(blindToken(k1, 'code', 'bsn', '999990019')).not.toBe(t);
    expect(blindToken(k1, 'identifier', 'other', '999990019')).not.toBe(t);
    expect(t).not.toContain('999990019');
    expect(t).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('is HMAC-SHA256 over length-prefixed UTF-8 fields, truncated to 128 bits (stored tokens stay valid)', () => {
    const key = Buffer.alloc(32, 7);
    const reference = (param: string, system: string, value: string): string => {
      const mac = createHmac('sha256', key);
      for (const field of [param, system, value]) {
        const bytes = Buffer.from(field, 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32BE(bytes.length);
        mac.update(len).update(bytes);
      }
      return mac.digest().subarray(0, 16).toString('base64url');
    };
    expect(blindToken(key, 'code', 'http://loinc.org', '77379-6')).toBe(reference('code', 'http://loinc.org', '77379-6'));
    expect(blindToken(key, 'code', undefined, '77379-6')).toBe(reference('code', '', '77379-6'));
    expect(blindToken(key, 'naam', 'sÿstém', 'Ĳsbrand 🧪')).toBe(reference('naam', 'sÿstém', 'Ĳsbrand 🧪'));
    // Moving bytes between fields changes the token.
    expect(blindToken(key, 'ab', 'c', 'd')).not.toBe(blindToken(key, 'a', 'bc', 'd'));
  });
});
