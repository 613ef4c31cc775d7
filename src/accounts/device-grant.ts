/**
 * Sign-in for the CLI with the OAuth 2.0 device authorisation grant (RFC 8628), bound to DPoP
 * (RFC 9449). The CLI starts a grant with a proof from its own key and shows a user code; a
 * signed-in person, fresh from a passkey step-up, approves that code in the browser; the CLI
 * polls with its device code and, once approved, receives exactly one session bound to the
 * key that started the grant. A device code alone is worth nothing: the token request must be
 * signed by that same key. Every step is audited.
 */
import { createHash } from 'node:crypto';
import { requireStepUp, type Principal } from '../auth/index.js';
import { forbidden, invalidInput, isLabkluisError, notFound, type Clock, type Random } from '../kernel/index.js';
import { DpopError, verifyDpopProof, type ReplayCache, type RequestProof, type Sessions, type TokenPair } from '../sessions/index.js';
import type { DeviceGrantRow, Store } from '../store/index.js';
import type { AccountEvent } from '../vault/index.js';
import type { Facts } from './sign-in.js';
import type { SignInThrottle } from './throttle.js';

/**
 * RFC 8628 §6.1: consonants only (no words, no 0/O or 1/I to confuse), case-insensitive, 8
 * characters (20^8, about 34.5 bits), shown as XXXX-XXXX. Guessing needs a signed-in person with
 * a fresh step-up, is throttled per person and address (§5.1), and a code lives 10 minutes.
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/;
const DEVICE_CODE = /^lkd_([A-Za-z0-9_-]{43})$/;
export const DEVICE_GRANT_TTL_SECONDS = 600;
export const DEVICE_POLL_INTERVAL_SECONDS = 5;
/** Expired grants are swept this long after expiry, so a late poll still hears expired_token. */
const SWEEP_AFTER_SECONDS = 3600;
/** At most this many start requests' addresses are remembered for the device page (oldest dropped first). */
const MAX_REMEMBERED_ORIGINS = 10_000;
const USER_AGENT_SHOWN = 200;

/** RFC 8628 §3.5 (and RFC 6749 §5.2, RFC 9449 §5): the token endpoint's errors, all HTTP 400. */
export type DeviceTokenError =
  | 'authorization_pending' | 'slow_down' | 'access_denied' | 'expired_token' | 'invalid_grant' | 'invalid_request' | 'invalid_dpop_proof';

export type DeviceTokenResult = { readonly ok: true; readonly tokens: TokenPair } | { readonly ok: false; readonly error: DeviceTokenError };

/** RFC 8628 §3.2, in this API's camelCase. */
export interface DeviceAuthorisation {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete: string;
  readonly expiresIn: number;
  readonly interval: number;
}

/**
 * What the device page shows about a pending grant before the person decides (RFC 8628 §5.4):
 * the code, when it was asked for, and from where, so a code someone else sent them stands out.
 */
export interface PendingDeviceGrant {
  /** As the CLI shows it: XXXX-XXXX. */
  readonly userCode: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
  /**
   * The address and user agent of the request that started the grant. Kept in this process's
   * memory only (like the throttle), not in the store: null after a restart or on another node.
   */
  readonly requestedFrom: { readonly ip: string | null; readonly userAgent: string | null } | null;
}

export interface DeviceGrantDeps {
  readonly store: Store;
  readonly sessions: Sessions;
  readonly replay: ReplayCache;
  /** Failed approvals (unknown codes) per person and address: RFC 8628 §5.1 brute-force protection. */
  readonly throttle: SignInThrottle;
  readonly clock: Clock;
  readonly random: Random;
  readonly events: (event: AccountEvent) => Promise<void>;
  /** The public URL: the person approves at <publicUrl>/device (the WebAuthn origin, where their passkey works). */
  readonly publicUrl: string;
  readonly ttlSeconds?: number;
  readonly intervalSeconds?: number;
}

