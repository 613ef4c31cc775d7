/**
 * DPoP proof verification (RFC 9449 §4.3): a token bound to a device key is useless without a
 * fresh proof signed by that key for this exact method and URL. Every refusal is a DpopError
 * (ERR_UNAUTHENTICATED) carrying a stable `reason`; messages never echo the proof or token.
 */
import { createHash, createPublicKey, timingSafeEqual, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { base64url, calculateJwkThumbprint, type JWK } from 'jose';
import { LabkluisError, type Clock } from '../kernel/index.js';
import type { ReplayCache } from './replay-cache.js';

export const DPOP_FAILURE_REASONS = [
  'missing', 'multiple', 'malformed', 'typ', 'alg', 'jwk', 'signature',
  'htm', 'htu', 'iat', 'jti-replay', 'ath', 'key-mismatch',
] as const;
export type DpopFailureReason = (typeof DPOP_FAILURE_REASONS)[number];

export class DpopError extends LabkluisError {
  readonly reason: DpopFailureReason;
  constructor(reason: DpopFailureReason) {
    // One message for every reason: the client learns nothing it could tune an attack with;
    // the reason is for logs and the sentinel.
    super('ERR_UNAUTHENTICATED', 'invalid or missing DPoP proof');
    this.name = 'DpopError';
    this.reason = reason;
  }
}

export const isDpopError = (e: unknown, reason?: DpopFailureReason): e is DpopError =>
  e instanceof DpopError && (reason === undefined || e.reason === reason);

/** Asymmetric algorithms only (never 'none', never HS*), each pinned to one key type and curve. */
/** The allow-list: key type and curve, digest, and signature length (JWA RFC 7518 §3.4, RFC 8037). */
const ALGORITHMS: Readonly<Record<string, { kty: string; crv: string; hash: string | null; sigBytes: number }>> = Object.freeze({
  ES256: { kty: 'EC', crv: 'P-256', hash: 'sha256', sigBytes: 64 },
  ES384: { kty: 'EC', crv: 'P-384', hash: 'sha384', sigBytes: 96 },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', hash: null, sigBytes: 64 },
  Ed25519: { kty: 'OKP', crv: 'Ed25519', hash: null, sigBytes: 64 },
});
export const DPOP_ALGORITHMS: readonly string[] = Object.freeze(Object.keys(ALGORITHMS));

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth', 'priv'];
const MAX_PROOF_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface DpopProofInput {
  /** The DPoP header value(s) as received. */
  readonly proof: string | readonly string[] | undefined;
  readonly method: string;
  /** The full request URL as the server sees it; query and fragment are ignored. */
  readonly url: string;
  /** When present, the proof must carry a matching `ath`. */
  readonly accessToken?: string;
  /** When the token is bound (cnf.jkt), the proof key's RFC 7638 thumbprint. */
  readonly expectedJkt?: string;
}

export interface DpopVerifyDeps {
  readonly clock: Clock;
  readonly replay: ReplayCache;
  /** Imported keys of recent proofs; without it every proof's key is imported afresh. */
  readonly keys?: DpopKeyCache;
  readonly maxAgeSeconds?: number;
  readonly maxFutureSkewSeconds?: number;
}

export interface VerifiedProof {
  readonly jkt: string;
  readonly jti: string;
  readonly iat: number;
  readonly jwk: JWK;
}

export async function verifyDpopProof(input: DpopProofInput, deps: DpopVerifyDeps): Promise<VerifiedProof> {
  const { clock, replay, keys, maxAgeSeconds = 60, maxFutureSkewSeconds = 5 } = deps;
  if (!(maxAgeSeconds > 0) || !(maxFutureSkewSeconds >= 0)) throw new TypeError('DPoP time window must be positive');
  const proof = singleProof(input.proof);
  const header = parseSegment(proof.slice(0, proof.indexOf('.')));
  if (header.crit !== undefined || header.b64 !== undefined) throw new DpopError('malformed');
  if (header.typ !== 'dpop+jwt') throw new DpopError('typ');
  const alg = typeof header.alg === 'string' ? header.alg : '';
  const expected = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
  if (!expected) throw new DpopError('alg');
  const jwk = publicJwk(header.jwk, alg, expected);
  const { key, jkt } = keys ? await keys.get(jwk) : await importKey(jwk);
  const payloadAt = proof.indexOf('.') + 1;
  const signatureAt = proof.indexOf('.', payloadAt) + 1;
  if (!signatureValid(proof, signatureAt, key, expected)) throw new DpopError('signature');
  const claims = parseSegment(proof.slice(payloadAt, signatureAt - 1));
  if (claims.htm !== input.method) throw new DpopError('htm');
  const htu = typeof claims.htu === 'string' ? normaliseHtu(claims.htu) : undefined;
  if (htu === undefined || htu !== normaliseHtu(input.url)) throw new DpopError('htu');
  const iat = claims.iat;
  const now = clock.now().getTime() / 1000;
  if (typeof iat !== 'number' || !Number.isFinite(iat) || iat < now - maxAgeSeconds || iat > now + maxFutureSkewSeconds) {
    throw new DpopError('iat');
  }
  const jti = claims.jti;
  if (typeof jti !== 'string' || jti.length < 16 || jti.length > 128) throw new DpopError('malformed');
  if (input.accessToken !== undefined) {
    if (typeof claims.ath !== 'string' || !sameString(claims.ath, accessTokenHash(input.accessToken))) throw new DpopError('ath');
  }
  if (input.expectedJkt !== undefined && !sameString(jkt, input.expectedJkt)) throw new DpopError('key-mismatch');
  // Last, so only otherwise valid proofs are recorded: a 'jti-replay' means a good proof was
  // seen twice (an alarm worth raising), and forged proofs cannot fill the cache. The entry
  // lives as long as the iat check would still accept the proof.
  if (!(await replay.remember(`${jkt}:${jti}`, (iat + maxAgeSeconds) * 1000))) throw new DpopError('jti-replay');
  return Object.freeze({ jkt, jti, iat, jwk });
}

/**
 * The JWS signature check (RFC 7515 §5.2) with Node's own crypto, on a header already checked
 * above (typ, alg on the allow-list, no crit or b64, a public key of the algorithm's type and
 * curve). jose's compactVerify does the same through WebCrypto at about three times the cost,
 * and this runs on every request; test/sessions/dpop.test.ts checks the two agree.
 */
function signatureValid(proof: string, signatureAt: number, key: KeyObject, alg: { hash: string | null; sigBytes: number }): boolean {
  let signature: Uint8Array;
  try {
    signature = base64url.decode(proof.slice(signatureAt));
  } catch {
    return false;
  }
  if (signature.length !== alg.sigBytes) return false;
  const signingInput = Buffer.from(proof.slice(0, signatureAt - 1), 'ascii');
  try {
    return verify(alg.hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

interface ImportedKey { readonly key: KeyObject; readonly jkt: string }

/** A public key of the allow-list as a KeyObject, with its thumbprint; a point off the curve is 'jwk'. */
async function importKey(jwk: JWK): Promise<ImportedKey> {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { ...jwk } as JsonWebKey, format: 'jwk' });
  } catch {
    throw new DpopError('jwk');
  }
  return { key, jkt: await jwkThumbprint(jwk) };
}

/**
 * Imported public keys and their thumbprints, by canonical JWK. A session or a service signs
 * every request with the same key, and importing it plus the thumbprint cost more than the
 * signature check. Bounded; the oldest entry goes first. Only keys that passed publicJwk() and
 * import cleanly are kept. One per app (the composition root makes it), shared by the hot paths.
 */
export class DpopKeyCache {
  readonly #entries = new Map<string, ImportedKey>();
  readonly #max: number;

  constructor(max = 4096) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('the key cache needs a positive size');
    this.#max = max;
  }

  async get(jwk: JWK): Promise<ImportedKey> {
    const id = `${jwk.kty}|${jwk.crv}|${jwk.x}|${jwk.y ?? ''}`;
    const hit = this.#entries.get(id);
    if (hit !== undefined) return hit;
    const imported = await importKey(jwk);
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(id, imported);
    return imported;
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** RFC 7638 JWK thumbprint, SHA-256, base64url. */
export async function jwkThumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

/** The `ath` claim: base64url(SHA-256(access token)). Tokens are ASCII, so UTF-8 bytes are ASCII bytes. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * The htu comparison form (RFC 9449 §4.3, RFC 3986 §6.2.2-6.2.3): http(s) only, no userinfo,
 * query and fragment dropped, scheme and host lowercased, default port and dot segments
 * removed, empty path as "/", percent-encodings uppercased and unreserved ones decoded.
 * Returns undefined for anything that is not such a URL.
 */
export function normaliseHtu(raw: string): string | undefined {
  // Printable ASCII only, no backslash: the WHATWG parser would otherwise quietly repair input.
  if (!/^[\x21-\x5b\x5d-\x7e]+$/.test(raw)) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return undefined;
  const path = url.pathname.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

function singleProof(value: string | readonly string[] | undefined): string {
  let proof: unknown = value;
  if (Array.isArray(value)) {
    if (value.length > 1) throw new DpopError('multiple');
    proof = value[0];
  }
  if (proof === undefined || proof === '') throw new DpopError('missing');
  if (typeof proof !== 'string') throw new DpopError('malformed');
  if (proof.includes(',')) throw new DpopError('multiple'); // a compact JWS never holds a comma
  if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) throw new DpopError('malformed');
  return proof;
}

function publicJwk(value: unknown, alg: string, expected: { kty: string; crv: string }): JWK {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DpopError('jwk');
  const jwk = value as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m))) throw new DpopError('jwk');
  if (jwk.kty !== expected.kty || jwk.crv !== expected.crv) throw new DpopError('jwk');
  if ((jwk.alg !== undefined && jwk.alg !== alg) || (jwk.use !== undefined && jwk.use !== 'sig')) throw new DpopError('jwk');
  if (typeof jwk.x !== 'string' || (expected.kty === 'EC' && typeof jwk.y !== 'string')) throw new DpopError('jwk');
  // Keep only the required public members (RFC 7638 §3.2): the canonical key we hand back.
  return Object.freeze(expected.kty === 'EC'
    ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y as string }
    : { kty: jwk.kty, crv: jwk.crv, x: jwk.x });
}

function parseSegment(segment: string): Record<string, unknown> {
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(segment);
  } catch {
    throw new DpopError('malformed');
  }
  return parseJson(bytes);
}

function parseJson(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new DpopError('malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DpopError('malformed');
  return value as Record<string, unknown>;
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
