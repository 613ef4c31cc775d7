// The sentinel's rules as configuration: the defaults hold, and a nonsensical policy is refused at start.
import { describe, expect, it } from 'vitest';
import { isLabkluisError } from '../../src/kernel/index.js';
import { checkSentinelPolicy, DEFAULT_SENTINEL_POLICY, resolveSentinelPolicy, type SentinelPolicy, type SentinelPolicyInput } from '../../src/sentinel/index.js';

const refused = (p: Partial<SentinelPolicy>) => {
  try {
    checkSentinelPolicy({ ...DEFAULT_SENTINEL_POLICY, ...p });
  } catch (e) {
    expect(isLabkluisError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the policy to be refused');
};

/** The ERR_CONFIG message a policy is refused with (fails the test if it is taken). */
function bad(input: SentinelPolicyInput): string {
  try {
    resolveSentinelPolicy(input);
  } catch (e) {
    expect(isLabkluisError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the policy to be refused');
}

describe('sentinel policy', () => {
  it('accepts the defaults: a burst stops at 20 patients in 10 minutes, a drip at 60 an hour and 300 a day', () => {
    const p = checkSentinelPolicy(DEFAULT_SENTINEL_POLICY);
    expect(p.windows.map((w) => [w.seconds, w.patients])).toEqual([[600, 20], [3_600, 60], [86_400, 300]]);
  });

  it('refuses windows that do not grow, a window without patients, a tiny byte limit, and too many windows', () => {
    expect(refused({ windows: [{ seconds: 600, patients: 20, bytes: null }, { seconds: 600, patients: 30, bytes: null }] })).toMatch(/grow/);
    expect(refused({ windows: [{ seconds: 600, patients: 0, bytes: null }] })).toMatch(/at least 1 patient/);
    expect(refused({ windows: [{ seconds: 600, patients: 5, bytes: 10 }] })).toMatch(/1 KiB/);
    expect(refused({ windows: Array.from({ length: 5 }, (_, i) => ({ seconds: 60 * (i + 1), patients: 5, bytes: null })) })).toMatch(/1 to 4/);
    expect(refused({ windows: [] })).toMatch(/1 to 4/);
  });

  it('refuses a history shorter than the longest window or a day, and checks per-role windows too', () => {
    expect(refused({ historySeconds: 3_600 })).toMatch(/history/);
    expect(refused({ roles: { requester: [{ seconds: 600, patients: -1, bytes: null }] } })).toMatch(/roles\.requester/);
    expect(checkSentinelPolicy({ ...DEFAULT_SENTINEL_POLICY, roles: { requester: [{ seconds: 3_600, patients: 500, bytes: null }] } }).roles.requester).toHaveLength(1);
  });

  it('lays a partial policy over the defaults field by field, and checks the scoring parts', () => {
    const p = resolveSentinelPolicy({ baseline: { multiplier: 3 }, signals: { factors: { walking: 4 } } });
    expect(p.baseline).toMatchObject({ multiplier: 3, days: DEFAULT_SENTINEL_POLICY.baseline.days });
    expect(p.signals.factors).toMatchObject({ walking: 4, offHours: DEFAULT_SENTINEL_POLICY.signals.factors.offHours });
    expect(p.archive.windows).toEqual(DEFAULT_SENTINEL_POLICY.archive.windows);
    expect(bad({ baseline: { multiplier: 0.5 } })).toMatch(/multiplier/);
    expect(bad({ baseline: { minOwnDays: 30 } })).toMatch(/minOwnDays/);
    expect(bad({ archive: { afterDays: 0 } })).toMatch(/afterDays/);
    expect(bad({ archive: { windows: [] } })).toMatch(/archive\.windows/);
    expect(bad({ signals: { factors: { offHours: 0.5 } } })).toMatch(/offHours/);
    expect(bad({ signals: { workingHours: { timeZone: 'Mars/Olympus', from: 7, to: 19, days: [1] } } })).toMatch(/time zone/);
    expect(bad({ signals: { workingHours: { timeZone: 'Europe/Amsterdam', from: 19, to: 7, days: [1] } } })).toMatch(/from before to/);
    expect(bad({ signals: { workingHours: { timeZone: 'Europe/Amsterdam', from: 7, to: 19, days: [0] } } })).toMatch(/weekdays/);
    // From a configuration file: anything at all, refused as configuration.
    expect(bad({ windows: 'twenty' } as never)).toMatch(/sentinel policy/);
    expect(bad({ principals: { x: [{ seconds: 60 }] } } as never)).toMatch(/sentinel policy/);
    expect(bad({ signals: { walkingRoles: 'analyst' } } as never)).toMatch(/walkingRoles/);
  });

  it('lays leases over the defaults, and refuses a share over a half, a lease over 15 s or a list read less often than a minute', () => {
    expect(resolveSentinelPolicy({ leases: { seconds: 2 } }).leases).toMatchObject({ seconds: 2, share: DEFAULT_SENTINEL_POLICY.leases.share, enabled: true });
    expect(bad({ leases: { share: 0.75 } })).toMatch(/leases\.share/);
    expect(bad({ leases: { share: 0 } })).toMatch(/leases\.share/);
    expect(bad({ leases: { seconds: 30 } })).toMatch(/leases\.seconds/);
    expect(bad({ leases: { canariesSeconds: 120 } })).toMatch(/leases\.canariesSeconds/);
    expect(bad({ leases: { enabled: 'yes' } } as never)).toMatch(/leases\.enabled/);
  });
});
