import type { SearchShape } from '../vault/index.js';
import type { SignalPolicy } from './policy.js';

/** The signals that make a principal's limits stricter for a while. */
export type SignalName = 'off-hours' | 'security-event' | 'new-network' | 'walking' | 'broad-search' | 'refusals';

/** What one principal has shown lately (one node's view). */
interface Seen {
  /** Until when (ms) each signal counts. */
  readonly until: Map<SignalName, number>;
  walkPrefix: string | null;
  walkLast: number;
  walkSteps: number;
  /** Times (ms) of recent broad searches, oldest first. */
  broad: number[];
  refusals: number;
  touchedAt: number;
}

/** The stricter limits' divisor and the signals behind it. */
export interface Strictness {
  readonly factor: number;
  readonly signals: readonly SignalName[];
}

const TRAILING_DIGITS = /^(.*?)(\d{1,15})$/;
const MAX_STEP = 3;
const FORGET_EVERY_MS = 10 * 60_000;

/**
 * The sentinel's softer signals (issue 4, signal list): a walk through barcodes in sequence,
 * searches that name no one, refusals in a row, a copied token, a sign-in from a new network,
 * and work outside usual hours.
 * None contains on its own; each divides the principal's patient limits by its factor while it
 * lasts, so a principal showing them is contained after fewer patients.
 *
 * This state is kept per node in memory: behind a load balancer a principal's signals are seen
 * by the node that served the request. The counts that contain (the windows) are shared through
 * the store; these only tighten them.
 */
export class Signals {
  readonly #policy: SignalPolicy;
  readonly #seen = new Map<string, Seen>();
  readonly #hourOf: Intl.DateTimeFormat | null;
  #forgotAt = 0;

  constructor(policy: SignalPolicy) {
    this.#policy = policy;
    const wh = policy.workingHours;
    this.#hourOf = wh ? new Intl.DateTimeFormat('en-GB', { timeZone: wh.timeZone, hour: 'numeric', hourCycle: 'h23', weekday: 'short' }) : null;
  }

  /** A response about to leave: looks at the search's shape; a success ends a run of refusals. */
  observe(principalId: string, role: string, query: SearchShape | null, now: number): void {
    const s = this.#of(principalId, now);
    s.refusals = 0;
    if (query === null) return;
    if (query.broad) {
      s.broad.push(now);
      const since = now - this.#policy.lastsSeconds * 1000;
      while (s.broad.length > 0 && s.broad[0]! < since) s.broad.shift();
      if (s.broad.length >= this.#policy.broadSearches) this.#mark(s, 'broad-search', now);
    }
    if (!this.#policy.walkingRoles.includes(role)) for (const value of query.identifiers) this.#step(s, value, now);
  }

  /** A refused request (not found, forbidden, bad input): many in a row is probing. */
  refused(principalId: string, now: number): void {
    const s = this.#of(principalId, now);
    s.refusals += 1;
    if (s.refusals >= this.#policy.refusalsInARow) this.#mark(s, 'refusals', now);
  }

  /** A copied token or a reused refresh token of the principal. */
  securityEvent(principalId: string, now: number): void {
    this.#mark(this.#of(principalId, now), 'security-event', now);
  }

  /** A sign-in from a network none of the principal's recent sessions came from. */
  newNetwork(principalId: string, now: number): void {
    this.#mark(this.#of(principalId, now), 'new-network', now);
  }

  /** How much stricter the principal's limits are now, and why. */
  strictness(principalId: string, now: number): Strictness {
    const signals: SignalName[] = [];
    if (this.#offHours(now)) signals.push('off-hours');
    const s = this.#seen.get(principalId);
    if (s) for (const [name, until] of s.until) if (until > now) signals.push(name);
    let factor = 1;
    for (const name of signals) factor *= this.#factorOf(name);
    return { factor, signals };
  }

  /**
   * A window's limit made stricter: divided by the factor, never below the floor (nor above
   * itself). Only windows no longer than a signal lasts: a longer one (the day) mostly holds
   * work done before the signal, which the signal says nothing about. (An evening's hour of
   * work from home would otherwise be judged with the whole day's office work at a quarter of
   * the day's limit.)
   */
  stricter(limit: number, strictness: Strictness, windowSeconds: number): number {
    if (strictness.factor === 1 || windowSeconds > this.#policy.lastsSeconds) return limit;
    return Math.min(limit, Math.max(this.#policy.floor, Math.floor(limit / strictness.factor)));
  }

  #factorOf(name: SignalName): number {
    const f = this.#policy.factors;
    switch (name) {
      case 'off-hours': return f.offHours;
      case 'security-event': return f.securityEvent;
      case 'new-network': return f.newNetwork;
      case 'walking': return f.walking;
      case 'broad-search': return f.broadSearch;
      case 'refusals': return f.refusals;
    }
  }

  #offHours(now: number): boolean {
    const wh = this.#policy.workingHours;
    if (wh === null || this.#hourOf === null) return false;
    let hour = 0;
    let weekday = 1;
    for (const part of this.#hourOf.formatToParts(new Date(now))) {
      if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'weekday') weekday = WEEKDAYS.indexOf(part.value) + 1;
    }
    return !wh.days.includes(weekday) || hour < wh.from || hour >= wh.to;
  }

  /** One barcode searched: a small step on from the last one (same prefix) extends a walk. */
  #step(s: Seen, value: string, now: number): void {
    const m = TRAILING_DIGITS.exec(value);
    if (!m) {
      s.walkPrefix = null;
      s.walkSteps = 0;
      return;
    }
    const prefix = m[1]!;
    const n = Number(m[2]);
    const step = Math.abs(n - s.walkLast);
    if (s.walkPrefix === prefix && step >= 1 && step <= MAX_STEP) s.walkSteps += 1;
    else s.walkSteps = 0;
    s.walkPrefix = prefix;
    s.walkLast = n;
    // walkSteps counts steps, so walkSteps + 1 barcodes are in the run.
    if (s.walkSteps + 1 >= this.#policy.walkSteps) this.#mark(s, 'walking', now);
  }

  #mark(s: Seen, name: SignalName, now: number): void {
    s.until.set(name, now + this.#policy.lastsSeconds * 1000);
  }

  #of(principalId: string, now: number): Seen {
    this.#forget(now);
    let s = this.#seen.get(principalId);
    if (!s) {
      s = { until: new Map(), walkPrefix: null, walkLast: 0, walkSteps: 0, broad: [], refusals: 0, touchedAt: now };
      this.#seen.set(principalId, s);
    }
    s.touchedAt = now;
    return s;
  }

  /** Drops principals not seen for longer than a signal lasts (memory stays bounded by activity). */
  #forget(now: number): void {
    if (now - this.#forgotAt < FORGET_EVERY_MS) return;
    this.#forgotAt = now;
    const before = now - this.#policy.lastsSeconds * 1000;
    for (const [id, s] of this.#seen) if (s.touchedAt < before) this.#seen.delete(id);
  }
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
