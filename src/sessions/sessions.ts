/**
 * Device-bound sessions (RFC 9449 DPoP): a person who has signed in with a second factor gets
 * a session tied to the thumbprint of a key their device cannot export. Access tokens live at
 * most 5 minutes; refresh tokens are single use and rotate, and a reused one ends the whole
 * session (its family). A token shown without a proof from the session's key, or with a proof
 * from another key, ends the session too and raises a security event: a stolen token is
 * worth nothing and its theft is noticed.
 */
import { createHash } from 'node:crypto';
import { principalFromSession, suspensionOf, type Principal } from '../auth/index.js';
import type { DataKeys } from '../crypto/index.js';
import { LabkluisError, randomId, type Clock, type Random } from '../kernel/index.js';
import type { SessionRow, Store } from '../store/index.js';
import { ACCESS_TOKEN_MAX_SECONDS, issueAccessToken, readAccessToken } from './access-tokens.js';
import { DpopError, verifyDpopProof, type DpopKeyCache } from './dpop.js';
import type { ReplayCache } from './replay-cache.js';

export interface SessionPolicy {
  /** Access token lifetime in seconds (at most 300). */
  readonly accessSeconds: number;
  /** A session unused for this long ends (default 15 minutes). */
  readonly idleSeconds: number;
  /** A session ends this long after sign-in whatever happens (default 12 hours). */
  readonly absoluteSeconds: number;
  /**
   * Live sessions one account may hold (default 5: a workstation, a laptop, a phone, the CLI,
   * and one spare). A sign-in past the limit ends the account's oldest live session
   * ('session-limit'), so a forgotten device does not keep a session open (ASVS 5.0 V7.1.2).
   */
  readonly maxSessions: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = Object.freeze({ accessSeconds: 300, idleSeconds: 900, absoluteSeconds: 43_200, maxSessions: 5 });

/** What the audit log and the sentinel hear about sessions. */
export interface SessionEvent {
  readonly kind: 'session-opened' | 'session-refreshed' | 'session-revoked' | 'token-refused' | 'token-replay' | 'refresh-reuse';
  readonly principalId: string | null;
  readonly sessionId: string | null;
  /** A stable machine reason ('missing-proof', 'key-mismatch', 'idle-timeout', ...); never a token. */
  readonly reason: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
}
export type SessionEventSink = (event: SessionEvent) => Promise<void>;

export interface TokenPair {
  readonly sessionId: string;
  readonly accessToken: string;
  readonly tokenType: 'DPoP';
  readonly expiresIn: number;
  readonly refreshToken: string;
}

export interface RequestProof {
  readonly dpop: string | readonly string[] | undefined;
  readonly method: string;
  /** The full request URL as the server sees it. */
  readonly url: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** Proof failures that a client holding its own key never produces: the token was copied. */
const THEFT_REASONS = new Set(['missing', 'multiple', 'key-mismatch', 'jti-replay', 'ath', 'signature', 'htm', 'htu']);
/** The epoch: an assertion time no step-up accepts. */
const NEVER = new Date(0).toISOString();
const REFRESH = /^lkr_([A-Za-z0-9_-]{43})$/;

export class Sessions {
  readonly #store: Store;
  readonly #keys: DataKeys;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #replay: ReplayCache;
  readonly #dpopKeys: DpopKeyCache | undefined;
  readonly #events: SessionEventSink;
  readonly policy: SessionPolicy;

  constructor(deps: {
    store: Store; keys: DataKeys; clock: Clock; random: Random; replay: ReplayCache; events: SessionEventSink; policy?: Partial<SessionPolicy>;
    /** Imported keys of recent proofs (one per app); every request carries a proof from the same key. */
    dpopKeys?: DpopKeyCache;
  }) {
    this.#store = deps.store;
    this.#keys = deps.keys;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#replay = deps.replay;
    this.#dpopKeys = deps.dpopKeys;
    this.#events = deps.events;
    this.policy = checkPolicy({ ...DEFAULT_SESSION_POLICY, ...deps.policy });
  }

