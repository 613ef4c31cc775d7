// Password hashing: argon2id PHC strings, salts, NFC, rehash decisions and the dummy verify.
import { hash as argon2Hash, type Algorithm } from '@node-rs/argon2';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PASSWORD_HASH_PARAMS,
  dummyVerify,
  hashPassword,
  needsRehash,
  verifyPassword,
} from '../../src/accounts/index.js';
import { isLabkluisError, type Random } from '../../src/kernel/index.js';

// Each argon2id operation at 64 MiB costs a few hundred ms here: the hashes are shared.
const PASSWORD = 'kachel-vogel-plein-42';
let current = '';
beforeAll(async () => {
  current = await hashPassword(PASSWORD);
});

describe('hashPassword', () => {
  it('gives an argon2id PHC string with m=65536, t=3, p=1 and frozen parameters', () => {
    expect(current).toMatch(/^\$argon2id\$v=19\$m=65536,t=3,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(PASSWORD_HASH_PARAMS).toMatchObject({ algorithm: 'argon2id', memoryCost: 65_536, timeCost: 3, parallelism: 1 });
    expect(Object.isFrozen(PASSWORD_HASH_PARAMS)).toBe(true);
  });

  it('salts: two hashes of one password differ, and both verify', async () => {
    const again = await hashPassword(PASSWORD);
    expect(again).not.toBe(current);
    expect(await verifyPassword(again, PASSWORD)).toBe(true);
  });

  it('takes its salt from the injected randomness', async () => {
    const fixed: Random = { bytes: (n) => Buffer.alloc(n, 7), uuid: () => '00000000-0000-4000-8000-000000000000' };
    const hashed = await hashPassword(PASSWORD, { random: fixed });
    expect(hashed.split('$')[4]).toBe(Buffer.alloc(16, 7).toString('base64').replace(/=+$/, ''));
  });

  it('refuses an empty password as invalid input', async () => {
    const error = await hashPassword('').catch((e: unknown) => e);
    expect(isLabkluisError(error, 'ERR_INVALID_INPUT')).toBe(true);
  });
});

describe('verifyPassword', () => {
  it('accepts the right password and refuses a wrong one', async () => {
    expect(await verifyPassword(current, PASSWORD)).toBe(true);
    expect(await verifyPassword(current, 'kachel-vogel-plein-43')).toBe(false);
  });

  it('checks the password exactly as typed: another case, a cut-off or an extended one fails (ASVS 6.2.8)', async () => {
    for (const variant of [PASSWORD.toUpperCase(), 'Kachel-vogel-plein-42', PASSWORD.slice(0, -1), PASSWORD.slice(0, 8), `${PASSWORD}!`, ` ${PASSWORD}`]) {
      expect(await verifyPassword(current, variant), variant).toBe(false);
    }
    // A 128-code-point password counts every character: changing only the last one fails.
    const long = 'ä'.repeat(127) + 'x';
    const hashed = await hashPassword(long);
    expect(await verifyPassword(hashed, long)).toBe(true);
    expect(await verifyPassword(hashed, 'ä'.repeat(127) + 'y')).toBe(false);
  });

  it('verifies the NFC and the NFD spelling of one password alike', async () => {
    const nfc = 'Crème brûlée à Zaandam'.normalize('NFC');
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    const hashed = await hashPassword(nfd);
    expect(await verifyPassword(hashed, nfc)).toBe(true);
    expect(await verifyPassword(hashed, nfd)).toBe(true);
  });

  it('returns false, never throws, for a malformed or foreign stored hash', async () => {
    const malformed = [
      '',
      'not a hash',
      current.slice(0, -10),
      current.replace('$argon2id$', '$argon2xx$'),
      '$argon2id$v=19$m=65536,t=3,p=1$$',
      '$2b$12$C6UzMDM.H6dfI/f/IKcEeO5GvEwN5jPLQ4MRIMpW0jn9H6s8YZ1yC', // bcrypt
      undefined as unknown as string,
    ];
    for (const stored of malformed) expect(await verifyPassword(stored, PASSWORD)).toBe(false);
  });
});

describe('needsRehash', () => {
  it('is false for a hash made with the current parameters', () => {
    expect(needsRehash(current)).toBe(false);
  });

  it('is true for argon2id with less memory (the OWASP minimum, m=19456), which still verifies', async () => {
    const legacy = await argon2Hash(PASSWORD, { memoryCost: 19_456, timeCost: 3, parallelism: 1 });
    expect(legacy).toMatch(/^\$argon2id\$v=19\$m=19456,t=3,p=1\$/);
    expect(needsRehash(legacy)).toBe(true);
    expect(await verifyPassword(legacy, PASSWORD)).toBe(true);
  });

  it('is true for an argon2i hash even at the current cost', async () => {
    const argon2i: Algorithm.Argon2i = 1;
    const legacy = await argon2Hash(PASSWORD, { algorithm: argon2i, memoryCost: 65_536, timeCost: 3, parallelism: 1 });
    expect(legacy).toMatch(/^\$argon2i\$v=19\$m=65536,t=3,p=1\$/);
    expect(needsRehash(legacy)).toBe(true);
  });

  it('is true for a lower time cost, parallelism or version, and for anything unparseable', () => {
    expect(needsRehash(current.replace(',t=3,', ',t=2,'))).toBe(true);
    expect(needsRehash(current.replace('m=65536,t=3,p=1', 'm=65536,t=3,p=0'))).toBe(true);
    expect(needsRehash(current.replace('$v=19$', '$v=16$'))).toBe(true);
    expect(needsRehash(current.replace('$argon2id$', '$argon2d$'))).toBe(true);
    expect(needsRehash('garbage')).toBe(true);
    // Stronger than today is fine: no downgrade on the next sign-in.
    expect(needsRehash(current.replace('m=65536,t=3,p=1', 'm=131072,t=4,p=2'))).toBe(false);
  });
});

describe('dummyVerify', () => {
  it('always resolves false and costs about as much as a real verify', async () => {
    expect(await dummyVerify(PASSWORD)).toBe(false); // also builds the dummy hash
    let start = performance.now();
    expect(await dummyVerify('')).toBe(false);
    const dummy = performance.now() - start;
    start = performance.now();
    await verifyPassword(current, 'wrong password');
    const real = performance.now() - start;
    // Loose on purpose (two busy cores): an early return would take well under a millisecond.
    expect(dummy).toBeGreaterThan(real * 0.3);
  });
});
