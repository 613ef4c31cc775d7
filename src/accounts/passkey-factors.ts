/**
 * A person's own passkeys (ASVS 5.0 V6.3, V6.4): list them, register another, remove one.
 * Registering and removing change how the account signs in, so both need a fresh step-up, like
 * every other factor change. An account always keeps at least one passkey: TOTP and recovery
 * codes are not phishing-resistant, so the last passkey cannot be removed (only an operator
 * reset, which starts over, takes it away). Each change is an account event in the audit log.
 *
 * A passkey is named outside by a handle, a hash of its credential id: fixed-length for URLs
 * (credential ids run up to 1023 bytes), shaped like this server's ids so the audit log keeps
 * it, and the credential id itself appears in no response, URL or log line.
 */
import { createHash } from 'node:crypto';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { requireStepUp, type Principal } from '../auth/index.js';
import { base32, conflict, forbidden, invalidInput, isLabkluisError, notFound, type Clock, type ErrorCode } from '../kernel/index.js';
import type { Passkeys } from '../passkeys/index.js';
import type { PasskeyRow, Store } from '../store/index.js';
import type { AccountEvent } from '../vault/index.js';
import type { Facts } from './sign-in.js';

/** More than anyone needs (a laptop, a phone, two security keys …); a bound on what one account can store. */
export const MAX_PASSKEYS = 10;
const HANDLE = /^[a-z2-7]{26}$/;
const REFUSALS: readonly ErrorCode[] = ['ERR_INVALID_INPUT', 'ERR_UNAUTHENTICATED', 'ERR_FORBIDDEN', 'ERR_NOT_FOUND', 'ERR_CONFLICT'];

/** What the holder sees of a passkey: never the public key, the counter or the credential id. */
export interface PasskeyView {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly transports: readonly string[];
  /** Backup eligible (a synced, multi-device passkey) and, at registration, backed up. */
  readonly synced: boolean;
  readonly backedUp: boolean;
}

export interface PasskeyFactorsDeps {
  readonly store: Store;
  readonly passkeys: Passkeys;
  readonly clock: Clock;
  readonly events: (e: AccountEvent) => Promise<void>;
}

export class PasskeyFactors {
  readonly #d: PasskeyFactorsDeps;

  constructor(deps: PasskeyFactorsDeps) {
    this.#d = deps;
  }

  /** The caller's own passkeys, oldest first. Reading one's own list needs no step-up. */
  async list(principal: Principal): Promise<PasskeyView[]> {
    signedIn(principal);
    return (await this.#d.store.passkeys.listCredentials(principal.id)).map(view);
  }

  /** Step 1 of adding a passkey: registration options that exclude the ones the account has. */
  async startAdd(principal: Principal): Promise<{ challengeId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
    this.#stepUp(principal, 'adding a passkey');
    await this.#roomForAnother(principal.id);
    const account = await this.#d.store.accounts.getAccount(principal.id);
    if (account === null) throw forbidden('passkeys belong to people with an account');
    const started = await this.#d.passkeys.startRegistration({ id: principal.id, username: account.username, displayName: principal.displayName });
    return { challengeId: started.challengeId, options: started.options };
  }

  /** Step 2: the authenticator's response for that challenge (the challenge names this principal). */
  async finishAdd(principal: Principal, input: { challengeId: unknown; credential: unknown; name: unknown }, facts: Facts): Promise<PasskeyView> {
    let row: PasskeyRow;
    try {
      this.#stepUp(principal, 'adding a passkey'); // again: the step-up may have gone stale since step 1
      if (typeof input.challengeId !== 'string') throw invalidInput('send the challengeId from the first step');
      await this.#roomForAnother(principal.id);
      row = await this.#d.passkeys.finishRegistration(principal.id, input.challengeId, input.credential, typeof input.name === 'string' ? input.name : '');
    } catch (e) {
      await this.#event('factor-added', principal, facts, null, e);
      throw e;
    }
    const out = view(row);
    await this.#event('factor-added', principal, facts, out.id);
    return out;
  }

  /**
   * Removes one of the caller's passkeys. Refused without a fresh step-up (403), for a passkey
   * that is not theirs or does not exist (404, the same answer for both), and for their last
   * one (409). Every refusal is audited as well as the removal.
   */
  async remove(principal: Principal, id: string, facts: Facts): Promise<{ removed: true; remaining: number }> {
    try {
      this.#stepUp(principal, 'removing a passkey');
      const mine = await this.#d.store.passkeys.listCredentials(principal.id);
      const target = HANDLE.test(id) ? mine.find((p) => passkeyHandle(p.credentialId) === id) : undefined;
      if (target === undefined) throw notFound('no such passkey');
      const result = await this.#d.store.passkeys.deleteCredentialUnlessLast(principal.id, target.credentialId);
      if (result === 'unknown') throw notFound('no such passkey'); // removed meanwhile by a concurrent request
      if (result === 'last') {
        throw conflict('this is the last passkey of the account: register another one before removing it (an account keeps at least one passkey)');
      }
    } catch (e) {
      await this.#event('factor-removed', principal, facts, HANDLE.test(id) ? id : null, e);
      throw e;
    }
    await this.#event('factor-removed', principal, facts, id);
    return { removed: true, remaining: (await this.#d.store.passkeys.listCredentials(principal.id)).length };
  }

  #stepUp(principal: Principal, what: string): void {
    signedIn(principal);
    requireStepUp(principal, this.#d.clock, what);
  }

  async #roomForAnother(principalId: string): Promise<void> {
    if ((await this.#d.store.passkeys.listCredentials(principalId)).length >= MAX_PASSKEYS) {
      throw conflict(`an account holds at most ${MAX_PASSKEYS} passkeys: remove one first`);
    }
  }

  /**
   * factor-added:passkey / factor-removed:passkey, the passkey's handle as the subject. A refusal
   * is recorded as denied with its code; a fault (store, audit) is left to the caller to report.
   */
  async #event(kind: 'factor-added' | 'factor-removed', principal: Principal, facts: Facts, handle: string | null, error?: unknown): Promise<void> {
    const errorCode: ErrorCode | undefined = error === undefined ? undefined : isLabkluisError(error) ? error.code : undefined;
    if (error !== undefined && (errorCode === undefined || !REFUSALS.includes(errorCode))) return;
    await this.#d.events({
      kind, reason: 'passkey', principalId: principal.id, sessionId: principal.authMethod === 'session' ? principal.credentialId : null,
      ...(handle === null ? {} : { subject: { type: 'Passkey' as const, id: handle } }),
      outcome: error === undefined ? 'success' : 'denied', ...(errorCode === undefined ? {} : { errorCode }),
      ip: facts.ip, userAgent: facts.userAgent,
    });
  }
}

/**
 * The outside name of a passkey: 128 bits of SHA-256 over its credential id, in the shape of
 * this server's ids (26 base32 letters), so the audit log keeps it in clear next to the account.
 */
export function passkeyHandle(credentialId: string): string {
  return base32(createHash('sha256').update('labkluis-passkey:').update(credentialId).digest().subarray(0, 16));
}

function view(row: PasskeyRow): PasskeyView {
  return {
    id: passkeyHandle(row.credentialId), name: row.name, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt,
    transports: [...row.transports], synced: row.deviceType === 'multiDevice', backedUp: row.backedUp,
  };
}

function signedIn(principal: Principal): void {
  if (principal.authMethod !== 'session' || principal.credentialId === null) throw forbidden('passkeys belong to signed-in people');
}
