/**
 * Request rate limits on the public /auth routes, per client network (ASVS 5.0 V2.4.1
 * anti-automation): the steps before a session exists can be called by anyone, so each client
 * network (an IPv4 address, an IPv6 /64) gets a budget per route group. This sits in front of
 * the sign-in back-off (accounts/throttle.ts), which counts failures per account name; this
 * counts every request, before its body is read, and a refusal changes nothing (no audit entry,
 * no challenge, no replay-cache entry).
 *
 * The algorithm is GCRA (a token bucket kept as one number per client): `limit` requests may
 * come at once, after that one every window/limit. Time comes from the injected clock.
 *
 * Kept in this node's memory: with several nodes each counts what reaches it, so a client may
 * get up to `nodes × limit` through a load balancer that spreads its requests.
 */
import { clientNetwork, RateLimitedError, type Clock } from '../kernel/index.js';

export const PUBLIC_ROUTE_GROUPS = ['enrol', 'sign-in', 'token', 'device', 'auth', 'proofs'] as const;
/**
 * 'auth' is every public /auth route not in another group (a route added later is limited too);
 * 'proofs' the audit log's public checkpoint and consistency proofs, and drill reports (backup-routes.ts).
 */
export type PublicRouteGroup = (typeof PUBLIC_ROUTE_GROUPS)[number];

export interface RateLimitRules {
  /** Requests per client network per window, per route group. */
  readonly limits: Readonly<Record<PublicRouteGroup, number>>;
  readonly windowSeconds: number;
  /** (group, network) pairs tracked at most; over it the least recently seen are forgotten. */
  readonly maxTracked: number;
}

/** App options: any part of the rules, the rest from the defaults. */
export interface RateLimitOptions {
  readonly limits?: Partial<Record<PublicRouteGroup, number>>;
  readonly windowSeconds?: number;
  readonly maxTracked?: number;
}

/**
 * 30 a minute for enrolment and sign-in (a person needs two or three requests per sign-in);
 * 60 for refreshes (each session refreshes every few minutes, and a lab's staff often share
 * one NAT address) and for the CLI's device grant (polling every 5 s, RFC 8628 §3.5); 30 for
 * the audit log's public proofs and drill reports (a drill asks for three).
 */
export const DEFAULT_RATE_LIMITS: RateLimitRules = Object.freeze({
  limits: Object.freeze({ enrol: 30, 'sign-in': 30, token: 60, device: 60, auth: 30, proofs: 30 }),
  windowSeconds: 60,
  maxTracked: 100_000,
});

/** Body limit on the JSON /auth routes: far above a WebAuthn attestation (a TPM chain is a few KiB). */
export const AUTH_BODY_LIMIT_BYTES = 16 * 1024;

/** The group a public /auth route counts against. */
export function publicRouteGroup(url: string): PublicRouteGroup {
  const under = (prefix: string) => url === prefix || url.startsWith(`${prefix}/`);
  if (under('/auth/enrol')) return 'enrol';
  if (under('/auth/sign-in')) return 'sign-in';
  if (url === '/auth/token') return 'token';
  if (under('/auth/device')) return 'device';
  return 'auth';
}

const MAX_LIMIT = 1000; // keeps limit × epoch milliseconds an exact integer (< 2^53)

export class PublicRateLimiter {
  readonly #clock: Clock;
  readonly #rules: RateLimitRules;
  /**
   * Per `group|network`: the theoretical arrival time, in milliseconds × limit so that all
   * arithmetic is exact; and when the client's budget is whole again. Map order is least
   * recently admitted first (an admitted request re-inserts its entry).
   */
  readonly #entries = new Map<string, { tat: number; freeAt: number }>();

  constructor({ clock, ...options }: RateLimitOptions & { clock: Clock }) {
    const rules: RateLimitRules = Object.freeze({
      limits: Object.freeze({ ...DEFAULT_RATE_LIMITS.limits, ...options.limits }),
      windowSeconds: options.windowSeconds ?? DEFAULT_RATE_LIMITS.windowSeconds,
      maxTracked: options.maxTracked ?? DEFAULT_RATE_LIMITS.maxTracked,
    });
    for (const group of PUBLIC_ROUTE_GROUPS) {
      const n = rules.limits[group];
      if (!Number.isSafeInteger(n) || n < 1 || n > MAX_LIMIT) throw new TypeError(`the rate limit for ${group} is an integer 1..${MAX_LIMIT}`);
    }
    if (!Number.isSafeInteger(rules.windowSeconds) || rules.windowSeconds < 1 || rules.windowSeconds > 86_400) throw new TypeError('windowSeconds is an integer 1..86400');
    if (!Number.isSafeInteger(rules.maxTracked) || rules.maxTracked < 1) throw new TypeError('maxTracked is a positive integer');
    this.#clock = clock;
    this.#rules = rules;
  }

  get rules(): RateLimitRules {
    return this.#rules;
  }

  /** How many (group, network) pairs are being counted (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Counts one request from `address` to `group`; throws RateLimitedError (ERR_RATE_LIMITED,
   * with the wait) when the budget is spent. A refused request is not counted.
   */
  take(group: PublicRouteGroup, address: string): void {
    const now = this.#clock.now().getTime();
    this.#forget(now);
    const limit = this.#rules.limits[group];
    const windowMs = this.#rules.windowSeconds * 1000;
    const key = `${group}|${clientNetwork(address)}`;
    // GCRA: each request moves the arrival time on by window/limit (here: windowMs, scaled by
    // limit); a request is admitted while that time stays within one window of now.
    const next = Math.max(this.#entries.get(key)?.tat ?? 0, now * limit) + windowMs;
    const earliest = next - windowMs * limit; // when this request would fit, × limit
    if (earliest > now * limit) throw new RateLimitedError('too many requests from this network', Math.ceil(earliest / limit) - now);
    this.#entries.delete(key);
    this.#entries.set(key, { tat: next, freeAt: Math.ceil(next / limit) });
    while (this.#entries.size > this.#rules.maxTracked) this.#dropOldest();
  }

  /**
   * Drops entries whose budget is whole again, oldest first, stopping at the first that is not:
   * each entry is looked at about once. An entry was admitted at most a window before its
   * freeAt, so anything left lingers at most a window longer than it must.
   */
  #forget(now: number): void {
    for (const [key, e] of this.#entries) {
      if (e.freeAt > now) return;
      this.#entries.delete(key);
    }
  }

  #dropOldest(): void {
    // Forgetting a client that is still counted gives it a fresh budget: the lesser harm than
    // refusing every new network once someone with many /64s has filled the table.
    const first = this.#entries.keys().next();
    if (!first.done) this.#entries.delete(first.value);
  }
}
