import { createHash, timingSafeEqual } from 'node:crypto';
import { LabkluisError, randomId, type Clock, type Random } from '../kernel/index.js';
import type { Store } from '../store/index.js';
import { principalFromRow, type Principal } from './principal.js';

/**
 * API tokens: "lkt_<id>.<secret>", 256-bit secret. Only SHA-256(secret) is stored: the secret
 * has full entropy, so a slow password hash would add nothing but latency (ASVS 5.0 V11.4).
 * Every token is bound to the public key its service registered (DPoP, RFC 9449): the token
 * alone, copied from a config file or a log, opens nothing (see sessions/bound-api-tokens.ts).
 */
const TOKEN = /^lkt_([a-z2-7]{16})\.([A-Za-z0-9_-]{43})$/;

export interface IssuedToken {
  readonly id: string;
  readonly token: string; // shown once, never stored
  readonly expiresAt: string | null;
}

export async function issueApiToken(
  deps: { store: Store; clock: Clock; random: Random },
  principalId: string,
  ttlDays: number | null,
  /** RFC 7638 thumbprint of the service's registered DPoP public key; the token works only with its proofs. */
  jkt: string,
): Promise<IssuedToken> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(jkt)) throw new LabkluisError('ERR_INVALID_INPUT', 'an API token needs the thumbprint of a registered public key');
  const principal = await deps.store.getPrincipal(principalId);
  if (!principal) throw new LabkluisError('ERR_NOT_FOUND', 'no such principal');
  // People sign in with their own factors (passkey, DPoP-bound session); a token is for a system.
  if (principal.kind !== 'service') throw new LabkluisError('ERR_INVALID_INPUT', 'API tokens are for service principals, not people');
  const id = randomId(deps.random, 10);
  const secret = deps.random.bytes(32);
  const now = deps.clock.now();
  const expiresAt = ttlDays === null ? null : new Date(now.getTime() + ttlDays * 86_400_000).toISOString();
  await deps.store.insertApiToken({
    id, principalId, secretHash: sha256(secret), createdAt: now.toISOString(), expiresAt, revokedAt: null, jkt,
  });
  return { id, token: `lkt_${id}.${secret.toString('base64url')}`, expiresAt };
}

/**
 * The token's principal and the key it is bound to (null only for rows from before binding), or
 * ERR_UNAUTHENTICATED with one message for every cause. Not authentication by itself: the caller
 * must check a proof from the key (sessions/bound-api-tokens.ts).
 */
export async function resolveApiToken(deps: { store: Store; clock: Clock }, presented: string): Promise<{ principal: Principal; jkt: string | null }> {
  const m = TOKEN.exec(presented);
  if (!m) throw unauthenticated();
  const [, id, secret] = m as unknown as [string, string, string];
  const row = await deps.store.getApiToken(id);
  // Hash even when the row is missing, so timing does not tell which tokens exist.
  const hash = sha256(Buffer.from(secret, 'base64url'));
  const expected = row?.secretHash ?? Buffer.alloc(32);
  if (!row || expected.length !== 32 || !timingSafeEqual(hash, expected)) throw unauthenticated();
  const now = deps.clock.now().toISOString();
  if (row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) throw unauthenticated();
  const principal = await deps.store.getPrincipal(row.principalId);
  if (!principal || principal.disabled) throw unauthenticated();
  return { principal: principalFromRow(principal, id), jkt: row.jkt };
}

export function looksLikeApiToken(presented: string): boolean {
  return TOKEN.test(presented);
}

/** The id of a token given as its id alone or as the whole token (operator commands); null if neither. */
export function apiTokenIdOf(idOrToken: string): string | null {
  const text = idOrToken.trim();
  if (/^[a-z2-7]{16}$/.test(text)) return text;
  return TOKEN.exec(text)?.[1] ?? null;
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const unauthenticated = (): LabkluisError => new LabkluisError('ERR_UNAUTHENTICATED', 'missing, invalid, expired or revoked credential');
