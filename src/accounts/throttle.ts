/**
 * Back-off on failed sign-ins, per account name and per network address (ASVS 5.0 V6.3).
 * A few free attempts, then each further failure doubles the wait, up to a ceiling. An
 * account name is throttled whether or not it exists, so the answer never tells which do.
 * Kept in this node's memory: several nodes each throttle what reaches them.
 */
import { clientNetwork, LabkluisError, type Clock } from '../kernel/index.js';

export interface ThrottleRule {
  readonly freeAttempts: number;
  readonly firstDelaySeconds: number;
  readonly maxDelaySeconds: number;
  /** Failures are forgotten this long after the last one. */
  readonly forgetSeconds: number;
}

export const ACCOUNT_RULE: ThrottleRule = Object.freeze({ freeAttempts: 5, firstDelaySeconds: 2, maxDelaySeconds: 900, forgetSeconds: 3600 });
export const ADDRESS_RULE: ThrottleRule = Object.freeze({ freeAttempts: 20, firstDelaySeconds: 2, maxDelaySeconds: 900, forgetSeconds: 3600 });

interface Entry { failures: number; lastAt: number; blockedUntil: number }

export class SignInThrottle {
  readonly #clock: Clock;
  readonly #rules: { readonly account: ThrottleRule; readonly address: ThrottleRule };
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;

  constructor(deps: { clock: Clock; account?: ThrottleRule; address?: ThrottleRule; maxEntries?: number }) {
    this.#clock = deps.clock;
    this.#rules = { account: deps.account ?? ACCOUNT_RULE, address: deps.address ?? ADDRESS_RULE };
    this.#maxEntries = deps.maxEntries ?? 100_000;
  }

  /** How many names and addresses are being counted (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** Throws ERR_RATE_LIMITED when either the account name or the address must wait. */
  check(account: string, address: string | null): void {
    const now = this.#clock.now().getTime();
    const wait = Math.max(this.#waitMs(`a:${account}`, now), address === null ? 0 : this.#waitMs(`n:${addressKey(address)}`, now));
    if (wait > 0) throw new LabkluisError('ERR_RATE_LIMITED', `too many failed sign-ins: try again in ${Math.ceil(wait / 1000)} s`);
  }

  /**
   * Counts an attempt on an account name before it is checked; a success clears it again
   * (succeeded). Counting first means parallel guesses cannot all pass the check.
   */
  attempted(account: string): void {
    this.#bump(`a:${account}`, this.#rules.account, this.#clock.now().getTime());
  }

  /** A failure: counts against the account name (unless already counted) and the address. */
  failed(account: string | null, address: string | null): void {
    const now = this.#clock.now().getTime();
    if (account !== null) this.#bump(`a:${account}`, this.#rules.account, now);
    if (address !== null) this.#bump(`n:${addressKey(address)}`, this.#rules.address, now);
  }

  /** A successful sign-in clears the account's count (not the address's). */
  succeeded(account: string): void {
    this.#entries.delete(`a:${account}`);
  }

  #waitMs(key: string, now: number): number {
    const e = this.#entries.get(key);
    return e === undefined ? 0 : Math.max(0, e.blockedUntil - now);
  }

  #bump(key: string, rule: ThrottleRule, now: number): void {
    let e = this.#entries.get(key);
    if (e !== undefined && now - e.lastAt >= rule.forgetSeconds * 1000) e = undefined;
    const failures = (e?.failures ?? 0) + 1;
    const over = failures - rule.freeAttempts;
    const delay = over <= 0 ? 0 : Math.min(rule.maxDelaySeconds, rule.firstDelaySeconds * 2 ** (over - 1)) * 1000;
    this.#entries.delete(key); // re-insert: the Map's order is then least recently failed first
    this.#entries.set(key, { failures, lastAt: now, blockedUntil: now + delay });
    this.#prune(now);
  }

  #prune(now: number): void {
    const forget = Math.max(this.#rules.account.forgetSeconds, this.#rules.address.forgetSeconds) * 1000;
    for (const [key, e] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && now - e.lastAt < forget) break;
      // Over the cap the oldest go first; a blocked entry is kept while its block lasts.
      if (e.blockedUntil > now && this.#entries.size <= this.#maxEntries * 2) break;
      this.#entries.delete(key);
    }
  }
}

/** IPv6 addresses count per /64 (one customer's network); IPv4 per address. */
const addressKey = clientNetwork;
