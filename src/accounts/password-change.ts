/**
 * A signed-in person changes their own password (OWASP ASVS 5.0 V6.2.2, V6.2.3, V7.4.3). It is
 * a factor change, so it needs a fresh passkey assertion (step-up) like every other; it also
 * needs the current password, and guesses at that count against the same per-account budget as
 * sign-in (SignInThrottle keyed by username), so a session cannot be used to brute-force it.
 * The new password meets the same policy as at enrolment and differs from the current one.
 * Afterwards every other session of the account ends (the one asking stays), and the change is
 * audited as 'factor-changed:password'; so is every refusal.
 */
import { requireStepUp, type Principal } from '../auth/index.js';
import { forbidden, invalidInput, isLabkluisError, type Clock, type ErrorCode, type Random } from '../kernel/index.js';
import type { Sessions } from '../sessions/index.js';
import type { Store } from '../store/index.js';
import type { AccountEvent } from '../vault/index.js';
import { checkNewPassword, passwordAdvice } from './password-policy.js';
import { dummyVerify, hashPassword, verifyPassword } from './passwords.js';
import type { Facts } from './sign-in.js';
import type { SignInThrottle } from './throttle.js';

/** What sign-in accepts as a password at most; longer never verified, so it is not worth hashing. */
const MAX_TYPED_PASSWORD = 1024;
const REFUSALS: readonly ErrorCode[] = ['ERR_INVALID_INPUT', 'ERR_FORBIDDEN', 'ERR_RATE_LIMITED'];

export interface PasswordChangeDeps {
  readonly store: Store;
  readonly sessions: Sessions;
  /** The sign-in throttle itself: one budget of guesses per account, whichever route they come through. */
  readonly throttle: SignInThrottle;
  readonly clock: Clock;
  readonly random: Random;
  readonly events: (e: AccountEvent) => Promise<void>;
}

export class PasswordChange {
  readonly #d: PasswordChangeDeps;

  constructor(deps: PasswordChangeDeps) {
    this.#d = deps;
  }

  /**
   * Refused without a fresh step-up or as an API token (403), for a new password the policy
   * refuses or one equal to the current (400, nothing changes and no guess is counted), for a
   * wrong current password (403, counted), and while the account must wait (429).
   */
  async change(principal: Principal, input: { currentPassword: unknown; newPassword: unknown }, facts: Facts): Promise<{ sessionsEnded: number }> {
    try {
      if (principal.authMethod !== 'session' || principal.credentialId === null) throw forbidden('a password belongs to a signed-in person');
      requireStepUp(principal, this.#d.clock, 'changing your password');
      const { currentPassword, newPassword } = input;
      if (typeof currentPassword !== 'string' || typeof newPassword !== 'string' || currentPassword.length === 0 || currentPassword.length > MAX_TYPED_PASSWORD) {
        throw invalidInput('send currentPassword and newPassword');
      }
      const account = await this.#d.store.accounts.getAccount(principal.id);
      if (account === null) throw forbidden('a password belongs to a person with an account');
      // The policy first: a refusal here says nothing about the current password and spends no guess.
      const verdict = checkNewPassword(newPassword, { userInputs: [account.username, principal.displayName] });
      if (!verdict.ok) throw invalidInput(`choose another password: ${passwordAdvice(verdict.reasons).join(' ')}`);
      if (newPassword.normalize('NFC') === currentPassword.normalize('NFC')) throw invalidInput('the new password must differ from the current one');
      this.#d.throttle.check(account.username, facts.ip);
      // Counted before the (slow) check, as at sign-in, so parallel guesses cannot all slip through.
      this.#d.throttle.attempted(account.username);
      const ok = account.passwordHash === null ? await dummyVerify(currentPassword) : await verifyPassword(account.passwordHash, currentPassword);
      if (!ok) {
        this.#d.throttle.failed(null, facts.ip); // the account's attempt was counted above
        throw forbidden('the password was not changed: the current password is not right');
      }
      this.#d.throttle.succeeded(account.username);
      const now = this.#d.clock.now().toISOString();
      await this.#d.store.accounts.setPasswordHash(principal.id, await hashPassword(newPassword, { random: this.#d.random }), now);
      // Whoever else holds a session may have come in with the old password: they are out (V7.4.3).
      const sessionsEnded = await this.#d.sessions.revokeOthersOf(principal.id, principal.credentialId, 'password-changed', facts);
      await this.#event(principal, facts);
      return { sessionsEnded };
    } catch (e) {
      if (isLabkluisError(e) && REFUSALS.includes(e.code)) await this.#event(principal, facts, e.code);
      throw e;
    }
  }

  async #event(principal: Principal, facts: Facts, errorCode?: ErrorCode): Promise<void> {
    await this.#d.events({
      kind: 'factor-changed', reason: 'password', principalId: principal.id,
      sessionId: principal.authMethod === 'session' ? principal.credentialId : null,
      outcome: errorCode === undefined ? 'success' : 'denied', ...(errorCode === undefined ? {} : { errorCode }),
      ip: facts.ip, userAgent: facts.userAgent,
    });
  }
}