export class DeviceGrant {
  readonly #d: Required<DeviceGrantDeps>;
  /** Normalised user code → where its start request came from, until the grant expires or is decided. */
  readonly #origins = new Map<string, { readonly ip: string | null; readonly userAgent: string | null; readonly expiresAtMs: number }>();

  constructor(deps: DeviceGrantDeps) {
    const { ttlSeconds = DEVICE_GRANT_TTL_SECONDS, intervalSeconds = DEVICE_POLL_INTERVAL_SECONDS } = deps;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 1800) throw new TypeError('ttlSeconds is 1..1800');
    if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1 || intervalSeconds > 60) throw new TypeError('intervalSeconds is 1..60');
    if (!/^https?:\/\/[^/]+$/.test(deps.publicUrl)) throw new TypeError('publicUrl is an origin without a trailing slash');
    this.#d = Object.freeze({ ...deps, ttlSeconds, intervalSeconds });
  }

  /** RFC 8628 §3.1-3.2: a new grant, bound to the key that signed this request's proof. */
  async start(proof: RequestProof): Promise<DeviceAuthorisation> {
    const { jkt } = await verifyDpopProof({ proof: proof.dpop, method: proof.method, url: proof.url }, { clock: this.#d.clock, replay: this.#d.replay });
    const now = this.#d.clock.now();
    await this.#d.store.devices.deleteExpired(new Date(now.getTime() - SWEEP_AFTER_SECONDS * 1000).toISOString());
    const secret = this.#d.random.bytes(32);
    let userCode = '';
    // A live grant holding the same user code is a conflict (about 1 in 25 billion): draw again.
    for (let attempt = 1; ; attempt++) {
      userCode = this.#newUserCode();
      const row: DeviceGrantRow = {
        deviceCodeHash: sha256(secret), userCode, jkt, createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.#d.ttlSeconds * 1000).toISOString(), intervalSeconds: this.#d.intervalSeconds,
        lastPolledAt: null, approvedBy: null, approvedAt: null, deniedAt: null, redeemedAt: null,
      };
      try {
        await this.#d.store.devices.insert(row);
        break;
      } catch (e) {
        if (!isLabkluisError(e, 'ERR_CONFLICT') || attempt >= 5) throw e;
      }
    }
    this.#remember(userCode, proof, now.getTime() + this.#d.ttlSeconds * 1000);
    await this.#event({ kind: 'device-start', principalId: null, sessionId: null, outcome: 'success' }, proof);
    const shown = shownCode(userCode);
    return {
      deviceCode: `lkd_${secret.toString('base64url')}`, userCode: shown,
      verificationUri: `${this.#d.publicUrl}/device`, verificationUriComplete: `${this.#d.publicUrl}/device#${shown}`,
      expiresIn: this.#d.ttlSeconds, interval: this.#d.intervalSeconds,
    };
  }

  /**
   * RFC 8628 §3.3: the person enters the code in the browser and approves. Only a signed-in
   * person with a fresh passkey assertion (step-up) may: the CLI gets a session as them.
   */
  async approve(principal: Principal, userCode: unknown, facts: Facts): Promise<{ approved: true }> {
    const code = await this.#decide(principal, userCode, facts, 'device-approved', true);
    const row = await this.#d.store.devices.approve(code, principal.id, this.#d.clock.now().toISOString());
    if (row === null) return this.#unknownCode(principal, facts, 'device-approved');
    this.#origins.delete(code);
    await this.#event({ kind: 'device-approved', principalId: principal.id, sessionId: principal.credentialId, outcome: 'success' }, facts);
    return { approved: true };
  }

  /** The person says no (§3.3): the CLI hears access_denied. Refusing grants nothing, so no step-up. */
  async deny(principal: Principal, userCode: unknown, facts: Facts): Promise<{ denied: true }> {
    const code = await this.#decide(principal, userCode, facts, 'device-denied', false);
    const row = await this.#d.store.devices.deny(code, this.#d.clock.now().toISOString());
    if (row === null) return this.#unknownCode(principal, facts, 'device-denied');
    this.#origins.delete(code);
    await this.#event({ kind: 'device-denied', principalId: principal.id, sessionId: principal.credentialId, outcome: 'success' }, facts);
    return { denied: true };
  }

  /**
   * RFC 8628 §5.4: before deciding, the signed-in person sees when and from where the code was
   * asked for. Read-only and without step-up (it grants nothing), but like approving it is for
   * signed-in people only, throttled per person and address, and an unknown, expired, approved
   * or denied code gets the same answer as approve's, counted as a guess.
   */
  async lookup(principal: Principal, userCode: unknown, facts: Facts): Promise<PendingDeviceGrant> {
    const code = await this.#decide(principal, userCode, facts, 'device-lookup', false);
    const row = await this.#d.store.devices.getByUserCode(code, this.#d.clock.now().toISOString());
    if (row === null || row.approvedAt !== null) return this.#unknownCode(principal, facts, 'device-lookup');
    const origin = this.#origins.get(code);
    await this.#event({ kind: 'device-lookup', principalId: principal.id, sessionId: principal.credentialId, outcome: 'success' }, facts);
    return {
      userCode: shownCode(code), requestedAt: row.createdAt, expiresAt: row.expiresAt,
      requestedFrom: origin === undefined ? null : { ip: origin.ip, userAgent: origin.userAgent },
    };
  }

  /**
   * RFC 8628 §3.4-3.5: the CLI's poll. Pending, too fast, denied and expired grants answer with
   * their error; an approved grant is redeemed once, for a session bound to the key that started
   * it. A proof from another key is refused and redeems nothing.
   */
  async token(deviceCode: unknown, proof: RequestProof): Promise<DeviceTokenResult> {
    let jkt: string;
    try {
      jkt = (await verifyDpopProof({ proof: proof.dpop, method: proof.method, url: proof.url }, { clock: this.#d.clock, replay: this.#d.replay })).jkt;
    } catch (e) {
      if (!(e instanceof DpopError)) throw e;
      return this.#refuse('invalid_dpop_proof', `dpop-${e.reason}`, null, proof);
    }
    if (typeof deviceCode !== 'string') return { ok: false, error: 'invalid_request' };
    const m = DEVICE_CODE.exec(deviceCode);
    if (m === null) return this.#refuse('invalid_grant', 'unknown-code', null, proof);
    const hash = sha256(Buffer.from(m[1]!, 'base64url'));
    const now = this.#d.clock.now().toISOString();
    const polled = await this.#d.store.devices.poll(hash, now);
    if (polled === null) return this.#refuse('invalid_grant', 'unknown-code', null, proof);
    const g = polled.row;
    // Thumbprints are public values: a plain comparison leaks nothing.
    if (g.jkt !== jkt) return this.#refuse('invalid_grant', 'key-mismatch', g.approvedBy, proof);
    if (g.redeemedAt !== null) return this.#refuse('invalid_grant', 'redeemed', g.approvedBy, proof);
    if (g.expiresAt <= now) return this.#refuse('expired_token', 'expired', g.approvedBy, proof);
    if (g.deniedAt !== null) return this.#refuse('access_denied', 'denied', null, proof);
    // Still pending: the RFC's two answers, not audited (a poll every few seconds is not an event).
    if (g.approvedAt === null || g.approvedBy === null) return { ok: false, error: polled.slowDown ? 'slow_down' : 'authorization_pending' };

    if ((await this.#d.store.devices.redeem(hash, now)) === null) return this.#refuse('invalid_grant', 'redeemed', g.approvedBy, proof);
    const principal = await this.#d.store.getPrincipal(g.approvedBy);
    if (principal === null || principal.disabled) return this.#refuse('access_denied', 'disabled', g.approvedBy, proof);
    // The passkey was shown in the browser, not by this device: no step-up powers until it shows its own.
    const tokens = await this.#d.sessions.open({ principalId: principal.id, jkt: g.jkt, authMethod: 'passkey', ip: proof.ip, userAgent: proof.userAgent, fresh: false });
    await this.#event({ kind: 'device-token', principalId: principal.id, sessionId: tokens.sessionId, outcome: 'success' }, proof);
    return { ok: true, tokens };
  }

  /** Who may decide, and the normalised code; refusals are audited before they are thrown. */
  async #decide(principal: Principal, userCode: unknown, facts: Facts, kind: string, stepUp: boolean): Promise<string> {
    const sessionId = principal.authMethod === 'session' ? principal.credentialId : null;
    try {
      if (principal.authMethod !== 'session') throw forbidden('approving a device sign-in is for signed-in people');
      if (stepUp) requireStepUp(principal, this.#d.clock, 'approving a device sign-in');
    } catch (e) {
      await this.#event({ kind, reason: principal.authMethod !== 'session' ? 'not-a-person' : 'step-up', principalId: principal.id, sessionId, outcome: 'denied', errorCode: 'ERR_FORBIDDEN' }, facts);
      throw e;
    }
    this.#d.throttle.check(`device:${principal.id}`, facts.ip);
    const code = normaliseUserCode(userCode);
    if (code === null) {
      // Not counted as a guess: a code of the wrong shape can match no grant.
      await this.#event({ kind, reason: 'malformed-code', principalId: principal.id, sessionId, outcome: 'denied', errorCode: 'ERR_INVALID_INPUT' }, facts);
      throw invalidInput('enter the code the CLI shows: 8 letters, like BCDF-GHJK');
    }
    return code;
  }

  /** Unknown, expired, used and decided codes all get the same answer. */
  async #unknownCode(principal: Principal, facts: Facts, kind: string): Promise<never> {
    this.#d.throttle.failed(`device:${principal.id}`, facts.ip);
    const sessionId = principal.authMethod === 'session' ? principal.credentialId : null;
    await this.#event({ kind, reason: 'unknown-code', principalId: principal.id, sessionId, outcome: 'denied', errorCode: 'ERR_NOT_FOUND' }, facts);
    throw notFound('no sign-in is waiting for this code: check it, or start again with labkluis login');
  }

  async #refuse(error: DeviceTokenError, reason: string, principalId: string | null, proof: Facts): Promise<DeviceTokenResult> {
    await this.#event({ kind: 'device-token', reason, principalId, sessionId: null, outcome: 'denied' }, proof);
    return { ok: false, error };
  }

  /** Keeps where a start request came from, for lookup; expired entries go, and the oldest when full. */
  #remember(code: string, facts: Facts, expiresAtMs: number): void {
    const now = this.#d.clock.now().getTime();
    // One TTL for all: insertion order is expiry order, so the expired ones are at the front.
    for (const [k, v] of this.#origins) {
      if (v.expiresAtMs > now) break;
      this.#origins.delete(k);
    }
    while (this.#origins.size >= MAX_REMEMBERED_ORIGINS) this.#origins.delete(this.#origins.keys().next().value!);
    this.#origins.delete(code); // a freed code drawn again goes to the back
    this.#origins.set(code, { ip: facts.ip, userAgent: facts.userAgent?.slice(0, USER_AGENT_SHOWN) ?? null, expiresAtMs });
  }

  #newUserCode(): string {
    let out = '';
    while (out.length < 8) {
      // Rejection sampling: 240 = 12 × 20, so every letter is equally likely.
      for (const b of this.#d.random.bytes(16)) if (b < 240 && out.length < 8) out += USER_CODE_ALPHABET[b % 20];
    }
    return out;
  }

  async #event(e: Omit<AccountEvent, 'ip' | 'userAgent'>, facts: Facts): Promise<void> {
    await this.#d.events({ ...e, ip: facts.ip, userAgent: facts.userAgent });
  }
}

/** 'bcdf-ghjk', 'BCDF GHJK' and 'BCDFGHJK' are one code; anything else is null. */
export function normaliseUserCode(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 32) return null;
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  return USER_CODE.test(code) ? code : null;
}

const shownCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
