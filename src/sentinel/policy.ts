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

/**
 * Baselines: a principal's day and hour limits shrink to a multiple of what it and its peers
 * (same role) normally touch. The 95th percentile of the principal's own days and of its
 * peers' days over `days` days (today not included); the larger counts, once there is enough
 * of it. The hard windows stay the ceiling; windows shorter than an hour are not baselined.
 */
export interface BaselinePolicy {
  readonly enabled: boolean;
  readonly days: number;
  /** The principal's own percentile counts from this many days with any release. */
  readonly minOwnDays: number;
  /** The peers' percentile counts from this many principal-days of the role. */
  readonly minPeerDays: number;
  /** Day limit = ceil(multiplier × baseline), at least minimumDay; an hour's is half of that, at least minimumHour. */
  readonly multiplier: number;
  readonly minimumDay: number;
  readonly minimumHour: number;
  /** How long a node keeps a role's computed baselines before reading the counts again. */
  readonly refreshSeconds: number;
  /**
   * Roles whose peers are those acting for the same kind of tenant ('gp-practice', 'hospital',
   * 'screening', ...): a GP practice's system is no peer of the screening organisation's.
   */
  readonly byTenantKind: readonly string[];
}

/**
 * The archive: a patient whose records in a response were all last changed more than
 * `afterDays` ago is a look back in time rather than at current work (an episode runs for
 * weeks; screening comes round every five years). Those patients are also counted on their
 * own, against these lower limits.
 */
export interface ArchivePolicy {
  readonly afterDays: number;
  readonly windows: readonly WindowLimit[];
}

/**
 * Signals that make the limits stricter for a while. Each signal a principal shows divides its
 * patient limits by its factor (they multiply), never below `floor`; a signal lasts
 * `lastsSeconds` after it was last seen, and tightens only the windows no longer than that.
 * They are kept per node, in memory.
 */
export interface SignalPolicy {
  /** Usual hours, in the lab's time zone; outside them the offHours factor applies. Null: none. */
  readonly workingHours: { readonly timeZone: string; readonly from: number; readonly to: number; readonly days: readonly number[] } | null;
  readonly factors: {
    /** Outside working hours. */
    readonly offHours: number;
    /** A copied token or a reused refresh token of this principal. */
    readonly securityEvent: number;
    /**
     * A sign-in from a network (IPv4 /24, IPv6 /64) none of the principal's sessions of the last
     * `knownNetworkDays` came from (a first sign-in has nothing to compare with and is not one).
     */
    readonly newNetwork: number;
    /** `walkSteps` barcode searches in a row, each a small step on from the last. */
    readonly walking: number;
    /** A search that names no one (status, date or code only), `broadSearches` times. */
    readonly broadSearch: number;
    /** `refusalsInARow` refused requests without a success between them. */
    readonly refusals: number;
  };
  readonly knownNetworkDays: number;
  readonly walkSteps: number;
  /**
   * Roles whose daily work goes through barcodes in order (a registrar's box of arrivals, an
   * analyst's plate): for them a walk is work, not a signal. Their reads are still counted.
   */
  readonly walkingRoles: readonly string[];
  readonly broadSearches: number;
  readonly refusalsInARow: number;
  readonly lastsSeconds: number;
  /** No signal brings a patient limit below this. */
  readonly floor: number;
}

/**
 * Work in progress: patients whose records in a response are all still being worked on (an open
 * order, a result or report not yet final) are what a lab's analysts and validators read in
 * batches all day. They count here, against these wider windows (and their own baselines),
 * instead of in the hard windows; everything final, every specimen and every identity counts
 * in the hard windows.
 */
export interface WorkPolicy {
  readonly windows: readonly WindowLimit[];
}

/**
 * Leases: the write-behind that keeps the store off most reads. On a release that goes to the
 * store, a node also takes a lease on `share` of what is left of the principal's budget under
 * its tightest window (at most maxPatients and maxBytes), for `seconds` and never past the
 * minute. Reads that fit in the lease pass on the node and are written to the store in one go
 * when the lease is renewed or ends; every other node counts the lease as released meanwhile.
 * Near a limit what is left is small and so is the lease: the crossing read goes to the store,
 * which contains as before. A principal's containment reaches every node with its next request
 * (authentication reads it with the principal), its lease on this node at once. Canaries are
 * checked against the tenants' canary lists, read again every `canariesSeconds`.
 */
