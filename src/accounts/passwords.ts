import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { invalidInput, systemRandom, type Random } from '../kernel/index.js';

/**
 * Password hashing for human accounts (OWASP ASVS 5.0 V11.4.2, OWASP Password Storage Cheat
 * Sheet): argon2id in a PHC string, parameters above the OWASP minimum (m=19456, t=2, p=1).
 * Passwords are normalised to Unicode NFC first (as NIST SP 800-63B advises), so the same
 * password typed on a keyboard that composes "é" and on one that does not verifies; nothing else
 * is changed: no truncation, no case folding (ASVS V6.2.8).
 */
export const PASSWORD_HASH_PARAMS = Object.freeze({
  algorithm: 'argon2id',
  version: 0x13,
  memoryCost: 65_536, // KiB = 64 MiB
  timeCost: 3,
  parallelism: 1,
  saltBytes: 16,
} as const);

// `Algorithm` is an ambient const enum, which `verbatimModuleSyntax` forbids reading as a value;
// its member type still pins the number (a wrong one fails to compile, and the tests check `$argon2id$`).
const ARGON2ID: Algorithm.Argon2id = 2;

const ARGON2_OPTIONS = Object.freeze({
  algorithm: ARGON2ID,
  memoryCost: PASSWORD_HASH_PARAMS.memoryCost,
  timeCost: PASSWORD_HASH_PARAMS.timeCost,
  parallelism: PASSWORD_HASH_PARAMS.parallelism,
});

/** Hashes a password with the current parameters; the salt comes from the injected randomness. */
export async function hashPassword(password: string, deps: { random?: Random } = {}): Promise<string> {
  if (typeof password !== 'string' || password.length === 0) throw invalidInput('password must be a non-empty string');
  const salt = (deps.random ?? systemRandom).bytes(PASSWORD_HASH_PARAMS.saltBytes);
  return hash(password.normalize('NFC'), { ...ARGON2_OPTIONS, salt });
}

/**
 * True when `password` matches the stored PHC string. Never throws: a malformed, foreign or
 * missing stored hash gives false (sign-in fails closed, and says nothing about why).
 */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  if (typeof storedHash !== 'string' || typeof password !== 'string') return false;
  try {
    return await verify(storedHash, password.normalize('NFC'));
  } catch {
    return false;
  }
}

/** `$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>` (PHC string format, unpadded base64). */
const PHC = /^\$(argon2(?:id|i|d))\$v=(\d{1,3})\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/**
 * True when a stored hash should be replaced after the next successful sign-in: not argon2id,
 * an older argon2 version, or memory, time or parallelism below today's parameters.
 * Anything that does not parse also needs a rehash (it can never have verified anyway).
 */
export function needsRehash(storedHash: string): boolean {
  const m = typeof storedHash === 'string' ? PHC.exec(storedHash) : null;
  if (!m) return true;
  const [, algorithm, version, memoryCost, timeCost, parallelism] = m;
  return (
    algorithm !== PASSWORD_HASH_PARAMS.algorithm ||
    Number(version) < PASSWORD_HASH_PARAMS.version ||
    Number(memoryCost) < PASSWORD_HASH_PARAMS.memoryCost ||
    Number(timeCost) < PASSWORD_HASH_PARAMS.timeCost ||
    Number(parallelism) < PASSWORD_HASH_PARAMS.parallelism
  );
}

// A hash of a random secret nobody knows, made once with the current parameters. It is derived,
// immutable data (not configuration), so a lazily filled module-level cache is safe here.
let dummyHash: Promise<string> | undefined;

/**
 * For sign-in attempts on an account that does not exist: spends the time of one real verify
 * so that response time does not reveal which accounts exist (ASVS V6.3.8). Always false.
 * The first call in a process also computes the dummy hash; call it once at start-up to warm it.
 */
export async function dummyVerify(password: string): Promise<false> {
  dummyHash ??= hashPassword(systemRandom.bytes(32).toString('base64url')).catch((error: unknown) => {
    dummyHash = undefined;
    throw error;
  });
  await verifyPassword(await dummyHash, typeof password === 'string' ? password : '');
  return false;
}
