/**
 * The simulated calendar. The lab is in the Netherlands: working hours are local time (CET,
 * UTC+1; the simulated weeks lie before the switch to summer time), while the vault stores UTC.
 * Day 0 is a Monday; day n starts at local midnight.
 */
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** CET: local = UTC + 1 h. */
const OFFSET = HOUR;
/** Day 0: Monday 2 March 2026, 00:00 CET (summer time starts 29 March, after the run). */
export const DAY0_UTC_MS = Date.UTC(2026, 2, 2, 0, 0) - OFFSET;

/** Simulated UTC ms of local `hours` (may be fractional, e.g. 8.5 = 08:30) on day `day`. */
export function at(day: number, hours: number): number {
  return DAY0_UTC_MS + day * DAY + Math.round(hours * HOUR);
}

export function dayOf(ms: number): number {
  return Math.floor((ms - DAY0_UTC_MS) / DAY);
}

/** Local hour of day, fractional. */
export function hourOf(ms: number): number {
  return ((ms - DAY0_UTC_MS) % DAY) / HOUR;
}

/** 0 = Monday … 6 = Sunday. */
export function weekday(day: number): number {
  return ((day % 7) + 7) % 7;
}

export const WEEKDAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

export function isWeekday(day: number): boolean {
  return weekday(day) < 5;
}

/** 'Tue 2026-03-17 10:42' in local time (for the report). */
export function localLabel(ms: number): string {
  const local = new Date(ms + OFFSET).toISOString();
  return `${WEEKDAY_NAMES[weekday(dayOf(ms))]} ${local.slice(0, 10)} ${local.slice(11, 16)}`;
}

/** '1 h 12 min', '38 s' */
export function durationLabel(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < MINUTE) return `${Math.round(ms / 1000)} s`;
  if (ms < HOUR) return `${Math.round(ms / MINUTE)} min`;
  const h = Math.floor(ms / HOUR);
  const m = Math.round((ms - h * HOUR) / MINUTE);
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
