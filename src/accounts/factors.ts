/**
 * Second factors besides passkeys (ASVS 5.0 V6.5, V6.6): TOTP (RFC 6238), only for accounts an
 * admin's policy allows it for, its secret sealed at rest and each code accepted once; and ten
 * single-use recovery codes, stored as hashes, shown once. No SMS. Changing one's own factors
 * needs a fresh passkey assertion (step-up).
 */
import { createHmac } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { requireStepUp, type Principal } from '../auth/index.js';
import type { DataKeys, RecordCipher } from '../crypto/index.js';
import { base32, forbidden, invalidInput, type Clock, type Random } from '../kernel/index.js';
import type { Store } from '../store/index.js';
import type { AccountEvent } from '../vault/index.js';
import type { Facts } from './sign-in.js';

export const TOTP_PERIOD_SECONDS = 30;
export const RECOVERY_CODES = 10;
const TOTP_DIGITS = 6;
/** 120 random bits in six groups of four base32 letters: strong enough for a plain keyed hash (ASVS V6.5.2). */
const CODE = /^[a-z2-7]{4}(?:-[a-z2-7]{4}){5}$/;
/** A TOTP secret shown but not yet confirmed travels sealed in this ticket, for at most 10 minutes. */
const TICKET_SECONDS = 600;

export class Factors {
  readonly #store: Store;
  readonly #keys: DataKeys;
  readonly #cipher: RecordCipher;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #events: (e: AccountEvent) => Promise<void>;

