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

export const TOTP_PERIOD_SECONDS = 30;
export const RECOVERY_CODES = 10;
const TOTP_DIGITS = 6;
const CODE = /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/;

export class Factors {
  readonly #store: Store;
  readonly #keys: DataKeys;
  readonly #cipher: RecordCipher;
  readonly #clock: Clock;
  readonly #random: Random;

  constructor(deps: { store: Store; keys: DataKeys; cipher: RecordCipher; clock: Clock; random: Random }) {
    this.#store = deps.store;
    this.#keys = deps.keys;
    this.#cipher = deps.cipher;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  /** A fresh TOTP secret to show as a QR code; nothing is stored until a code from it is confirmed. */
  async startTotp(principal: Principal): Promise<{ secret: string; uri: string }> {
    const account = await this.#totpAccount(principal);
    const secret = new Secret({ buffer: new Uint8Array(this.#random.bytes(20)).buffer });
    const totp = new TOTP({ issuer: 'labkluis', label: account.username, secret, digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, algorithm: 'SHA1' });
    return { secret: secret.base32, uri: totp.toString() };
  }

  /** Stores the secret once a current code from it proves the authenticator app holds it. */
  async confirmTotp(principal: Principal, input: { secret: unknown; code: unknown }): Promise<void> {
    await this.#totpAccount(principal);
    if (typeof input.secret !== 'string' || !/^[A-Z2-7]{32}$/.test(input.secret)) throw invalidInput('send the secret from the first step');
    const secret = Secret.fromBase32(input.secret);
    const step = this.#matchingStep(secret, input.code);
    if (step === null) throw invalidInput('that code does not match: check the time on the device and try the next code');
    const now = this.#clock.now().toISOString();
    await this.#store.safeguards.setTotp({ principalId: principal.id, secret: await this.#seal(principal.id, Buffer.from(secret.bytes)), createdAt: now, lastStep: step });
  }

  async removeTotp(principal: Principal): Promise<boolean> {
    this.#ownFactors(principal);
    return this.#store.safeguards.deleteTotp(principal.id);
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
    const secret = new Secret({ buffer: new Uint8Array(await this.#open(principalId, row.secret)).buffer });
    const step = this.#matchingStep(secret, code);
    return step !== null && (await this.#store.safeguards.useTotpStep(principalId, step));
  }

  /** Ten new recovery codes (the old ones stop working); shown once, kept as hashes only. */
  async newRecoveryCodes(principal: Principal): Promise<string[]> {
    this.#ownFactors(principal);
    const codes = Array.from({ length: RECOVERY_CODES }, () => {
      const raw = base32(this.#random.bytes(8)).slice(0, 12); // 60 bits
      return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}`;
    });
    await this.#store.safeguards.replaceRecoveryCodes(principal.id, codes.map((c) => codeHash(principal.id, c)), this.#clock.now().toISOString());
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

  async #seal(principalId: string, secret: Buffer): Promise<Buffer> {
    return this.#cipher.seal(await this.#keys.current('*', 'factor'), { tenant: '*', type: 'TotpSecret', id: principalId, version: 1 }, secret);
  }

  async #open(principalId: string, blob: Buffer): Promise<Buffer> {
    const key = await this.#keys.version('*', 'factor', this.#cipher.keyVersionOf(blob));
    return this.#cipher.open(key, { tenant: '*', type: 'TotpSecret', id: principalId, version: 1 }, blob);
  }
}

/** Recovery codes have 60 random bits: a keyed hash per person is enough (no password hash needed). */
function codeHash(principalId: string, code: string): Buffer {
  return createHmac('sha256', `labkluis-recovery:${principalId}`).update(code).digest();
}
