/**
 * Database rows of the sentinel part to the contract's row types, the argument checks both
 * backends run before they touch the database, and the time arithmetic of a release: its UTC
 * day, the minute and hour buckets its records, bytes and patients go into (a patient counts
 * in the buckets of its last release to the principal), and for each window the buckets that
 * cover it. Both backends compare timestamps as text, so every timestamp used in that
 * arithmetic must be canonical (Date.prototype.toISOString()).
 */
import { bufOrNull, str, strOrNull, type DbRow } from './row-mapping.js';
import type {
  CanaryRow, ContainmentRow, DailyPatientsRow, DeliveryRow, LeaseGrant, LeaseRequest, ReleaseRow, ReleaseTotals,
} from './sentinel-types.js';

/** Windows one recordRelease call may ask for: a handful (10 min, 1 h, 24 h), not a report. */
export const MAX_RELEASE_WINDOWS = 8;
/** The most containments one listContainments call returns. */
export const MAX_CONTAINMENTS = 1000;
/** The most deliveries one dueDeliveries call returns. */
export const MAX_DELIVERIES = 1000;

const CHANNELS: ReadonlySet<string> = new Set(['webhook', 'syslog']);
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;


export const toContainment = (r: DbRow): ContainmentRow => ({
  id: str(r.id), principalId: str(r.principal_id), reason: str(r.reason), alertId: strOrNull(r.alert_id),
  createdAt: str(r.created_at), liftedAt: strOrNull(r.lifted_at), liftedBy: strOrNull(r.lifted_by),
  liftNote: bufOrNull(r.lift_note),
});

export const toCanary = (r: DbRow): CanaryRow => ({
  tenant: str(r.tenant), pseudonym: str(r.pseudonym), createdAt: str(r.created_at), createdBy: str(r.created_by),
});

export const toDelivery = (r: DbRow): DeliveryRow => ({
  id: str(r.id), alertId: str(r.alert_id), channel: str(r.channel) as DeliveryRow['channel'], payload: str(r.payload),
  createdAt: str(r.created_at), attempts: Number(r.attempts), nextAttemptAt: str(r.next_attempt_at),
  deliveredAt: strOrNull(r.delivered_at), lastError: strOrNull(r.last_error),
});

export const toDailyPatients = (r: DbRow): DailyPatientsRow => ({
  principalId: str(r.principal_id), role: str(r.role), day: str(r.day), patients: Number(r.patients),
});

/**
 * One window start and the buckets whose sum is the window: the hours from hourFrom, plus
 * (sign 1) or less (sign -1) the minutes in [minuteFrom, minuteTo). With m the start of the
 * minute `since` falls in and h the start of its hour, that is either the hours from the first
 * whole hour at or after m plus the minutes from m up to that hour, or the hours from h less the
 * minutes from h up to m: whichever reads fewer minute buckets (at most 30). An hour bucket
 * holds exactly the sum of its minutes (they are written together and pruned together), so
 * either way a time counts iff it is at or after m: a patient counts in the window iff its
 * last release is, and so do a release's records and bytes.
 */
export interface WindowPlan {
  readonly since: string;
  /** m: the start of the minute `since` falls in, the first instant the window counts. */
  readonly from: string;
  readonly hourFrom: string;
  readonly minuteFrom: string;
  readonly minuteTo: string;
  readonly sign: 1 | -1;
}

/** A checked release with its day and buckets worked out. */
export interface ReleasePlan {
  readonly release: ReleaseRow;
  /** The pseudonyms, each once. */
  readonly pseudonyms: readonly string[];
  /** 'YYYY-MM-DD' and its first instant. */
  readonly day: string;
  readonly dayStart: string;
  readonly minute: string;
  readonly hour: string;
  readonly windows: readonly WindowPlan[];
  /** The lease asked for, checked; null when none. */
  readonly lease: LeaseRequest | null;
}

/** The instant of a canonical ISO-8601 UTC timestamp; anything else is a TypeError. */
export function instant(value: unknown, name: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== value) {
    throw new TypeError(`${name} must be an ISO-8601 UTC timestamp as toISOString() writes it`);
  }
  return ms;
}

const iso = (ms: number): string => new Date(ms).toISOString();
/**
 * The minute and hour buckets of a canonical timestamp of a four-digit year (a release's `at`
 * or a window start, checked by planRelease; a stored last release): the text cut at the
 * minute or the hour, as the PostgreSQL statement and the migrations cut it.
 */
export function minuteOf(at: string): string {
  return `${at.slice(0, 16)}:00.000Z`;
}
export function hourOf(at: string): string {
  return `${at.slice(0, 13)}:00:00.000Z`;
}
const floorTo = (ms: number, step: number): number => Math.floor(ms / step) * step;

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

function count(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new TypeError(`${name} must be a non-negative integer`);
  return value as number;
}

export function planRelease(release: ReleaseRow, windows: readonly string[], lease?: LeaseRequest): ReleasePlan {
  text(release.principalId, 'principalId');
  text(release.role, 'role');
  text(release.tenant, 'tenant');
  count(release.records, 'records');
  count(release.bytes, 'bytes');
  if (!Array.isArray(release.pseudonyms)) throw new TypeError('pseudonyms must be a list');
  for (const p of release.pseudonyms) text(p, 'a pseudonym');
  if (!Array.isArray(windows) || windows.length > MAX_RELEASE_WINDOWS) {
    throw new TypeError(`windows must be a list of at most ${MAX_RELEASE_WINDOWS} timestamps`);
  }
  const at = stamp(release.at, 'at');
  if (lease !== undefined) checkLease(lease, windows.length, at);
  const day = release.at.slice(0, 10);
  return {
    release,
    pseudonyms: [...new Set(release.pseudonyms)],
    day,
    dayStart: `${day}T00:00:00.000Z`,
    minute: minuteOf(release.at),
    hour: hourOf(release.at),
    windows: windows.map(planWindow),
    lease: lease ?? null,
  };
}