  constructor(deps: { store: Store; keys: DataKeys; cipher: RecordCipher; clock: Clock; random: Random; events: (e: AccountEvent) => Promise<void> }) {
    this.#events = deps.events;
    this.#store = deps.store;
    this.#keys = deps.keys;
    this.#cipher = deps.cipher;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  /**
   * A fresh TOTP secret to show as a QR code. Nothing is stored yet: the secret also travels in a
   * sealed ticket, so only a secret this server made can be confirmed (never one the client picks).
   */
  async startTotp(principal: Principal): Promise<{ secret: string; uri: string; ticket: string }> {
    const account = await this.#totpAccount(principal);
    const raw = this.#random.bytes(20);
    const secret = new Secret({ buffer: new Uint8Array(raw).buffer });
    const totp = new TOTP({ issuer: 'labkluis', label: account.username, secret, digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, algorithm: 'SHA1' });
    const expires = Buffer.alloc(8);
    expires.writeBigUInt64BE(BigInt(this.#clock.now().getTime() + TICKET_SECONDS * 1000));
    const ticket = (await this.#seal(principal.id, Buffer.concat([expires, raw]), 'TotpTicket')).toString('base64url');
    return { secret: secret.base32, uri: totp.toString(), ticket };
  }

  /** Stores the secret once a current code from it proves the authenticator app holds it. */
  async confirmTotp(principal: Principal, input: { ticket: unknown; code: unknown }, facts: Facts): Promise<void> {
    await this.#totpAccount(principal);
    let raw: Buffer;
    try {
      if (typeof input.ticket !== 'string' || input.ticket.length > 512) throw new Error('shape');
      const plain = await this.#open(principal.id, Buffer.from(input.ticket, 'base64url'), 'TotpTicket');
      if (plain.length !== 28 || Number(plain.readBigUInt64BE(0)) <= this.#clock.now().getTime()) throw new Error('expired');
      raw = plain.subarray(8);
    } catch {
      throw invalidInput('start again: this TOTP set-up has expired or is not yours');
    }
    const secret = new Secret({ buffer: new Uint8Array(raw).buffer });
    const step = this.#matchingStep(secret, input.code);
    if (step === null) throw invalidInput('that code does not match: check the time on the device and try the next code');
    const now = this.#clock.now().toISOString();
    await this.#store.safeguards.setTotp({ principalId: principal.id, secret: await this.#seal(principal.id, raw, 'TotpSecret'), createdAt: now, lastStep: step });
    await this.#event('factor-added', 'totp', principal, facts);
  }

  async removeTotp(principal: Principal, facts: Facts): Promise<boolean> {
    this.#ownFactors(principal);
    const removed = await this.#store.safeguards.deleteTotp(principal.id);
    if (removed) await this.#event('factor-removed', 'totp', principal, facts);
    return removed;
  }

  /** Whether the account may and does use TOTP as its second factor. */
  async hasTotp(principalId: string): Promise<boolean> {
    const account = await this.#store.accounts.getAccount(principalId);
    return account !== null && account.totpAllowed && (await this.#store.safeguards.getTotp(principalId)) !== null;
  }

  /** Checks a sign-in code: right now (±1 step), never a code already accepted. */
  async verifyTotp(principalId: string, code: unknown): Promise<boolean> {
    if (!(await this.hasTotp(principalId))) return false;
    const row = await this.#store.safeguards.getTotp(principalId);
    if (row === null) return false;
    const secret = new Secret({ buffer: new Uint8Array(await this.#open(principalId, row.secret, 'TotpSecret')).buffer });
    const step = this.#matchingStep(secret, code);
    return step !== null && (await this.#store.safeguards.useTotpStep(principalId, step));
  }

  /** Ten new recovery codes (the old ones stop working); shown once, kept as hashes only. */
  async newRecoveryCodes(principal: Principal, facts: Facts): Promise<string[]> {
    this.#ownFactors(principal);
    const codes = Array.from({ length: RECOVERY_CODES }, () => {
      const raw = base32(this.#random.bytes(15)); // 120 bits, 24 letters
      return raw.match(/.{4}/g)!.join('-');
    });
    await this.#store.safeguards.replaceRecoveryCodes(principal.id, codes.map((c) => codeHash(principal.id, c)), this.#clock.now().toISOString());
    await this.#event('factor-added', 'recovery-codes', principal, facts);
    return codes;
  }

  /** Spends a recovery code at sign-in; true exactly once per code. */
  async useRecoveryCode(principalId: string, code: unknown): Promise<boolean> {
    if (typeof code !== 'string') return false;
    const normal = code.trim().toLowerCase();
    if (!CODE.test(normal)) return false;
    return this.#store.safeguards.useRecoveryCode(principalId, codeHash(principalId, normal), this.#clock.now().toISOString());
  }

  async recoveryCodesLeft(principalId: string): Promise<number> {
    return this.#store.safeguards.countRecoveryCodes(principalId);
  }

  #matchingStep(secret: Secret, code: unknown): number | null {
    if (typeof code !== 'string' || !/^\d{6}$/.test(code)) return null;
    const timestamp = this.#clock.now().getTime();
    const delta = TOTP.validate({ token: code, secret, digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, algorithm: 'SHA1', timestamp, window: 1 });
    return delta === null ? null : Math.floor(timestamp / 1000 / TOTP_PERIOD_SECONDS) + delta;
  }

  async #totpAccount(principal: Principal) {
    this.#ownFactors(principal);
    const account = await this.#store.accounts.getAccount(principal.id);
    if (account === null || !account.totpAllowed) throw forbidden("TOTP is not allowed for this account by the lab's policy: use a passkey");
    return account;
  }

  #ownFactors(principal: Principal): void {
    requireStepUp(principal, this.#clock, 'changing your sign-in factors');
    if (principal.authMethod !== 'session') throw forbidden('factors belong to signed-in people');
  }

  async #seal(principalId: string, plain: Buffer, type: 'TotpSecret' | 'TotpTicket'): Promise<Buffer> {
    return this.#cipher.seal(await this.#keys.current('*', 'factor'), { tenant: '*', type, id: principalId, version: 1 }, plain);
  }

  async #open(principalId: string, blob: Buffer, type: 'TotpSecret' | 'TotpTicket'): Promise<Buffer> {
    const key = await this.#keys.version('*', 'factor', this.#cipher.keyVersionOf(blob));
    return this.#cipher.open(key, { tenant: '*', type, id: principalId, version: 1 }, blob);
  }

  async #event(kind: string, reason: string, principal: Principal, facts: Facts): Promise<void> {
    await this.#events({ kind, reason, principalId: principal.id, sessionId: principal.credentialId, outcome: 'success', ip: facts.ip, userAgent: facts.userAgent });
  }
}

/** Recovery codes have 120 random bits: a hash bound to the person is enough (no password hash needed). */
function codeHash(principalId: string, code: string): Buffer {
  return createHmac('sha256', `labkluis-recovery:${principalId}`).update(code).digest();
}
