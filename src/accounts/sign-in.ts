/**
 * How a person gets a session: enrolment through a one-time link (choose a password, register
 * a passkey), then sign-in with the password and a passkey assertion. No session exists before
 * a second factor has been shown: a password alone opens nothing, and an account without a
 * passkey can only be enrolled through a fresh link from an admin. Every outcome is audited;
 * a wrong password and an unknown account get the same answer in the same time.
 */
import { createHash } from 'node:crypto';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Principal } from '../auth/index.js';
import { forbidden, invalidInput, LabkluisError, type Clock, type Random } from '../kernel/index.js';
import type { Passkeys } from '../passkeys/index.js';
import { verifyDpopProof, type ReplayCache, type RequestProof, type Sessions, type TokenPair } from '../sessions/index.js';
import type { EnrolmentPurpose, Store } from '../store/index.js';
import type { AccountEvent } from '../vault/index.js';
import { checkNewPassword, passwordAdvice } from './password-policy.js';
import { dummyVerify, hashPassword, verifyPassword } from './passwords.js';
import type { Factors } from './factors.js';
import type { SignInThrottle } from './throttle.js';

export const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;
const LINK_SECRET = /^[A-Za-z0-9_-]{43}$/;
const BAD_LINK = 'this enrolment link is not valid (used, expired or unknown): ask an admin for a new one';

export interface Facts {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface SignInDeps {
  readonly store: Store;
  readonly passkeys: Passkeys;
  readonly sessions: Sessions;
  readonly throttle: SignInThrottle;
  readonly replay: ReplayCache;
  readonly clock: Clock;
  readonly random: Random;
  readonly events: (event: AccountEvent) => Promise<void>;
  readonly factors: Factors;
}

export class SignIn {
  readonly #d: SignInDeps;

  constructor(deps: SignInDeps) {
    this.#d = deps;
  }

