/**
 * Everything the simulated lab shares: the harness, the scheduler, the lab's work, the people
 * and systems, the security officer's view, and a randomness stream for the traffic (seeded, so
 * a run can be repeated). call() is how normal work talks to the vault: a refusal because the
 * account is contained makes the worker wait for the security officer, as a person would.
 */
import type { Prng } from '../../src/demo/prng.js';
import { DAY, HOUR, MINUTE, dayOf } from './calendar.js';
import type { Client, Method, Reply, RequestOptions } from './client.js';
import type { Harness } from './harness.js';
import type { Lab } from './lab.js';
import type { Scheduler } from './sim.js';
import type { Roster } from './staff.js';
import type { Watch } from './watch.js';

export interface World {
  readonly h: Harness;
  readonly sim: Scheduler;
  readonly lab: Lab;
  readonly roster: Roster;
  readonly watch: Watch;
  readonly prng: Prng;
  /** The attack day (day index) and the clients the attacks use as victims (they work that day). */
  readonly attackDay: number;
  readonly victims: ReadonlySet<Client>;
  /** Normal work's distinct patients per client per day (from the responses). */
  readonly touched: Map<Client, Map<number, Set<string>>>;
  /** Unexpected answers to normal work: 'role METHOD shape status' -> count. */
  readonly unexpected: Map<string, number>;
  /** When each person's current shift ends (a contained worker stops waiting then). */
  readonly shiftEnds: Map<Client, number>;
}

/** Uniform in [lo, hi] minutes, as ms. */
export function minutes(w: World, lo: number, hi: number): number {
  return Math.round((lo + w.prng.float() * (hi - lo)) * MINUTE);
}

export function seconds(w: World, lo: number, hi: number): number {
  return Math.round((lo + w.prng.float() * (hi - lo)) * 1000);
}

/**
 * One request of normal work. 429: waits as told and tries again. 403 while the account is
 * contained: waits for the lift (at most until `giveUpMs`, default a day) and tries again;
 * null if it never came. Anything else unexpected is counted and returned.
 */
export async function call(w: World, c: Client, method: Method, path: string, o: RequestOptions = {}, giveUpMs?: number): Promise<Reply | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await c.request(method, path, o);
    if (r.status === 429) {
      await w.sim.sleep(Math.max(1000, r.retryAfterMs ?? 60_000));
      continue;
    }
    if (r.status === 401 && c.spec.kind === 'service') {
      // The system's token was revoked (a copy of it was used elsewhere): its operator issues
      // a new key and token, which takes an hour or so.
      await w.sim.sleep(HOUR);
      await c.reissueToken();
      continue;
    }
    if (r.status === 403 && (await w.watch.contained(c.principalId))) {
      const lifted = await w.watch.waitForLift(c.principalId, giveUpMs ?? w.shiftEnds.get(c) ?? w.sim.now + DAY);
      if (!lifted) return null;
      continue;
    }
    if (r.status >= 200 && r.status < 300) {
      if (r.patients.length > 0) {
        let days = w.touched.get(c);
        if (!days) w.touched.set(c, (days = new Map()));
        const d = dayOf(w.sim.now);
        let set = days.get(d);
        if (!set) days.set(d, (set = new Set()));
        for (const p of r.patients) set.add(p);
      }
    } else {
      const key = `${c.spec.role} ${method} ${shape(path)} ${r.status}`;
      w.unexpected.set(key, (w.unexpected.get(key) ?? 0) + 1);
    }
    return r;
  }
  return null;
}

/** '/fhir/Specimen?identifier=T1' -> '/fhir/Specimen?identifier' (for counting, no values). */
function shape(path: string): string {
  const [p, q] = path.split('?');
  const base = p!.replace(/\/[A-Za-z0-9]{20,}/g, '/{id}').replace(/\/_history\/\d+/, '/_history/{v}');
  return q ? `${base}?${[...new URLSearchParams(q).keys()].join('&')}` : base;
}