function checkLease(lease: LeaseRequest, windows: number, at: number): void {
  if (typeof lease !== 'object' || lease === null) throw new TypeError('a lease must be an object');
  text(lease.holder, 'a lease holder');
  if (stamp(lease.until, 'a lease end') < at) throw new TypeError('a lease must not end before the release');
  if (typeof lease.share !== 'number' || !(lease.share >= 0 && lease.share <= 1)) throw new TypeError('a lease share must be in 0..1');
  count(lease.maxPatients, 'a lease maxPatients');
  count(lease.maxBytes, 'a lease maxBytes');
  if (!Array.isArray(lease.limits) || lease.limits.length !== windows) throw new TypeError('a lease needs one limit per window');
  for (const l of lease.limits) {
    count(l?.patients, 'a lease limit');
    if (l.bytes !== null) count(l.bytes, 'a lease byte limit');
  }
}

/**
 * The grant of a lease (LeaseRequest's rule): `share` of what is left under the tightest
 * window, after the totals and the other holders' leases. The SQLite backend calls it; the
 * PostgreSQL statement computes the same in SQL.
 */
export function grantLease(lease: LeaseRequest, totals: readonly ReleaseTotals[], others: { patients: number; bytes: number }): LeaseGrant {
  let patientsLeft = Number.POSITIVE_INFINITY;
  let bytesLeft = Number.POSITIVE_INFINITY;
  lease.limits.forEach((l, i) => {
    const t = totals[i]!;
    patientsLeft = Math.min(patientsLeft, l.patients - t.patients - others.patients);
    if (l.bytes !== null) bytesLeft = Math.min(bytesLeft, l.bytes - t.bytes - others.bytes);
  });
  const grant = (left: number, max: number): number =>
    lease.share === 0 ? 0 : left === Number.POSITIVE_INFINITY ? max : Math.min(max, Math.max(0, Math.floor(lease.share * left)));
  return {
    patients: grant(patientsLeft, lease.maxPatients), bytes: grant(bytesLeft, lease.maxBytes),
    othersPatients: others.patients, othersBytes: others.bytes,
  };
}

/** toISOString()'s form for years 0000..9999 (Date.parse alone also takes '24:00' and Feb 30). */
const STAMP = /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/**
 * Checks a release time or window start: what instant() accepts, of a four-digit year (buckets
 * are cut from the text). The same check without a toISOString() per call (the release path
 * runs it for every window): the form, then a day of the month that did not overflow.
 */
function stamp(value: unknown, name: string): number {
  const ms = typeof value === 'string' && STAMP.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).getUTCDate() !== Number((value as string).slice(8, 10))) {
    throw new TypeError(`${name} must be an ISO-8601 UTC timestamp as toISOString() writes it, of a four-digit year`);
  }
  return ms;
}

function planWindow(since: string): WindowPlan {
  const ms = stamp(since, 'a window start');
  const minute = minuteOf(since);
  const hour = hourOf(since);
  const lead = floorTo(ms, MINUTE_MS) - floorTo(ms, HOUR_MS);
  if (lead === 0) return { since, from: minute, hourFrom: hour, minuteFrom: hour, minuteTo: hour, sign: 1 };
  if (lead < HOUR_MS / 2) return { since, from: minute, hourFrom: hour, minuteFrom: hour, minuteTo: minute, sign: -1 };
  const next = iso(floorTo(ms, HOUR_MS) + HOUR_MS);
  return { since, from: minute, hourFrom: next, minuteFrom: minute, minuteTo: next, sign: 1 };
}

/**
 * What pruneReleases removes: per-patient rows before `before`, and the hours that end by then
 * with their minutes (an hour and its minutes go together: a window may read an hour less some
 * of its minutes). The hour `before` falls in and its minutes stay, less the patients of the
 * removed rows they counted (those last released from hoursBefore up to `before`).
 */
export interface PrunePlan {
  readonly before: string;
  readonly hoursBefore: string;
}

export function planPrune(before: string): PrunePlan {
  const ms = instant(before, 'before');
  // An hour starting before the floor of `before` has ended by `before`.
  return { before, hoursBefore: iso(floorTo(ms, HOUR_MS)) };
}

export function checkDay(day: string): void {
  if (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new TypeError('a day is YYYY-MM-DD');
}

export function checkContainmentListing(options: { live: boolean; limit: number }): void {
  if (typeof options.live !== 'boolean') throw new TypeError('live must be a boolean');
  checkLimit(options.limit, MAX_CONTAINMENTS);
}

export function checkDeliveryLimit(limit: number): void {
  checkLimit(limit, MAX_DELIVERIES);
}

function checkLimit(limit: number, max: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) throw new TypeError(`limit must be an integer from 1 to ${max}`);
}

export function checkDelivery(d: DeliveryRow): void {
  if (!CHANNELS.has(d.channel)) throw new TypeError('channel must be webhook or syslog');
  count(d.attempts, 'attempts');
}

export function checkAttempts(attempts: number): void {
  count(attempts, 'attempts');
}

export function checkPseudonyms(pseudonyms: readonly string[]): void {
  if (!Array.isArray(pseudonyms) || !pseudonyms.every((p) => typeof p === 'string')) {
    throw new TypeError('pseudonyms must be a list of strings');
  }
}
