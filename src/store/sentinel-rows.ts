/**
 * Database rows of the sentinel part to the contract's row types, the argument checks both
 * backends run before they touch the database, and the time arithmetic of a release: its UTC
 * day, the minute and hour buckets its records and bytes go into, and for each window the
 * buckets that cover it. Both backends compare timestamps as text, so every timestamp used in
 * that arithmetic must be canonical (Date.prototype.toISOString()).
 */
import { bufOrNull, str, strOrNull, type DbRow } from './row-mapping.js';
import type {
  CanaryRow, ContainmentRow, DailyPatientsRow, DeliveryRow, ReleaseRow,
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

/** One window start and the buckets that cover it: minutes in [minuteFrom, hourFrom), hours from hourFrom. */
export interface WindowPlan {
  readonly since: string;
  readonly minuteFrom: string;
  readonly hourFrom: string;
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
const floorTo = (ms: number, step: number): number => Math.floor(ms / step) * step;

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

function count(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new TypeError(`${name} must be a non-negative integer`);
  return value as number;
}

export function planRelease(release: ReleaseRow, windows: readonly string[]): ReleasePlan {
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
  const at = instant(release.at, 'at');
  const day = release.at.slice(0, 10);
  return {
    release,
    pseudonyms: [...new Set(release.pseudonyms)],
    day,
    dayStart: `${day}T00:00:00.000Z`,
    minute: iso(floorTo(at, MINUTE_MS)),
    hour: iso(floorTo(at, HOUR_MS)),
    windows: windows.map((since) => {
      const minuteFrom = floorTo(instant(since, 'a window start'), MINUTE_MS);
      // The first whole hour at or after the window's first minute.
      const hourFrom = Math.ceil(minuteFrom / HOUR_MS) * HOUR_MS;
      return { since, minuteFrom: iso(minuteFrom), hourFrom: iso(hourFrom) };
    }),
  };
}

/** What pruneReleases removes: per-patient rows before `before`, and buckets that end by then. */
export interface PrunePlan {
  readonly before: string;
  readonly minutesBefore: string;
  readonly hoursBefore: string;
}

export function planPrune(before: string): PrunePlan {
  const ms = instant(before, 'before');
  // A bucket starting before the floor of `before` has ended by `before`.
  return { before, minutesBefore: iso(floorTo(ms, MINUTE_MS)), hoursBefore: iso(floorTo(ms, HOUR_MS)) };
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