  /** A one-time link secret for a person's enrolment; only its hash is kept. */
  async createEnrolmentLink(input: { principalId: string; purpose: EnrolmentPurpose; createdBy: string | null; ttlSeconds: number }): Promise<{ secret: string; expiresAt: string }> {
    const now = this.#d.clock.now();
    const secret = this.#d.random.bytes(32);
    const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000).toISOString();
    await this.#d.store.accounts.insertEnrolmentLink({
      secretHash: sha256(secret), principalId: input.principalId, purpose: input.purpose, createdBy: input.createdBy,
      createdAt: now.toISOString(), expiresAt, usedAt: null,
    });
    return { secret: secret.toString('base64url'), expiresAt };
  }

  /** Step 1 of enrolment: the link is checked (not yet spent) and a passkey registration begins. */
  async startEnrolment(secret: string, facts: Facts): Promise<{ challengeId: string; options: PublicKeyCredentialCreationOptionsJSON; username: string }> {
    const { account, principal } = await this.#enrolling(secret, facts);
    const started = await this.#d.passkeys.startRegistration({ id: principal.id, username: account.username, displayName: principal.displayName });
    return { challengeId: started.challengeId, options: started.options, username: account.username };
  }

  /**
   * Step 2: the password is checked against the policy first (a refusal spends nothing), then
   * the link is spent, the passkey registered and the password set; the session opens bound to
   * the key that signed this request's DPoP proof.
   */
  async finishEnrolment(
    input: { secret: string; challengeId: string; password: string; credential: unknown; passkeyName: string },
    proof: RequestProof,
  ): Promise<TokenPair> {
    const { account, principal } = await this.#enrolling(input.secret, proof);
    const verdict = checkNewPassword(input.password, { userInputs: [account.username, principal.displayName] });
    if (!verdict.ok) throw invalidInput(`choose another password: ${passwordAdvice(verdict.reasons).join(' ')}`);
    const jkt = await this.#deviceKey(proof);
    const link = await this.#d.store.accounts.consumeEnrolmentLink(hashOf(input.secret), this.#d.clock.now().toISOString());
    if (link === null) throw unauthenticated(BAD_LINK);
    // One link enrols; any other unused link of this account (an older invitation) dies with it.
    await this.#d.store.accounts.voidEnrolmentLinksOf(link.principalId, this.#d.clock.now().toISOString());
    // A new link replaces everything: whatever factor or session existed may be in a thief's hands.
    await this.forgetFactors(link.principalId, { reason: 're-enrolment', sessionsEndedBecause: 're-enrolled' }, proof);
    try {
      await this.#d.passkeys.finishRegistration(link.principalId, input.challengeId, input.credential, input.passkeyName);
    } catch (e) {
      await this.#event({ kind: 'enrolment', reason: 'passkey', principalId: link.principalId, sessionId: null, outcome: 'denied' }, proof);
      throw e;
    }
    await this.#d.store.accounts.setPasswordHash(link.principalId, await hashPassword(input.password, { random: this.#d.random }), this.#d.clock.now().toISOString());
    await this.#event({ kind: 'factor-added', reason: 'passkey', principalId: link.principalId, sessionId: null, outcome: 'success' }, proof);
    return this.#d.sessions.open({ principalId: link.principalId, jkt, authMethod: 'passkey', ip: proof.ip, userAgent: proof.userAgent });
  }

  /** Step 1 of sign-in: the password. Success only starts a passkey assertion; it opens nothing. */
  async startSignIn(input: { username: unknown; password: unknown }, facts: Facts): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON; methods: string[] }> {
    if (typeof input.username !== 'string' || typeof input.password !== 'string' || input.password.length > 1024) {
      throw invalidInput('send a username and a password');
    }
    const typed = input.username.trim().toLowerCase();
    // A name that cannot exist is throttled under one key: no unbounded keys from the body.
    const username = USERNAME.test(typed) ? typed : '(invalid)';
    this.#d.throttle.check(username, facts.ip);
    // Counted before the (slow) password check, so parallel guesses cannot all slip through.
    this.#d.throttle.attempted(username);
    const account = username === typed ? await this.#d.store.accounts.findAccountByUsername(username) : null;
    const principal = account === null ? null : await this.#d.store.getPrincipal(account.principalId);
    const passwordOk = account?.passwordHash ? await verifyPassword(account.passwordHash, input.password) : await dummyVerify(input.password);
    const methods = passwordOk && principal ? await this.#methods(principal.id) : [];
    if (!passwordOk || principal === null || principal.disabled || methods.length === 0) {
      this.#d.throttle.failed(null, facts.ip); // the account's attempt was counted above
      const reason = !passwordOk ? 'password' : principal?.disabled ? 'disabled' : 'no-factor';
      await this.#event({ kind: 'sign-in', reason, principalId: passwordOk ? (principal?.id ?? null) : null, sessionId: null, outcome: 'denied' }, facts);
      throw unauthenticated('wrong username or password');
    }
    const started = await this.#d.passkeys.startAuthentication(principal.id);
    return { challengeId: started.challengeId, options: started.options, methods };
  }

  /**
   * Step 2 without a passkey: a TOTP code (where the account's policy allows TOTP) or a
   * single-use recovery code, for the challenge of step 1. The challenge is spent either way.
   */
  async finishSignInWithCode(input: { challengeId: unknown; method: unknown; code: unknown }, proof: RequestProof): Promise<TokenPair> {
    if (typeof input.challengeId !== 'string' || (input.method !== 'totp' && input.method !== 'recovery-code')) {
      throw invalidInput("send the challengeId from the first step and method 'totp' or 'recovery-code'");
    }
    const jkt = await this.#deviceKey(proof);
    const challenge = await this.#d.store.passkeys.consumeChallenge(input.challengeId, this.#d.clock.now().toISOString());
    const principalId = challenge?.purpose === 'authenticate' ? challenge.principalId : null;
    // Codes are guessable in a way passkeys are not: each guess counts against the account.
    const codeKey = `code:${principalId ?? '(none)'}`;
    this.#d.throttle.check(codeKey, proof.ip);
    this.#d.throttle.attempted(codeKey);
    const ok = principalId !== null && (input.method === 'totp'
      ? await this.#d.factors.verifyTotp(principalId, input.code)
      : await this.#d.factors.useRecoveryCode(principalId, input.code));
    const principal = ok && principalId ? await this.#d.store.getPrincipal(principalId) : null;
    if (!ok || principal === null || principal.disabled) {
      this.#d.throttle.failed(null, proof.ip);
      await this.#event({ kind: 'sign-in', reason: input.method, principalId, sessionId: null, outcome: 'denied' }, proof);
      throw unauthenticated('that code is not valid (or was used already)');
    }
    this.#d.throttle.succeeded(codeKey);
    const account = await this.#d.store.accounts.getAccount(principal.id);
    if (account !== null) this.#d.throttle.succeeded(account.username); // the password step counted an attempt
    // Not fresh: only a passkey assertion gives step-up powers (admin actions, factor changes, break-glass).
    const pair = await this.#d.sessions.open({ principalId: principal.id, jkt, authMethod: input.method, ip: proof.ip, userAgent: proof.userAgent, fresh: false });
    await this.#event({ kind: 'sign-in', reason: input.method, principalId: principal.id, sessionId: pair.sessionId, outcome: 'success' }, proof);
    if (input.method === 'recovery-code') {
      await this.#event({ kind: 'factor-used', reason: 'recovery-code', principalId: principal.id, sessionId: pair.sessionId, outcome: 'success' }, proof);
    }
    return pair;
  }

  /**
   * Takes every way into the account away: passkeys, TOTP, recovery codes, then live sessions
   * (factors first, so nobody signs in again between the two). Used when an enrolment link is
   * spent, and by the operator's reset. Returns how many of each went.
   */
  async forgetFactors(
    principalId: string,
    why: { reason: 're-enrolment' | 'operator-reset'; sessionsEndedBecause: string },
    facts: Facts,
  ): Promise<{ passkeys: number; totp: boolean; recoveryCodes: number; sessions: number }> {
    const now = this.#d.clock.now().toISOString();
    const passkeys = await this.#d.store.passkeys.listCredentials(principalId);
    for (const p of passkeys) await this.#d.store.passkeys.deleteCredential(principalId, p.credentialId);
    const totp = await this.#d.store.safeguards.deleteTotp(principalId);
    const recoveryCodes = await this.#d.store.safeguards.countRecoveryCodes(principalId);
    await this.#d.store.safeguards.replaceRecoveryCodes(principalId, [], now);
    const sessions = await this.#d.store.accounts.revokeSessionsOf(principalId, now, why.sessionsEndedBecause);
    if (passkeys.length > 0 || totp || recoveryCodes > 0 || sessions > 0) {
      await this.#event({ kind: 'factors-reset', reason: why.reason, principalId, sessionId: null, outcome: 'success' }, facts);
    }
    return { passkeys: passkeys.length, totp, recoveryCodes, sessions };
  }

  /** The second factors this account can sign in with. */
  async #methods(principalId: string): Promise<('passkey' | 'totp' | 'recovery-code')[]> {
    const out: ('passkey' | 'totp' | 'recovery-code')[] = [];
    if ((await this.#d.store.passkeys.listCredentials(principalId)).length > 0) out.push('passkey');
    if (await this.#d.factors.hasTotp(principalId)) out.push('totp');
    if ((await this.#d.factors.recoveryCodesLeft(principalId)) > 0) out.push('recovery-code');
    return out;
  }

  /** Step 2: the passkey assertion for that challenge; the session binds to this request's DPoP key. */
  async finishSignIn(input: { challengeId: unknown; credential: unknown }, proof: RequestProof): Promise<TokenPair> {
    if (typeof input.challengeId !== 'string') throw invalidInput('send the challengeId from the first step');
    const jkt = await this.#deviceKey(proof);
    let principalId: string;
    try {
      principalId = (await this.#d.passkeys.finishAuthentication(input.challengeId, input.credential)).principalId;
    } catch (e) {
      await this.#event({ kind: 'sign-in', reason: 'passkey', principalId: null, sessionId: null, outcome: 'denied' }, proof);
      throw e;
    }
    const principal = await this.#d.store.getPrincipal(principalId);
    const account = await this.#d.store.accounts.getAccount(principalId);
    if (principal === null || principal.disabled || account === null) {
      await this.#event({ kind: 'sign-in', reason: 'disabled', principalId, sessionId: null, outcome: 'denied' }, proof);
      throw unauthenticated('wrong username or password');
    }
    this.#d.throttle.succeeded(account.username);
    const pair = await this.#d.sessions.open({ principalId, jkt, authMethod: 'passkey', ip: proof.ip, userAgent: proof.userAgent });
    await this.#event({ kind: 'sign-in', principalId, sessionId: pair.sessionId, outcome: 'success' }, proof);
    return pair;
  }

  /** Step-up: a fresh passkey assertion inside a live session (for admin actions, exports, break-glass). */
  async startStepUp(principal: Principal): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    if (principal.authMethod !== 'session') throw forbidden('step-up is for signed-in people');
    const started = await this.#d.passkeys.startAuthentication(principal.id);
    return { challengeId: started.challengeId, options: started.options };
  }

  /**
   * Step 2: the assertion for that challenge. A re-authentication gets new tokens (ASVS 5.0
   * 7.2.4): the session is replaced by a new one on the same device key (Sessions.renew), and
   * the tokens held before stop working at once. A refused assertion changes nothing.
   */
  async finishStepUp(principal: Principal, input: { challengeId: unknown; credential: unknown }, facts: Facts): Promise<{ authenticatedAt: string; tokens: TokenPair }> {
    if (principal.authMethod !== 'session' || principal.credentialId === null) throw forbidden('step-up is for signed-in people');
    if (typeof input.challengeId !== 'string') throw invalidInput('send the challengeId from the first step');
    try {
      await this.#d.passkeys.finishAuthentication(input.challengeId, input.credential, principal.id);
    } catch (e) {
      await this.#event({ kind: 'step-up', reason: 'passkey', principalId: principal.id, sessionId: principal.credentialId, outcome: 'denied' }, facts);
      throw e;
    }
    const at = this.#d.clock.now().toISOString();
    const tokens = await this.#d.sessions.renew(principal.credentialId, { reason: 'step-up', authenticatedAt: at, authMethod: 'passkey' }, facts);
    // Recorded under the session the assertion was made in, as before; the renewal's own entries
    // ('session-revoked:replaced-at-step-up' for it, 'session-opened:step-up' for the new one) come just before.
    await this.#event({ kind: 'step-up', principalId: principal.id, sessionId: principal.credentialId, outcome: 'success' }, facts);
    return { authenticatedAt: at, tokens };
  }

  /** The thumbprint of the key that signed this request's proof: the device the session will be bound to. */
  async #deviceKey(proof: RequestProof): Promise<string> {
    return (await verifyDpopProof({ proof: proof.dpop, method: proof.method, url: proof.url }, { clock: this.#d.clock, replay: this.#d.replay })).jkt;
  }

  /** The person a live (unspent, unexpired) enrolment link is for; a refusal otherwise, audited. */
  async #enrolling(secret: unknown, facts: Facts) {
    const link = typeof secret === 'string' && LINK_SECRET.test(secret) ? await this.#d.store.accounts.getEnrolmentLink(hashOf(secret)) : null;
    const live = link !== null && link.usedAt === null && link.expiresAt > this.#d.clock.now().toISOString();
    const account = live ? await this.#d.store.accounts.getAccount(link.principalId) : null;
    const principal = live ? await this.#d.store.getPrincipal(link.principalId) : null;
    if (account === null || principal === null || principal.disabled) {
      await this.#event({ kind: 'enrolment', reason: 'link', principalId: null, sessionId: null, outcome: 'denied' }, facts);
      throw unauthenticated(BAD_LINK);
    }
    return { account, principal };
  }

  async #event(e: Omit<AccountEvent, 'ip' | 'userAgent'>, facts: Facts): Promise<void> {
    await this.#d.events({ ...e, ip: facts.ip, userAgent: facts.userAgent });
  }
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const hashOf = (secret: string): Buffer => sha256(Buffer.from(secret, 'base64url'));
const unauthenticated = (message: string): LabkluisError => new LabkluisError('ERR_UNAUTHENTICATED', message);
