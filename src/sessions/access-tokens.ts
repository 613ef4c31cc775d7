/**
 * Access tokens for signed-in sessions: short JWTs (HS256, a server key from the keyring-wrapped
 * data keys) naming the principal, the session and the device key they are bound to
 * (`cnf.jkt`, RFC 9449 §6.1). A token is worthless without a DPoP proof from that key, and
 * every use also checks the session is still live, so revocation takes effect at once.
 */
import { jwtVerify, SignJWT } from 'jose';
import { LabkluisError, type Clock, type Random } from '../kernel/index.js';

export const ACCESS_TOKEN_MAX_SECONDS = 300;
const ISSUER = 'labkluis';
const AUDIENCE = 'labkluis-api';

export interface AccessClaims {
  readonly principalId: string;
  readonly sessionId: string;
  readonly jkt: string;
  readonly expiresAt: number; // seconds since the epoch
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function looksLikeAccessToken(token: string): boolean {
  return token.length <= 2048 && JWT_SHAPE.test(token);
}

export async function issueAccessToken(
  key: Buffer, claims: { principalId: string; sessionId: string; jkt: string },
  deps: { clock: Clock; random: Random }, ttlSeconds: number,
): Promise<{ token: string; expiresAt: number }> {
  if (!(ttlSeconds > 0 && ttlSeconds <= ACCESS_TOKEN_MAX_SECONDS)) throw new RangeError(`access tokens live 1..${ACCESS_TOKEN_MAX_SECONDS} s`);
  const now = Math.floor(deps.clock.now().getTime() / 1000);
  const expiresAt = now + ttlSeconds;
  const token = await new SignJWT({ sid: claims.sessionId, cnf: { jkt: claims.jkt } })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(claims.principalId)
    .setIssuedAt(now).setExpirationTime(expiresAt).setJti(deps.random.bytes(16).toString('base64url'))
    .sign(key);
  return { token, expiresAt };
}

/** The claims of a token this server issued and that has not expired; otherwise ERR_UNAUTHENTICATED. */
export async function readAccessToken(key: Buffer, token: string, clock: Clock): Promise<AccessClaims> {
  if (!looksLikeAccessToken(token)) throw unauthenticated();
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', currentDate: clock.now(), clockTolerance: 0,
      requiredClaims: ['sub', 'exp', 'iat', 'jti', 'sid', 'cnf'],
    });
    const sid = payload.sid;
    const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (typeof sid !== 'string' || typeof jkt !== 'string' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') throw unauthenticated();
    return { principalId: payload.sub, sessionId: sid, jkt, expiresAt: payload.exp };
  } catch {
    throw unauthenticated();
  }
}

const unauthenticated = (): LabkluisError => new LabkluisError('ERR_UNAUTHENTICATED', 'missing, invalid, expired or revoked credential');