  /** Opens a session after a successful second factor, bound to the key that signed `jkt`'s proof. */
  /**
   * `fresh: false` for a session whose second factor was shown on another device (the CLI after
   * a browser approval): it gets no step-up powers until it makes its own assertion.
   */
  async open(input: { principalId: string; jkt: string; authMethod: SessionRow['authMethod']; ip: string | null; userAgent: string | null; fresh?: boolean }): Promise<TokenPair> {
    const now = this.#clock.now();
    const session: SessionRow = {
      id: randomId(this.#random),
      principalId: input.principalId,
      jkt: input.jkt,
      createdAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      idleSeconds: this.policy.idleSeconds,
      absoluteExpiresAt: new Date(now.getTime() + this.policy.absoluteSeconds * 1000).toISOString(),
      authenticatedAt: input.fresh === false ? NEVER : now.toISOString(),
      authMethod: input.authMethod,
      revokedAt: null,
      revokedReason: null,
      ip: input.ip,
      userAgent: input.userAgent,
    };
    await this.#store.accounts.insertSession(session);
    await this.#event('session-opened', session.principalId, session.id, input.authMethod, input);
    await this.#keepWithinLimit(session, input);
    return this.#tokens(session);
  }

  /** Ends the oldest live sessions of the account beyond policy.maxSessions, never `kept`. */
  async #keepWithinLimit(kept: SessionRow, request: Pick<RequestProof, 'ip' | 'userAgent'>): Promise<void> {
    const now = this.#clock.now();
    const live = (await this.#store.accounts.listSessions(kept.principalId))
      .filter((s) => s.id !== kept.id && endReason(s, now) === null)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    for (const old of live.slice(0, Math.max(0, live.length + 1 - this.policy.maxSessions))) {
      await this.#revoke(old, 'session-limit', request, 'session-revoked');
    }
  }

  /**
   * The principal behind `Authorization: DPoP <token>` with its proof. Refuses (ERR_UNAUTHENTICATED)
   * anything else; a token without a valid proof from its key also ends its session.
   */
  async authenticate(authorization: string | undefined, request: RequestProof): Promise<Principal> {
    const [scheme, token] = splitAuthorization(authorization);
    if (token === undefined) throw unauthenticated();
    const claims = await readAccessToken(await this.#macKey(), token, this.#clock);
    if (scheme !== 'dpop') {
      // A session token sent as a bearer token: its proof is missing by construction.
      await this.#theft(claims.sessionId, claims.principalId, 'missing', request);
      throw unauthenticated();
    }
    try {
      await verifyDpopProof(
        { proof: request.dpop, method: request.method, url: request.url, accessToken: token, expectedJkt: claims.jkt },
        { clock: this.#clock, replay: this.#replay, ...(this.#dpopKeys ? { keys: this.#dpopKeys } : {}) },
      );
    } catch (e) {
      if (!(e instanceof DpopError)) throw e; // e.g. a full replay cache: a 429, not a refusal
      if (THEFT_REASONS.has(e.reason)) await this.#theft(claims.sessionId, claims.principalId, e.reason, request);
      else await this.#event('token-refused', claims.principalId, claims.sessionId, e.reason, request);
      throw unauthenticated();
    }
    const session = await this.#live(claims.sessionId, request);
    if (session.principalId !== claims.principalId || session.jkt !== claims.jkt) throw unauthenticated();
    const principal = await this.#store.getPrincipal(session.principalId);
    if (!principal || principal.disabled) {
      await this.#end(session, 'account-disabled', request);
      throw unauthenticated();
    }
    await this.#touch(session);
    const [training, recert] = await Promise.all([
      this.#store.safeguards.latestTraining(principal.id), this.#store.safeguards.latestRecertification(principal.id),
    ]);
    return principalFromSession(principal, session, suspensionOf(principal, training, recert, this.#clock.now()));
  }

  /** Rotates a refresh token: a new pair, the old token spent. A token used twice ends the session. */
  async refresh(refreshToken: string, request: RequestProof): Promise<TokenPair> {
    const m = REFRESH.exec(refreshToken);
    if (!m) throw unauthenticated();
    // The proof is checked before the token is spent: a client whose proof is merely stale or
    // malformed keeps its token (and raises no false reuse alarm when it retries).
    let proofJkt: string;
    try {
      proofJkt = (await verifyDpopProof({ proof: request.dpop, method: request.method, url: request.url }, { clock: this.#clock, replay: this.#replay })).jkt;
    } catch (e) {
      if (!(e instanceof DpopError)) throw e;
      if (THEFT_REASONS.has(e.reason)) {
        // No proof at all, or one for another request: the token was copied. Spend it and end its session.
        const spent = await this.#store.accounts.useRefreshToken(sha256(Buffer.from(m[1]!, 'base64url')), this.#clock.now().toISOString());
        const session = spent === null ? null : await this.#store.accounts.getSession(spent.row.sessionId);
        if (session !== null) await this.#theft(session.id, session.principalId, e.reason, request);
      }
      throw unauthenticated();
    }
    const used = await this.#store.accounts.useRefreshToken(sha256(Buffer.from(m[1]!, 'base64url')), this.#clock.now().toISOString());
    if (used === null) throw unauthenticated();
    const session = await this.#store.accounts.getSession(used.row.sessionId);
    if (session === null) throw unauthenticated();
    if (used.reused) {
      await this.#revoke(session, 'refresh-reuse', request, 'refresh-reuse');
      throw unauthenticated();
    }
    if (proofJkt !== session.jkt) {
      // The refresh token travelled without its key: someone copied it.
      await this.#theft(session.id, session.principalId, 'key-mismatch', request);
      throw unauthenticated();
    }
    const live = await this.#live(session.id, request);
    if (used.row.expiresAt <= this.#clock.now().toISOString()) throw unauthenticated();
    const principal = await this.#store.getPrincipal(live.principalId);
    if (!principal || principal.disabled) {
      await this.#end(live, 'account-disabled', request);
      throw unauthenticated();
    }
    await this.#touch(live, true);
    await this.#event('session-refreshed', live.principalId, live.id, 'rotated', request);
    return this.#tokens(live);
  }

  /**
   * A re-authentication inside a live session (step-up) gets a new session and token pair, as a
   * sign-in does (ASVS 5.0 7.2.4): a new id, the same person and device key, and the same
   * absolute end (a step-up does not lengthen a session's life). The old session ends first, so
   * every access and refresh token minted under it stops working at once, including one a
   * concurrent refresh is minting now. Of two concurrent renewals, or a renewal and a sign-out,
   * only the first to end the old session goes on; the other is refused.
   */
  async renew(
    sessionId: string,
    input: { reason: 'step-up'; authenticatedAt: string; authMethod: SessionRow['authMethod'] },
    request: Pick<RequestProof, 'ip' | 'userAgent'>,
  ): Promise<TokenPair> {
    const old = await this.#live(sessionId, request);
    const now = this.#clock.now().toISOString();
    const replaced = `replaced-at-${input.reason}`;
    if (!(await this.#store.accounts.revokeSession(old.id, now, replaced))) throw unauthenticated();
    await this.#event('session-revoked', old.principalId, old.id, replaced, request);
    const session: SessionRow = {
      ...old,
      id: randomId(this.#random),
      createdAt: now,
      lastSeenAt: now,
      authenticatedAt: input.authenticatedAt,
      authMethod: input.authMethod,
      revokedAt: null,
      revokedReason: null,
      ip: request.ip,
      userAgent: request.userAgent,
    };
    await this.#store.accounts.insertSession(session);
    await this.#event('session-opened', session.principalId, session.id, input.reason, request);
    return this.#tokens(session);
  }

  /** Ends one session (sign-out, or a person revoking one of their own devices). */
  async revoke(sessionId: string, reason: string, request: Pick<RequestProof, 'ip' | 'userAgent'>): Promise<boolean> {
    const session = await this.#store.accounts.getSession(sessionId);
    if (session === null) return false;
    return this.#revoke(session, reason, request, 'session-revoked');
  }

  /** Ends every session of a person (security officer; account disabled). */
  async revokeAllOf(principalId: string, reason: string, request: Pick<RequestProof, 'ip' | 'userAgent'>): Promise<number> {
    const n = await this.#store.accounts.revokeSessionsOf(principalId, this.#clock.now().toISOString(), reason);
    if (n > 0) await this.#event('session-revoked', principalId, null, reason, request);
    return n;
  }

  /**
   * Ends every session of a person but `keep`, the one asking (ASVS 5.0 V7.4.3, V7.5.2): "end
   * my other sessions", and after a password change. One statement, so none is missed.
   */
  async revokeOthersOf(principalId: string, keep: string, reason: string, request: Pick<RequestProof, 'ip' | 'userAgent'>): Promise<number> {
    const n = await this.#store.accounts.revokeOtherSessionsOf(principalId, keep, this.#clock.now().toISOString(), reason);
    if (n > 0) await this.#event('session-revoked', principalId, null, reason, request);
    return n;
  }

  /** A person's sessions, newest last, with whether each is still live. */
  async list(principalId: string): Promise<(SessionRow & { live: boolean })[]> {
    const now = this.#clock.now();
    return (await this.#store.accounts.listSessions(principalId)).map((s) => ({ ...s, live: endReason(s, now) === null }));
  }

  async #tokens(session: SessionRow): Promise<TokenPair> {
    const now = this.#clock.now();
    const access = await issueAccessToken(
      await this.#macKey(), { principalId: session.principalId, sessionId: session.id, jkt: session.jkt },
      { clock: this.#clock, random: this.#random }, this.policy.accessSeconds,
    );
    const secret = this.#random.bytes(32);
    // An unused refresh token dies with the idle timeout; none outlives the session.
    const expires = Math.min(now.getTime() + this.policy.idleSeconds * 1000, Date.parse(session.absoluteExpiresAt));
    await this.#store.accounts.insertRefreshToken({
      secretHash: sha256(secret), sessionId: session.id, createdAt: now.toISOString(), expiresAt: new Date(expires).toISOString(), usedAt: null,
    });
    return { sessionId: session.id, accessToken: access.token, tokenType: 'DPoP', expiresIn: this.policy.accessSeconds, refreshToken: `lkr_${secret.toString('base64url')}` };
  }

  /** The session if it is live now; otherwise it is ended (for the record) and the request refused. */
  async #live(sessionId: string, request: Pick<RequestProof, 'ip' | 'userAgent'>): Promise<SessionRow> {
    const session = await this.#store.accounts.getSession(sessionId);
    if (session === null) throw unauthenticated();
    const reason = endReason(session, this.#clock.now());
    if (reason !== null) {
      if (session.revokedAt === null) await this.#end(session, reason, request);
      throw unauthenticated();
    }
    return session;
  }

  async #touch(session: SessionRow, always = false): Promise<void> {
    // Last-seen moves at most every 30 s: the idle timeout does not need finer steps, and a
    // write per request would cost more than the check it supports.
    const now = this.#clock.now();
    if (always || now.getTime() - Date.parse(session.lastSeenAt) >= 30_000) await this.#store.accounts.touchSession(session.id, now.toISOString());
  }

  async #theft(sessionId: string, principalId: string, reason: string, request: Pick<RequestProof, 'ip' | 'userAgent'>): Promise<void> {
    const session = await this.#store.accounts.getSession(sessionId);
    if (session !== null && session.principalId === principalId) await this.#revoke(session, `token-replay:${reason}`, request, 'token-replay');
    else await this.#event('token-replay', principalId, sessionId, reason, request);
  }

  async #end(session: SessionRow, reason: string, request: Pick<RequestProof, 'ip' | 'userAgent'>): Promise<void> {
    await this.#revoke(session, reason, request, 'session-revoked');
  }

  async #revoke(session: SessionRow, reason: string, request: Pick<RequestProof, 'ip' | 'userAgent'>, kind: SessionEvent['kind']): Promise<boolean> {
    const revoked = await this.#store.accounts.revokeSession(session.id, this.#clock.now().toISOString(), reason);
    // A theft signal is raised even when the session had already ended: someone still holds its token.
    // The event names the reason once: 'token-replay' with 'key-mismatch', not 'token-replay:key-mismatch'.
    if (revoked || kind !== 'session-revoked') await this.#event(kind, session.principalId, session.id, reason.replace(`${kind}:`, ''), request);
    return revoked;
  }

  async #event(kind: SessionEvent['kind'], principalId: string | null, sessionId: string | null, reason: string, request: Pick<RequestProof, 'ip' | 'userAgent'>): Promise<void> {
    await this.#events({ kind, principalId, sessionId, reason, ip: request.ip, userAgent: request.userAgent });
  }

  async #macKey(): Promise<Buffer> {
    return (await this.#keys.current('*', 'session-mac')).key;
  }
}

/** Why a session is over at `now`, or null when it is live. */
export function endReason(s: SessionRow, now: Date): string | null {
  if (s.revokedAt !== null) return s.revokedReason ?? 'revoked';
  if (now.getTime() >= Date.parse(s.absoluteExpiresAt)) return 'absolute-timeout';
  if (now.getTime() - Date.parse(s.lastSeenAt) >= s.idleSeconds * 1000) return 'idle-timeout';
  return null;
}

function splitAuthorization(header: string | undefined): [string, string | undefined] {
  if (typeof header !== 'string') return ['', undefined];
  const m = /^(\S+) +(\S+)$/.exec(header.trim());
  return m ? [m[1]!.toLowerCase(), m[2]] : ['', undefined];
}

function checkPolicy(p: SessionPolicy): SessionPolicy {
  const ok = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  if (!ok(p.accessSeconds, 30, ACCESS_TOKEN_MAX_SECONDS)) throw new LabkluisError('ERR_CONFIG', `access tokens live 30..${ACCESS_TOKEN_MAX_SECONDS} s`);
  if (!ok(p.idleSeconds, 60, 86_400)) throw new LabkluisError('ERR_CONFIG', 'the idle timeout is 60 s .. 24 h');
  if (!ok(p.absoluteSeconds, p.idleSeconds, 7 * 86_400)) throw new LabkluisError('ERR_CONFIG', 'the absolute timeout is at least the idle timeout and at most 7 days');
  if (!ok(p.maxSessions, 1, 100)) throw new LabkluisError('ERR_CONFIG', 'an account may hold 1..100 live sessions');
  return Object.freeze({ ...p });
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const unauthenticated = (): LabkluisError => new LabkluisError('ERR_UNAUTHENTICATED', 'missing, invalid, expired or revoked credential');
