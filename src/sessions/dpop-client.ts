/**
 * The client side of DPoP (RFC 9449 §4.2) for the CLI, integrations and tests: an ES256 device
 * key kept as a private JWK in a 0600 file, and fresh proofs signed with it.
 */
import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import {
  CompactSign, SignJWT, compactVerify, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK,
} from 'jose';
import { LabkluisError, type Clock, type Random } from '../kernel/index.js';
import { accessTokenHash, jwkThumbprint } from './dpop.js';

export interface DpopKey {
  readonly alg: 'ES256';
  /** kty, crv, x, y: what goes into the proof header. */
  readonly publicJwk: Readonly<JWK>;
  /** The public members plus d: what the key file holds. */
  readonly privateJwk: Readonly<JWK>;
  /** RFC 7638 thumbprint of the public key (cnf.jkt of tokens bound to it). */
  readonly jkt: string;
  readonly signingKey: CryptoKey;
}

export interface DpopProofOptions {
  readonly method: string;
  readonly url: string;
  readonly accessToken?: string;
  readonly nonce?: string;
  readonly clock: Clock;
  readonly random: Random;
}

const COORD = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url: a P-256 coordinate or scalar

export async function generateDpopKey(): Promise<DpopKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y, d } = await exportJWK(privateKey);
  return fromPrivateJwk({ kty, crv, x, y, d });
}

/** Writes the private JWK with mode 0600; O_EXCL refuses to overwrite anything, symlinks included. */
export async function saveDpopKey(path: string, key: DpopKey): Promise<void> {
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (cause) {
    throw new LabkluisError('ERR_KEYRING', 'cannot create the DPoP key file (it may already exist)', { cause });
  }
  try {
    await file.writeFile(`${JSON.stringify(key.privateJwk)}\n`, 'utf8');
    await file.sync();
  } catch (cause) {
    await file.close();
    await unlink(path).catch(() => undefined);
    throw new LabkluisError('ERR_KEYRING', 'cannot write the DPoP key file', { cause });
  }
  await file.close();
}

/** Reads a key file; refuses symlinks, non-regular files and any group or world permission bits. */
export async function loadDpopKey(path: string): Promise<DpopKey> {
  let text: string;
  try {
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = await file.stat();
      if (!st.isFile()) throw new LabkluisError('ERR_KEYRING', 'the DPoP key path is not a regular file');
      if ((st.mode & 0o077) !== 0) throw new LabkluisError('ERR_KEYRING', 'the DPoP key file is accessible to group or others; chmod 600 it');
      text = await file.readFile('utf8');
    } finally {
      await file.close();
    }
  } catch (e) {
    if (e instanceof LabkluisError) throw e;
    throw new LabkluisError('ERR_KEYRING', 'cannot read the DPoP key file', { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LabkluisError('ERR_KEYRING', 'the DPoP key file is not a P-256 private JWK');
  }
  const j = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (j.kty !== 'EC' || j.crv !== 'P-256' || ![j.x, j.y, j.d].every((v) => typeof v === 'string' && COORD.test(v))) {
    throw new LabkluisError('ERR_KEYRING', 'the DPoP key file is not a P-256 private JWK');
  }
  return fromPrivateJwk({ kty: 'EC', crv: 'P-256', x: j.x as string, y: j.y as string, d: j.d as string });
}

/** A proof for one request: fresh jti from the injected Random, iat from the injected Clock. */
export async function createDpopProof(key: DpopKey, options: DpopProofOptions): Promise<string> {
  const { method, url, accessToken, nonce, clock, random } = options;
  if (!/^[A-Z]+$/.test(method)) throw new TypeError('method must be an uppercase HTTP method');
  const htu = new URL(url);
  if (htu.protocol !== 'https:' && htu.protocol !== 'http:') throw new TypeError('url must be http(s)');
  htu.search = '';
  htu.hash = '';
  const claims: Record<string, unknown> = {
    jti: random.bytes(16).toString('base64url'),
    htm: method,
    htu: htu.href,
    iat: Math.floor(clock.now().getTime() / 1000),
  };
  if (accessToken !== undefined) claims.ath = accessTokenHash(accessToken);
  if (nonce !== undefined) claims.nonce = nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: { ...key.publicJwk } })
    .sign(key.signingKey);
}

async function fromPrivateJwk(jwk: { kty?: string; crv?: string; x?: string; y?: string; d?: string }): Promise<DpopKey> {
  const publicJwk = Object.freeze({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  let signingKey: CryptoKey;
  try {
    signingKey = (await importJWK({ ...jwk }, 'ES256', { extractable: false })) as CryptoKey;
    // A probe signature proves that d belongs to (x, y): a file with mixed-up members is refused.
    const probe = await new CompactSign(new TextEncoder().encode('labkluis-dpop-probe')).setProtectedHeader({ alg: 'ES256' }).sign(signingKey);
    await compactVerify(probe, await importJWK({ ...publicJwk }, 'ES256'));
  } catch (cause) {
    throw new LabkluisError('ERR_KEYRING', 'the DPoP key is not a valid P-256 key pair', { cause });
  }
  return Object.freeze({
    alg: 'ES256' as const,
    publicJwk,
    privateJwk: Object.freeze({ ...jwk }),
    jkt: await jwkThumbprint(publicJwk),
    signingKey,
  });
}
