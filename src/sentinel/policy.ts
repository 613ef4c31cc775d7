import { LabkluisError } from '../kernel/index.js';

/**
 * The sentinel's rules (issue 4), as configuration with defaults. Limits count distinct
 * patients released to one principal in a sliding window; crossing one contains the principal
 * within the request that crossed it, so the response that would cross it never leaves.
 *
 * The defaults are sized against the attack targets: a burst read is stopped at most 20
 * patients in (target ≤ 25), a slow drip by the hour and day limits (target ≤ 500 a day).
 * A role whose normal work touches more people (a GP practice's system fetching every final
 * report) gets its own limits in `roles`.
 */
export interface WindowLimit {
  /** The window, in seconds. */
  readonly seconds: number;
  /** Distinct patients allowed in it; one more is a containment. */
  readonly patients: number;
  /** Bytes of resources allowed in it (null: no byte limit). */
  readonly bytes: number | null;
}

export interface SentinelPolicy {
  /** Off: nothing is counted or contained (the benchmark's A/B, never production). */
  readonly enabled: boolean;
  readonly windows: readonly WindowLimit[];
  /** Per role, replacing `windows` for that role. */
  readonly roles: Readonly<Record<string, readonly WindowLimit[]>>;
  /** Per-patient release history is kept this long (at least the longest window). */
  readonly historySeconds: number;
}

export const DEFAULT_SENTINEL_POLICY: SentinelPolicy = Object.freeze({
  enabled: true,
  windows: Object.freeze([
    Object.freeze({ seconds: 600, patients: 20, bytes: 20 * 1024 * 1024 }),
    Object.freeze({ seconds: 3_600, patients: 60, bytes: 100 * 1024 * 1024 }),
    Object.freeze({ seconds: 86_400, patients: 300, bytes: 500 * 1024 * 1024 }),
  ]),
  roles: Object.freeze({}),
  historySeconds: 2 * 86_400,
});

export function checkSentinelPolicy(p: SentinelPolicy): SentinelPolicy {
  const bad = (why: string) => new LabkluisError('ERR_CONFIG', `sentinel policy: ${why}`);
  const checkWindows = (ws: readonly WindowLimit[], where: string) => {
    if (ws.length === 0 || ws.length > 4) throw bad(`${where}: 1 to 4 windows`);
    let last = 0;
    for (const w of ws) {
      if (!Number.isInteger(w.seconds) || w.seconds <= last || w.seconds > 7 * 86_400) throw bad(`${where}: windows grow, each at most 7 days`);
      if (!Number.isInteger(w.patients) || w.patients < 1) throw bad(`${where}: a window allows at least 1 patient`);
      if (w.bytes !== null && (!Number.isInteger(w.bytes) || w.bytes < 1024)) throw bad(`${where}: a byte limit is at least 1 KiB`);
      last = w.seconds;
    }
    // A day at least: a patient's first release of the day must still be known (daily counts).
    if (!Number.isInteger(p.historySeconds) || p.historySeconds < Math.max(last, 86_400)) throw bad('history must cover the longest window and a day');
  };
  checkWindows(p.windows, 'windows');
  for (const [role, ws] of Object.entries(p.roles)) checkWindows(ws, `roles.${role}`);
  return Object.freeze({ ...p });
}
