/**
 * FHIR date, dateTime and instant (FHIR R4 §2.24.0.1 primitive types) and their meaning as
 * half-open time ranges, used by validation, search ranges and index dates.
 *
 * A date without a time has no zone; labkluis reads it in Europe/Amsterdam, where its labs and
 * requesters are. Times must carry a zone (FHIR: "If hours and minutes are specified, a time
 * zone SHALL be populated").
 */

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?(Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))$/;

export const NL_TIME_ZONE = 'Europe/Amsterdam';

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** FHIR date: YYYY, YYYY-MM or YYYY-MM-DD, and a real calendar day. */
export function isFhirDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 12)) return false;
  if (m[3] !== undefined && !validDay(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
  return Number(m[1]) >= 1;
}

/** FHIR instant: a full date and time with seconds and a zone. */
export function isFhirInstant(value: string): boolean {
  const m = DATETIME_RE.exec(value);
  return m !== null && validDay(Number(m[1]), Number(m[2]), Number(m[3])) && Number(m[1]) >= 1;
}

/** FHIR dateTime: a date (any precision) or a full instant. */
export function isFhirDateTime(value: string): boolean {
  return isFhirDate(value) || isFhirInstant(value);
}

/** Offset of Europe/Amsterdam from UTC at the given UTC instant, in ms. */
// Formatters are immutable and costly to build, so they are made once.
const NL_PARTS = new Intl.DateTimeFormat('en-US', {
  timeZone: NL_TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const NL_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: NL_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });

function zoneOffsetMs(utcMs: number): number {
  const parts = NL_PARTS.formatToParts(new Date(utcMs));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** UTC ms of local midnight starting the given civil day in Europe/Amsterdam. */
function zonedMidnight(y: number, m: number, d: number): number {
  const guess = Date.UTC(y, m - 1, d);
  const first = guess - zoneOffsetMs(guess);
  return guess - zoneOffsetMs(first);
}

/** The half-open range [start, end) in UTC ms that a FHIR date or dateTime denotes. */
export function timeRange(value: string): { start: number; end: number } | undefined {
  const dt = DATETIME_RE.exec(value);
  if (dt) {
    if (!isFhirInstant(value)) return undefined;
    const start = Date.parse(value);
    const fraction = dt[7];
    // Precision: a second, or the stated fraction (capped at ms, what Date keeps).
    const step = fraction === undefined ? 1000 : Math.max(1, 10 ** (3 - Math.min(3, fraction.length - 1)));
    return Number.isFinite(start) ? { start, end: start + step } : undefined;
  }
  const d = DATE_RE.exec(value);
  if (!d || !isFhirDate(value)) return undefined;
  const y = Number(d[1]);
  if (d[2] === undefined) return { start: zonedMidnight(y, 1, 1), end: zonedMidnight(y + 1, 1, 1) };
  const m = Number(d[2]);
  if (d[3] === undefined) {
    const [ny, nm] = m === 12 ? [y + 1, 1] : [y, m + 1];
    return { start: zonedMidnight(y, m, 1), end: zonedMidnight(ny, nm, 1) };
  }
  const day = Number(d[3]);
  const next = new Date(Date.UTC(y, m - 1, day + 1));
  return {
    start: zonedMidnight(y, m, day),
    end: zonedMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()),
  };
}

/** ISO-8601 UTC of the start of a FHIR date/dateTime (the index date), or null. */
export function isoStart(value: string | undefined): string | null {
  if (value === undefined) return null;
  const r = timeRange(value);
  return r === undefined ? null : new Date(r.start).toISOString();
}

/** Today's civil date (YYYY-MM-DD) in Europe/Amsterdam at instant `now`. */
export function civilDate(now: Date): string {
  return NL_DAY.format(now);
}

/** True if a FHIR date (any precision) lies wholly after `today` (YYYY-MM-DD). */
export function dateAfter(date: string, today: string): boolean {
  return date > today.slice(0, date.length);
}
