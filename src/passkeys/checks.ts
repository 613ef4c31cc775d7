/**
 * The relying party's own checks of WebAuthn L2 §7.1 (registration) and §7.2 (authentication)
 * that have a refusal reason of their own: client data type, challenge and origin, RP id hash,
 * UP/UV flags, and the public key policy. @simplewebauthn/server repeats most of them, which is
 * fine, but its errors are only told apart by message text, so the reasons come from here.
 */
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';
import type { ParsedAuthenticatorData } from '@simplewebauthn/server/helpers';
import { PasskeyError } from './errors.js';
import type { ClientData } from './parse-response.js';

/**
 * Allowed COSE algorithms, in order of preference (§5.3 pubKeyCredParams):
 * ES256 (-7, P-256) is what security keys and platform authenticators make; EdDSA (-8, Ed25519)
 * is a good curve some security keys use; RS256 (-257, RSASSA-PKCS1-v1_5 + SHA-256) is only
 * there for Windows Hello on TPMs that cannot make EC keys, and only with a 2048–4096-bit modulus
 * (PKCS#1 v1.5 signatures have no known practical attack; the key size is what we police).
 */
export const PASSKEY_ALGORITHMS: readonly number[] = Object.freeze([-7, -8, -257]);

const COSE = { kty: 1, alg: 3, crv: -1, x: -2, y: -3, n: -1, e: -2 } as const;
const b64 = (v: Uint8Array): string => Buffer.from(v).toString('base64url');

export function checkClientData(data: ClientData, expected: { type: string; challenge: string; origins: readonly string[] }): void {
  if (data.type !== expected.type || data.challenge !== expected.challenge) throw new PasskeyError('challenge');
  // We are never embedded in another site's iframe: a cross-origin ceremony is refused outright.
  if (data.crossOrigin || data.topOrigin !== undefined) throw new PasskeyError('origin');
  if (!expected.origins.includes(data.origin)) throw new PasskeyError('origin');
}

export function checkAuthenticatorData(authData: ParsedAuthenticatorData, rpIdHash: Buffer): void {
  if (!rpIdHash.equals(authData.rpIdHash)) throw new PasskeyError('rp');
  // ASVS 5.0 L3: the passkey is the whole sign-in, so it must prove the person, not just a touch.
  if (!authData.flags.up || !authData.flags.uv) throw new PasskeyError('user-verification');
}

export const rpIdHashOf = (rpId: string): Buffer => createHash('sha256').update(rpId, 'utf8').digest();

/** Refuses keys off the allow-list or with weak or inconsistent parameters (§5.8.5, RFC 9053). */
export function checkPublicKey(coseKey: Uint8Array): void {
  let key: Map<number, unknown>;
  try {
    key = decodeCredentialPublicKey(new Uint8Array(coseKey)) as unknown as Map<number, unknown>;
  } catch {
    throw new PasskeyError('algorithm');
  }
  if (!(key instanceof Map)) throw new PasskeyError('algorithm');
  const bin = (label: number): Uint8Array | null => {
    const v = key.get(label);
    return v instanceof Uint8Array ? v : null;
  };
  const alg = key.get(COSE.alg);
  const kty = key.get(COSE.kty);
  let jwk: JsonWebKey | null = null;
  if (alg === -7 && kty === 2 && key.get(COSE.crv) === 1) {
    const x = bin(COSE.x);
    const y = bin(COSE.y);
    if (x?.length === 32 && y?.length === 32) jwk = { kty: 'EC', crv: 'P-256', x: b64(x), y: b64(y) };
  } else if (alg === -8 && kty === 1 && key.get(COSE.crv) === 6) {
    const x = bin(COSE.x);
    if (x?.length === 32) jwk = { kty: 'OKP', crv: 'Ed25519', x: b64(x) };
  } else if (alg === -257 && kty === 3) {
    const n = bin(COSE.n);
    const e = bin(COSE.e);
    const bits = n === null || n[0] === 0 ? 0 : n.length * 8 - Math.clz32(n[0] ?? 0) + 24;
    const exponent = e !== null && e.length <= 4 ? e.reduce((acc, byte) => acc * 256 + byte, 0) : 0;
    if (n !== null && e !== null && bits >= 2048 && bits <= 4096 && exponent >= 65537 && exponent % 2 === 1) {
      jwk = { kty: 'RSA', n: b64(n), e: b64(e) };
    }
  }
  if (jwk === null) throw new PasskeyError('algorithm');
  try {
    createPublicKey({ key: jwk, format: 'jwk' }); // also proves an EC point lies on the curve
  } catch {
    throw new PasskeyError('algorithm');
  }
}