export interface LeasePolicy {
  readonly enabled: boolean;
  readonly seconds: number;
  /** 0 < share <= 0.5: the rest stays for the other nodes and for the store-judged reads at the edge. */
  readonly share: number;
  readonly maxPatients: number;
  readonly maxBytes: number;
  readonly canariesSeconds: number;
}

export interface SentinelPolicy {
  /** Off: nothing is counted or contained (the benchmark's A/B, never production). */
  readonly enabled: boolean;
  /** Hard limits (egress budgets): the ceiling whatever the baselines say. */
  readonly windows: readonly WindowLimit[];
  /** Per role, replacing `windows` for that role. */
  readonly roles: Readonly<Record<string, readonly WindowLimit[]>>;
  /**
   * Per principal (by id), replacing `windows` and the role's: an integration whose normal work
   * is bulk (the screening organisation's system fetching every result of a round) gets its own.
   */
  readonly principals: Readonly<Record<string, readonly WindowLimit[]>>;
  readonly work: WorkPolicy;
  readonly baseline: BaselinePolicy;
  readonly archive: ArchivePolicy;
  readonly signals: SignalPolicy;
  readonly leases: LeasePolicy;
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
  principals: Object.freeze({}),
  work: Object.freeze({
    windows: Object.freeze([
      Object.freeze({ seconds: 600, patients: 60, bytes: null }),
      Object.freeze({ seconds: 3_600, patients: 200, bytes: null }),
      Object.freeze({ seconds: 86_400, patients: 600, bytes: null }),
    ]),
  }),
  baseline: Object.freeze({
    enabled: true, days: 14, minOwnDays: 5, minPeerDays: 10, multiplier: 2, minimumDay: 60, minimumHour: 30, refreshSeconds: 3_600,
    byTenantKind: Object.freeze(['requester']),
  }),
  archive: Object.freeze({
    afterDays: 90,
    windows: Object.freeze([
      Object.freeze({ seconds: 3_600, patients: 20, bytes: null }),
      Object.freeze({ seconds: 86_400, patients: 60, bytes: null }),
    ]),
  }),
  signals: Object.freeze({
    workingHours: Object.freeze({ timeZone: 'Europe/Amsterdam', from: 7, to: 19, days: Object.freeze([1, 2, 3, 4, 5, 6]) }),
    factors: Object.freeze({ offHours: 2, securityEvent: 2, newNetwork: 2, walking: 2, broadSearch: 1.5, refusals: 2 }),
    knownNetworkDays: 30,
    walkSteps: 8,
    walkingRoles: Object.freeze(['registrar', 'analyst']),
    broadSearches: 20,
    refusalsInARow: 10,
    lastsSeconds: 3_600,
    floor: 5,
  }),
  leases: Object.freeze({ enabled: true, seconds: 5, share: 0.25, maxPatients: 1_000, maxBytes: 256 * 1024 * 1024, canariesSeconds: 5 }),
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
  for (const [id, ws] of Object.entries(p.principals)) checkWindows(ws, `principals.${id}`);
  checkWindows(p.work.windows, 'work.windows');
  checkWindows(p.archive.windows, 'archive.windows');
  const positiveInt = (v: number, where: string, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(v) || v < 1 || v > max) throw bad(`${where} is a whole number from 1 to ${max}`);
  };
  const b = p.baseline;
  positiveInt(b.days, 'baseline.days', 90);
  positiveInt(b.minOwnDays, 'baseline.minOwnDays', b.days);
  positiveInt(b.minPeerDays, 'baseline.minPeerDays');
  positiveInt(b.minimumDay, 'baseline.minimumDay');
  positiveInt(b.minimumHour, 'baseline.minimumHour');
  positiveInt(b.refreshSeconds, 'baseline.refreshSeconds', 86_400);
  if (!(b.multiplier >= 1 && b.multiplier <= 20)) throw bad('baseline.multiplier is from 1 to 20');
  if (!Array.isArray(b.byTenantKind) || !b.byTenantKind.every((r) => typeof r === 'string')) throw bad('baseline.byTenantKind is a list of roles');
  positiveInt(p.archive.afterDays, 'archive.afterDays', 3_650);
  const sg = p.signals;
  for (const [name, f] of Object.entries(sg.factors)) if (!(f >= 1 && f <= 10)) throw bad(`signals.factors.${name} is from 1 to 10`);
  positiveInt(sg.knownNetworkDays, 'signals.knownNetworkDays', 365);
  positiveInt(sg.walkSteps, 'signals.walkSteps', 1_000);
  if (!Array.isArray(sg.walkingRoles) || !sg.walkingRoles.every((r) => typeof r === 'string')) throw bad('signals.walkingRoles is a list of roles');
  positiveInt(sg.broadSearches, 'signals.broadSearches', 100_000);
  positiveInt(sg.refusalsInARow, 'signals.refusalsInARow', 1_000);
  positiveInt(sg.lastsSeconds, 'signals.lastsSeconds', 7 * 86_400);
  positiveInt(sg.floor, 'signals.floor');
  const l = p.leases;
  if (typeof l.enabled !== 'boolean') throw bad('leases.enabled is true or false');
  positiveInt(l.seconds, 'leases.seconds', 15);
  if (!(l.share > 0 && l.share <= 0.5)) throw bad('leases.share is above 0 and at most 0.5');
  positiveInt(l.maxPatients, 'leases.maxPatients');
  positiveInt(l.maxBytes, 'leases.maxBytes');
  positiveInt(l.canariesSeconds, 'leases.canariesSeconds', 60);
  const wh = sg.workingHours;
  if (wh !== null) {
    if (!Number.isInteger(wh.from) || !Number.isInteger(wh.to) || wh.from < 0 || wh.to > 24 || wh.from >= wh.to) throw bad('signals.workingHours: whole hours, from before to');
    if (!wh.days.every((d) => Number.isInteger(d) && d >= 1 && d <= 7)) throw bad('signals.workingHours.days are ISO weekdays 1 (Monday) to 7');
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: wh.timeZone });
    } catch {
      throw bad('signals.workingHours.timeZone is not a known IANA time zone');
    }
  }
  return Object.freeze({ ...p });
}

/** A policy as configured: any part may be left out, and the nested parts field by field. */
export type SentinelPolicyInput = Partial<Omit<SentinelPolicy, 'baseline' | 'archive' | 'signals' | 'work' | 'leases'>> & {
  readonly leases?: Partial<LeasePolicy>;
  readonly work?: Partial<WorkPolicy>;
  readonly baseline?: Partial<BaselinePolicy>;
  readonly archive?: Partial<ArchivePolicy>;
  readonly signals?: Partial<Omit<SignalPolicy, 'factors'>> & { readonly factors?: Partial<SignalPolicy['factors']> };
};

/** The defaults with `input` laid over them, checked (ERR_CONFIG names what is wrong). */
export function resolveSentinelPolicy(input: SentinelPolicyInput = {}): SentinelPolicy {
  try {
    return resolve(input);
  } catch (e) {
    // A configuration file may hold anything: whatever the checks trip over is a config error.
    if (e instanceof LabkluisError) throw e;
    throw new LabkluisError('ERR_CONFIG', 'sentinel policy: malformed (see src/sentinel/policy.ts for its shape)');
  }
}

function resolve(input: SentinelPolicyInput): SentinelPolicy {
  const d = DEFAULT_SENTINEL_POLICY;
  return checkSentinelPolicy({
    ...d,
    ...input,
    baseline: Object.freeze({ ...d.baseline, ...input.baseline }),
    archive: Object.freeze({ ...d.archive, ...input.archive }),
    work: Object.freeze({ ...d.work, ...input.work }),
    leases: Object.freeze({ ...d.leases, ...input.leases }),
    signals: Object.freeze({ ...d.signals, ...input.signals, factors: Object.freeze({ ...d.signals.factors, ...input.signals?.factors }) }),
  });
}
