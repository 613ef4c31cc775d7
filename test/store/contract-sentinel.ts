/**
 * Contract cases for the sentinel part: the one-call release (a live containment returned with
 * nothing recorded, canaries returned in input order), distinct patients per window (one
 * patient once, by tenant and pseudonym, only the principal's own, in the minute and hour of
 * its last release however often it moves, whatever the history, exact under racing releases),
 * patients, records and bytes per window (whole minutes, across minute and hour buckets), daily
 * distinct patients at UTC day boundaries, pruning (counts stay right across the cut), at most
 * one live containment lifted once, canary patients, and the alert outbox. Cases share the
 * store by using fresh principals, tenants and roles; those that see the whole store (prune,
 * listings, the outbox) get one of their own.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_RELEASE_WINDOWS, type CanaryRow, type ContainmentRow, type DeliveryRow, type ReleaseRow, type ReleaseTotals, type SentinelStore,
} from '../../src/store/index.js';
import type { LeaseRequest, ReleaseOutcome } from '../../src/store/sentinel-types.js';
import { rid } from '../support/store-fixtures.js';
import type { ContractContext, MadeStore } from './contract.js';
import { expectCode } from './expect-code.js';

const DAY = '2026-03-10';
/** An instant on DAY (UTC): '08:05' or '08:05:30.250'. */
const at = (time: string, day = DAY): string => new Date(`${day}T${time.length === 5 ? `${time}:00` : time}Z`).toISOString();

function release(principalId: string, tenant: string, pseudonyms: string[], when: string, overrides: Partial<ReleaseRow> = {}): ReleaseRow {
  return { principalId, role: 'analyst', tenant, pseudonyms, records: pseudonyms.length, bytes: 1000 * pseudonyms.length, at: when, ...overrides };
}

function containment(principalId: string, overrides: Partial<ContainmentRow> = {}): ContainmentRow {
  return {
    id: rid('cnt'), principalId, reason: 'burst', alertId: rid('alert'), createdAt: at('08:00'), liftedAt: null, liftedBy: null,
    liftNote: null, ...overrides,
  };
}

function delivery(overrides: Partial<DeliveryRow> = {}): DeliveryRow {
  return {
    id: rid('dlv'), alertId: rid('alert'), channel: 'webhook', payload: JSON.stringify({ kind: 'burst', id: rid('alert') }),
    createdAt: at('08:00'), attempts: 0, nextAttemptAt: at('08:00'), deliveredAt: null, lastError: null, ...overrides,
  };
}

export function describeSentinelContract(ctx: ContractContext): void {
  const sn = (): SentinelStore => ctx.store().sentinel;

  /** The totals of a release: the call's outcome, checked to be neither contained nor a canary touch. */
  const totalsOf = async (made: Promise<ReleaseOutcome>): Promise<readonly ReleaseTotals[]> => {
    const out = await made;
    expect(out.containment).toBeNull();
    expect(out.canaries).toEqual([]);
    return out.totals;
  };
  const record = (r: ReleaseRow, windows: readonly string[], store: () => SentinelStore = sn): Promise<readonly ReleaseTotals[]> =>
    totalsOf(store().recordRelease(r, windows));
  const patientsIn = async (made: Promise<readonly ReleaseTotals[]>): Promise<number[]> => (await made).map((t) => t.patients);

  describe('sentinel releases', () => {
    it('count each patient once per window, by tenant and pseudonym, and only the principal\'s own', async () => {
      const p = rid('prn');
      const other = rid('prn');
      const [t1, t2] = [rid('org'), rid('org')];
      const [a, b, c, d] = [rid('psn'), rid('psn'), rid('psn'), rid('psn')];
      const windows = [at('07:55'), at('07:00'), at('00:00')];
      const first = await record(release(p, t1, [a, b], at('08:00')), windows);
      expect(first).toEqual(windows.map((since) => ({ since, patients: 2, records: 2, bytes: 2000 })));

      expect(await patientsIn(record(release(p, t1, [b, c], at('08:05')), windows))).toEqual([3, 3, 3]);
      // Another principal's releases count for that principal only.
      expect(await patientsIn(record(release(other, t1, [a, d], at('08:06')), windows))).toEqual([2, 2, 2]);
      // The same pseudonym in another tenant is another patient.
      expect(await patientsIn(record(release(p, t2, [a], at('08:07')), windows))).toEqual([4, 4, 4]);

      // A window counts the patients whose last release falls in it.
      expect(await patientsIn(record(release(p, t1, [a], at('08:20')), [at('08:10'), at('08:06'), at('07:00')]))).toEqual([1, 2, 4]);
      // A window starting after the release sees nothing of it.
      expect((await record(release(p, t1, [], at('08:21'), { records: 0, bytes: 0 }), [at('08:22')]))[0])
        .toEqual({ since: at('08:22'), patients: 0, records: 0, bytes: 0 });
    });

    it('a repeated pseudonym in one release is one patient', async () => {
      const p = rid('prn');
      const a = rid('psn');
      const [t] = await record(release(p, rid('org'), [a, a, a], at('09:00'), { records: 3 }), [at('08:00')]);
      expect(t?.patients).toBe(1);
      expect(t?.records).toBe(3);
    });

    it('sum patients, records and bytes per window over minute and hour buckets, a whole minute at the window start', async () => {
      const p = rid('prn');
      const t = rid('org');
      const send = (when: string, records: number, bytes: number) => record(release(p, t, [rid('psn')], when, { records, bytes }), []);
      await send(at('06:59:59.999'), 1, 10);
      await send(at('07:30:10'), 2, 20);
      await send(at('07:30:50'), 4, 40);
      await send(at('08:15'), 8, 80);
      const windows = [
        at('06:00'), // everything
        at('07:00'), // not 06:59:59.999
        at('07:30:45'), // the whole minute 07:30 counts, both of its releases and both of its patients
        at('07:31'), // minutes 07:31..07:59 and the hours from 08:00
        at('08:16'), // minutes 08:16..08:59: none yet
        at('09:00'), // nothing before this release
      ];
      const totals = await record(release(p, t, [rid('psn')], at('09:05'), { records: 16, bytes: 160 }), windows);
      expect(totals.map((x) => [x.since, x.records, x.bytes])).toEqual([
        [windows[0], 31, 310], [windows[1], 30, 300], [windows[2], 30, 300], [windows[3], 24, 240], [windows[4], 16, 160],
        [windows[5], 16, 160],
      ]);
      expect(totals.map((x) => x.patients)).toEqual([5, 4, 4, 2, 1, 1]);
    });

    it('count a release without patients in records and bytes only', async () => {
      const p = rid('prn');
      const t = rid('org');
      await record(release(p, t, [rid('psn')], at('10:00')), []);
      const [x] = await record(release(p, t, [], at('10:01'), { records: 5, bytes: 999 }), [at('09:00')]);
      expect(x).toEqual({ since: at('09:00'), patients: 1, records: 6, bytes: 1999 });
    });

    it('count a patient once, in the minute and hour of its last release, however often it moves', async () => {
      const p = rid('prn');
      const t = rid('org');
      const [a, b] = [rid('psn'), rid('psn')];
      const windows = [at('00:00'), at('07:00'), at('08:30'), at('09:15'), at('09:16'), at('10:00')];
      const send = (pseudonyms: string[], when: string) => patientsIn(record(release(p, t, pseudonyms, when), windows));
      expect(await send([a, b], at('08:00'))).toEqual([2, 2, 0, 0, 0, 0]);
      expect(await send([a], at('08:00:30'))).toEqual([2, 2, 0, 0, 0, 0]); // the same minute
      expect(await send([a], at('08:59:59.999'))).toEqual([2, 2, 1, 0, 0, 0]); // the same hour
      expect(await send([a], at('09:15:10'))).toEqual([2, 2, 1, 1, 0, 0]); // another hour
      expect(await send([b], at('09:15:20'))).toEqual([2, 2, 2, 2, 0, 0]); // both in minute 09:15
      expect(await send([a, b], at('10:00'))).toEqual([2, 2, 2, 2, 2, 2]);
      // A late release never moves a patient's last release back (nor its buckets).
      expect(await send([a], at('09:00'))).toEqual([2, 2, 2, 2, 2, 2]);
      expect(await patientsIn(record(release(p, t, [], at('10:01')), [at('10:00:59.999'), at('10:01')]))).toEqual([2, 0]);
    });

    it('refuse malformed releases and windows with a TypeError', async () => {
      const p = rid('prn');
      const t = rid('org');
      const bad: [ReleaseRow, string[]][] = [
        [release(p, t, [rid('psn')], '2026-03-10T08:00:00Z'), []], // not toISOString()'s form
        [release(p, t, [rid('psn')], 'yesterday'), []],
        [release(p, t, [rid('psn')], '+010000-01-01T00:00:00.000Z'), []], // toISOString()'s, but not a four-digit year
        [release(p, t, [rid('psn')], at('08:00'), { records: -1 }), []],
        [release(p, t, [rid('psn')], at('08:00'), { bytes: 1.5 }), []],
        [release(p, t, [''], at('08:00')), []],
        [release(p, t, [rid('psn')], at('08:00')), ['2026-03-10']],
        [release(p, t, [rid('psn')], at('08:00')), Array.from({ length: MAX_RELEASE_WINDOWS + 1 }, () => at('07:00'))],
      ];
      for (const [r, w] of bad) await expect(sn().recordRelease(r, w)).rejects.toThrow(TypeError);
      const [x] = await record(release(p, t, [], at('08:00'), { records: 0, bytes: 0 }), [at('00:00')]);
      expect(x).toEqual({ since: at('00:00'), patients: 0, records: 0, bytes: 0 });
    });

    it('return a live containment and record nothing; once lifted, record again', async () => {
      const role = rid('role');
      const p = rid('prn');
      const t = rid('org');
      const [a, b] = [rid('psn'), rid('psn')];
      const canary = rid('psn');
      await sn().addCanaries([{ tenant: t, pseudonym: canary, createdAt: at('07:00'), createdBy: rid('prn') }]);
      await record(release(p, t, [a], at('08:00'), { role }), []);
      const c = containment(p);
      await sn().insertContainment(c);
      const refused = await sn().recordRelease(release(p, t, [b, canary], at('08:01'), { role }), [at('00:00')]);
      expect(refused).toEqual({ containment: c, canaries: [], totals: [], lease: null });
      // The next day too: not even a daily row.
      expect(await sn().recordRelease(release(p, t, [b], at('08:00', '2026-03-11'), { role }), [])).toEqual({ containment: c, canaries: [], totals: [], lease: null });

      expect(await sn().liftContainment(c.id, rid('prn'), randomBytes(8), at('09:00'))).toBe(true);
      // Nothing of the refused releases was kept: one patient, one record, no daily row for the 11th.
      expect(await record(release(p, t, [], at('09:01'), { role, records: 0, bytes: 0 }), [at('00:00')]))
        .toEqual([{ since: at('00:00'), patients: 1, records: 1, bytes: 1000 }]);
      expect(await sn().dailyPatients(role, DAY)).toEqual([{ principalId: p, role, day: DAY, patients: 1 }]);
    });

    it('return the canaries among the release\'s patients, in input order, and still record the release', async () => {
      const p = rid('prn');
      const [t, u] = [rid('org'), rid('org')];
      const [x, y, z] = [rid('psn'), rid('psn'), rid('psn')];
      await sn().addCanaries([x, y].map((pseudonym) => ({ tenant: t, pseudonym, createdAt: at('07:00'), createdBy: rid('prn') })));
      const out = await sn().recordRelease(release(p, t, [y, z, x, y], at('08:00')), [at('00:00')]);
      expect(out.containment).toBeNull();
      expect(out.canaries).toEqual([y, x]);
      expect(out.totals).toEqual([{ since: at('00:00'), patients: 3, records: 4, bytes: 4000 }]);
      // Canaries are per tenant.
      expect((await sn().recordRelease(release(p, u, [x, z], at('08:01')), [])).canaries).toEqual([]);
      expect((await sn().recordRelease(release(p, t, [], at('08:02')), [])).canaries).toEqual([]);
    });

    it('grant a lease of a share of what is left under the tightest window, after the other holders\' live leases', async () => {
      const p = rid('prn');
      const t = rid('org');
      const psn = (n: number) => Array.from({ length: n }, () => rid('psn'));
      const ask = (holder: string, until: string, overrides: Partial<LeaseRequest> = {}): LeaseRequest => ({
        holder, until, limits: [{ patients: 20, bytes: 100_000 }, { patients: 60, bytes: null }], share: 0.25, maxPatients: 1000, maxBytes: 1_000_000, ...overrides,
      });
      const windows = [at('07:50'), at('07:00')];
      // 4 patients, 4000 bytes: left 16 patients (the 10-minute window), 96,000 bytes.
      const first = await sn().recordRelease(release(p, t, psn(4), at('08:00')), windows, ask('node-a', at('08:00:05')));
      expect(first.totals.map((x) => x.patients)).toEqual([4, 4]);
      expect(first.lease).toEqual({ patients: 4, bytes: 24_000, othersPatients: 0, othersBytes: 0 });
      // Another holder: node-a's lease counts as released.
      const second = await sn().recordRelease(release(p, t, psn(2), at('08:00:01')), windows, ask('node-b', at('08:00:06')));
      expect(second.lease).toEqual({ patients: 2, bytes: 17_500, othersPatients: 4, othersBytes: 24_000 }); // floor((20 - 6 - 4) / 4), (100,000 - 6,000 - 24,000) / 4
      // A holder's new lease replaces its old one; an ended lease counts for no one.
      const third = await sn().recordRelease(release(p, t, [], at('08:00:02'), { records: 0, bytes: 0 }), windows, ask('node-a', at('08:00:07'), { share: 0.5 }));
      expect(third.lease).toEqual({ patients: 6, bytes: 38_250, othersPatients: 2, othersBytes: 17_500 }); // (20 - 6 - 2) / 2
      const later = await sn().recordRelease(release(p, t, [], at('08:00:09'), { records: 0, bytes: 0 }), windows, ask('node-c', at('08:00:20')));
      expect(later.lease).toEqual({ patients: 3, bytes: 23_500, othersPatients: 0, othersBytes: 0 });
      // Share 0 gives a lease back; no window (or no byte limit) grants the maxima; nothing left grants 0.
      expect((await sn().recordRelease(release(p, t, [], at('08:00:10'), { records: 0, bytes: 0 }), [], ask('node-c', at('08:00:10'), { limits: [], share: 0 }))).lease)
        .toEqual({ patients: 0, bytes: 0, othersPatients: 0, othersBytes: 0 });
      expect((await sn().recordRelease(release(p, t, [], at('08:00:11'), { records: 0, bytes: 0 }), [], ask('node-d', at('08:00:30'), { limits: [] }))).lease)
        .toEqual({ patients: 1000, bytes: 1_000_000, othersPatients: 0, othersBytes: 0 });
      const over = await sn().recordRelease(release(p, t, psn(20), at('08:00:13')), windows, ask('node-e', at('08:00:14')));
      expect(over.totals[0]!.patients).toBe(26);
      expect(over.lease).toEqual({ patients: 0, bytes: 0, othersPatients: 1000, othersBytes: 1_000_000 });
      // A contained principal gets none.
      await sn().insertContainment(containment(p));
      expect((await sn().recordRelease(release(p, t, [], at('08:00:15')), windows, ask('node-a', at('08:00:20')))).lease).toBeNull();
    });

    it('serialise the grants of one principal: each concurrent holder sees the leases granted before it', async () => {
      const p = rid('prn');
      const t = rid('org');
      const holders = Array.from({ length: 10 }, (_, i) => `node-${i}`);
      const outs = await Promise.all(holders.map((holder) => sn().recordRelease(release(p, t, [rid('psn')], at('08:00')), [at('07:50')], {
        holder, until: at('08:00:05'), limits: [{ patients: 20, bytes: null }], share: 0.5, maxPatients: 1000, maxBytes: 1000,
      })));
      // In the order they were granted, each saw every earlier grant: only the first saw none,
      // and no grant exceeds half of what was left after the others' (a race would let several
      // see none and each take half of everything).
      expect(outs.filter((o) => o.lease!.othersPatients === 0)).toHaveLength(1);
      const byTurn = [...outs].sort((x, y) => x.lease!.othersPatients - y.lease!.othersPatients || x.totals[0]!.patients - y.totals[0]!.patients);
      let before = 0;
      for (const o of byTurn) {
        expect(o.lease!.othersPatients).toBe(before);
        expect(o.lease!.patients).toBe(Math.max(0, Math.floor((20 - o.totals[0]!.patients - before) / 2)));
        before += o.lease!.patients;
      }
    });

    it('refuse a malformed lease with a TypeError and record nothing', async () => {
      const p = rid('prn');
      const t = rid('org');
      const good: LeaseRequest = { holder: 'n', until: at('08:00:05'), limits: [{ patients: 20, bytes: null }], share: 0.25, maxPatients: 10, maxBytes: 10 };
      const bad: LeaseRequest[] = [
        { ...good, holder: '' }, { ...good, until: at('07:59') }, { ...good, until: 'soon' }, { ...good, share: 1.5 }, { ...good, share: Number.NaN },
        { ...good, limits: [] }, { ...good, limits: [{ patients: -1, bytes: null }] }, { ...good, maxPatients: 0.5 },
      ];
      for (const l of bad) await expect(sn().recordRelease(release(p, t, [rid('psn')], at('08:00')), [at('07:50')], l)).rejects.toThrow(TypeError);
      expect(await record(release(p, t, [], at('08:01'), { records: 0, bytes: 0 }), [at('07:50')])).toEqual([{ since: at('07:50'), patients: 0, records: 0, bytes: 0 }]);
    });

    it('count the same whatever the principal\'s history: only the patients last released in the window', async () => {
      const p = rid('prn');
      const t = rid('org');
      const old = Array.from({ length: 3000 }, () => rid('psn'));
      const day = '2026-03-09';
      for (let i = 0; i < old.length; i += 500) {
        await record(release(p, t, old.slice(i, i + 500), at(`${String(1 + i / 500).padStart(2, '0')}:30`, day)), []);
      }
      const windows = [at('09:50'), at('09:00'), at('00:00'), at('03:00', day), at('00:00', day)];
      const fresh = [rid('psn'), rid('psn')];
      // Six releases of 500 at 01:30 .. 06:30 the day before: four of them from 03:00.
      expect(await patientsIn(record(release(p, t, fresh, at('10:00')), windows))).toEqual([2, 2, 2, 2 + 2000, 2 + 3000]);
      // Patients from the history come back: they move, they are not counted twice.
      expect(await patientsIn(record(release(p, t, [old[0] as string, old[2999] as string, fresh[0] as string], at('10:05')), windows)))
        .toEqual([4, 4, 4, 2 + 2000 + 1, 2 + 3000]);
    });

    it('keep exact counts when releases of one principal race over shared patients', async () => {
      const role = rid('role');
      const p = rid('prn');
      const t = rid('org');
      const pool = Array.from({ length: 12 }, () => rid('psn'));
      // Per patient its latest release: the count a window must give (a late arrival moves nothing).
      const last = new Map<string, string>();
      const sent: Promise<unknown>[] = [];
      let n = 0;
      for (let round = 0; round < 12; round++) {
        const batch = Array.from({ length: 4 }, () => {
          n += 1;
          // Times spread over minutes and hours of one day, out of order within a round.
          const when = at(`${String(8 + (n % 3)).padStart(2, '0')}:${String((n * 7) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`);
          const pseudonyms = pool.filter((_, i) => (i + n) % 3 !== 0).slice(n % 4, (n % 4) + 6);
          for (const x of pseudonyms) if ((last.get(x) ?? '') < when) last.set(x, when);
          return sn().recordRelease(release(p, t, pseudonyms, when, { role }), [at('00:00')]);
        });
        sent.push(...batch);
        await Promise.all(batch);
      }
      await Promise.all(sent);
      const windows = ['07:00', '08:00', '08:30', '09:00', '09:30', '10:00', '10:30', '11:00'].map((w) => at(w));
      const totals = await record(release(p, t, [], at('12:00'), { role, records: 0, bytes: 0 }), windows);
      expect(totals.map((x) => x.patients)).toEqual(windows.map((w) => [...last.values()].filter((l) => l >= w).length));
      expect(await sn().dailyPatients(role, DAY)).toEqual([{ principalId: p, role, day: DAY, patients: last.size }]);
    });
    it('give each of many concurrent releases of one principal totals that hold its own, and each patient once', async () => {
      const role = rid('role');
      const p = rid('prn');
      const t = rid('org');
      const canary = rid('psn');
      await sn().addCanaries([{ tenant: t, pseudonym: canary, createdAt: at('07:00'), createdBy: rid('prn') }]);
      const shared = rid('psn');
      // 24 responses at once within one minute (a system fetching in parallel), each with a
      // patient of its own and one they share; the fifth also holds the canary.
      const own = Array.from({ length: 24 }, () => rid('psn'));
      const calls = own.map((x, i) => sn().recordRelease(
        release(p, t, i === 4 ? [canary, x, shared] : [x, shared], at(`09:00:${String(10 + i).padStart(2, '0')}.000`), { role }),
        [at('08:59:30.000'), at('00:00')],
      ));
      // One malformed release among them fails alone.
      const malformed = sn().recordRelease(release(p, t, [rid('psn')], 'yesterday', { role }), [at('00:00')]);
      await expect(malformed).rejects.toThrow(TypeError);
      const outcomes = await Promise.all(calls);
      outcomes.forEach((o, i) => {
        expect(o.containment).toBeNull();
        // Only the caller that sent the canary hears of it.
        expect(o.canaries).toEqual(i === 4 ? [canary] : []);
        expect(o.totals.map((x) => x.since)).toEqual([at('08:59:30.000'), at('00:00')]);
        for (const x of o.totals) {
          expect(x.patients).toBeGreaterThanOrEqual(i === 4 ? 3 : 2);
          expect(x.patients).toBeLessThanOrEqual(26);
          expect(x.records).toBeGreaterThanOrEqual(i === 4 ? 3 : 2);
        }
      });
      const after = await record(release(p, t, [], at('09:01'), { role, records: 0, bytes: 0 }), [at('00:00')]);
      expect(after[0]).toMatchObject({ patients: 26, records: 24 * 2 + 1, bytes: 1000 * (24 * 2 + 1) });
      expect(await sn().dailyPatients(role, DAY)).toEqual([{ principalId: p, role, day: DAY, patients: 26 }]);
    });
  });

  describe('sentinel daily patients', () => {
    it('count a patient on each UTC day it is first released to the principal that day', async () => {
      const role = rid('role');
      const [p, q] = [rid('prn-a'), rid('prn-b')];
      const t = rid('org');
      const [a, b, c] = [rid('psn'), rid('psn'), rid('psn')];
      const send = (who: string, pseudonyms: string[], when: string) => sn().recordRelease(release(who, t, pseudonyms, when, { role }), []);
      await send(p, [a, b], at('23:59:59.999', '2026-03-10'));
      await send(p, [b, c], at('00:00', '2026-03-11')); // b again, but on a new day
      await send(p, [a], at('10:00', '2026-03-11'));
      await send(p, [a, c], at('11:00', '2026-03-11')); // nothing new today
      await send(q, [a], at('12:00', '2026-03-11'));
      await send(p, [], at('09:00', '2026-03-12')); // a day with releases but no patients

      const rows = await sn().dailyPatients(role, '2026-03-10');
      expect(rows).toEqual([
        { principalId: p, role, day: '2026-03-10', patients: 2 },
        { principalId: p, role, day: '2026-03-11', patients: 3 },
        { principalId: q, role, day: '2026-03-11', patients: 1 },
        { principalId: p, role, day: '2026-03-12', patients: 0 },
      ]);
      expect(await sn().dailyPatients(role, '2026-03-11')).toEqual(rows.slice(1));
      expect(await sn().dailyPatients(role, '2026-03-13')).toEqual([]);
      expect(await sn().dailyPatients(rid('role'), '2026-03-10')).toEqual([]);
    });

    it('are kept per role', async () => {
      const [first, second] = [rid('role'), rid('role')];
      const p = rid('prn');
      const t = rid('org');
      const a = rid('psn');
      await sn().recordRelease(release(p, t, [a], at('08:00'), { role: first }), []);
      await sn().recordRelease(release(p, t, [a, rid('psn')], at('09:00'), { role: second }), []);
      expect(await sn().dailyPatients(first, DAY)).toEqual([{ principalId: p, role: first, day: DAY, patients: 1 }]);
      // The patient was released to the principal already that day, whatever the role.
      expect(await sn().dailyPatients(second, DAY)).toEqual([{ principalId: p, role: second, day: DAY, patients: 1 }]);
    });

    it('count a patient once even when releases of it race', async () => {
      const role = rid('role');
      const p = rid('prn');
      const t = rid('org');
      const [a, b] = [rid('psn'), rid('psn')];
      const totals = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        sn().recordRelease(release(p, t, i % 2 === 0 ? [a, b] : [b, a], at('08:00'), { role }), [at('00:00')])));
      expect(await sn().dailyPatients(role, DAY)).toEqual([{ principalId: p, role, day: DAY, patients: 2 }]);
      // Each call counts its own patients, whatever the others did meanwhile.
      for (const { totals: [x] } of totals) expect(x?.patients).toBe(2);
    });

    it('refuse a day that is not YYYY-MM-DD with a TypeError', async () => {
      for (const day of ['2026-3-1', '2026-03-10T00:00:00.000Z', '']) {
        await expect(sn().dailyPatients('analyst', day)).rejects.toThrow(TypeError);
      }
    });
  });

  describe('sentinel containments', () => {
    it('a principal has at most one live containment; it is lifted once, with its note', async () => {
      const p = rid('prn');
      expect(await sn().liveContainment(p)).toBeNull();
      const c = containment(p);
      await sn().insertContainment(c);
      expect(await sn().liveContainment(p)).toEqual(c);
      await expectCode(sn().insertContainment(containment(p, { reason: 'canary' })), 'ERR_CONFLICT', [p]);
      await expectCode(sn().insertContainment(containment(rid('prn'), { id: c.id })), 'ERR_CONFLICT', [c.id]);

      const officer = rid('prn');
      const note = randomBytes(40);
      expect(await sn().liftContainment(c.id, officer, note, at('09:00'))).toBe(true);
      expect(await sn().liftContainment(c.id, rid('prn'), randomBytes(40), at('09:05'))).toBe(false);
      expect(await sn().liveContainment(p)).toBeNull();
      expect(await sn().liftContainment(rid('cnt'), officer, note, at('09:00'))).toBe(false);

      // Once lifted, the principal may be contained again.
      const again = containment(p, { reason: 'token-replay', alertId: null, createdAt: at('10:00') });
      await sn().insertContainment(again);
      expect(await sn().liveContainment(p)).toEqual(again);
    });

    it('of concurrent containments of one principal exactly one is inserted; of concurrent lifts one wins', async () => {
      const p = rid('prn');
      const rows = Array.from({ length: 6 }, () => containment(p));
      const settled = await Promise.allSettled(rows.map((c) => sn().insertContainment(c)));
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      const live = await sn().liveContainment(p);
      expect(live).toEqual(rows[settled.findIndex((s) => s.status === 'fulfilled')]);
      const lifts = await Promise.all(Array.from({ length: 6 }, () => sn().liftContainment(live?.id as string, rid('prn'), randomBytes(8), at('09:00'))));
      expect(lifts.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('sentinel canaries', () => {
    it('are added once, listed by pseudonym, found among others in input order, and removed', async () => {
      const [t, u] = [rid('org'), rid('org')];
      const [x, y, z] = ['psn-b', 'psn-a', 'psn-c'].map((p) => `${p}-${randomBytes(4).toString('hex')}`) as [string, string, string];
      const canary = (tenant: string, pseudonym: string, createdBy = rid('prn')): CanaryRow =>
        ({ tenant, pseudonym, createdAt: at('08:00'), createdBy });
      const cx = canary(t, x);
      const cy = canary(t, y);
      await sn().addCanaries([cx, cy, canary(u, x)]);
      await sn().addCanaries([canary(t, x, rid('prn')), canary(t, y)]); // existing ones stay as they were
      await sn().addCanaries([]);
      expect(await sn().listCanaries(t)).toEqual([cy, cx].sort((m, n) => (m.pseudonym < n.pseudonym ? -1 : 1)));

      expect(await sn().canariesAmong(t, [z, x, rid('psn'), y, x])).toEqual([x, y, x]);
      expect(await sn().canariesAmong(t, [])).toEqual([]);
      expect(await sn().canariesAmong(u, [y, z, x])).toEqual([x]);
      expect(await sn().canariesAmong(rid('org'), [x, y])).toEqual([]);

      expect(await sn().removeCanary(t, x)).toBe(true);
      expect(await sn().removeCanary(t, x)).toBe(false);
      expect(await sn().canariesAmong(t, [x, y])).toEqual([y]);
      expect(await sn().canariesAmong(u, [x])).toEqual([x]);
      expect(await sn().listCanaries(t)).toEqual([cy]);
    });
  });

  describe('sentinel state seen whole', () => {
    // Pruning, listings and the outbox see every row in the store: these cases get one of their own.
    let made: MadeStore | null = null;
    const own = (): SentinelStore => {
      if (made === null) throw new Error('store not ready');
      return made.store.sentinel;
    };
    beforeAll(async () => {
      made = await ctx.fresh();
    });
    afterAll(async () => {
      await made?.cleanup();
    });

    it('pruning forgets per-patient history and old buckets before the cut, keeping daily counts', async () => {
      const role = rid('role');
      const [p, q] = [rid('prn'), rid('prn')];
      const t = rid('org');
      const [a, b, c] = [rid('psn'), rid('psn'), rid('psn')];
      const send = (who: string, pseudonyms: string[], when: string, records: number) =>
        record(release(who, t, pseudonyms, when, { role, records, bytes: records }), [at('00:00')], own);
      await send(p, [a], at('09:30'), 1);
      await send(q, [a, b], at('10:59:59.999'), 2);
      await send(p, [b], at('11:00'), 4);
      await send(p, [a], at('11:00:30'), 8); // a now last released after the cut

      expect(await own().pruneReleases(at('11:00'))).toBe(2); // q's a and b
      expect(await own().pruneReleases(at('11:00'))).toBe(0);
      // p: a and b remain; records before 11:00 are gone (the minutes and the hours that ended by then).
      expect(await send(p, [c], at('12:00'), 16)).toEqual([{ since: at('00:00'), patients: 3, records: 28, bytes: 28 }]);
      expect(await send(q, [], at('12:00'), 0)).toEqual([{ since: at('00:00'), patients: 0, records: 0, bytes: 0 }]);
      expect(await own().dailyPatients(role, DAY)).toEqual([p, q].sort().map((principalId) =>
        ({ principalId, role, day: DAY, patients: principalId === p ? 3 : 2 })));

      // A cut inside an hour keeps that hour and the minutes from the cut's own.
      await send(p, [c], at('12:10'), 32);
      expect(await own().pruneReleases(at('12:05:30'))).toBe(2); // p's a and b; c was released at 12:10
      // The minute 12:00 is gone, its hour stays: 16 + 32.
      expect(await send(p, [], at('12:20'), 0)).toEqual([{ since: at('00:00'), patients: 1, records: 48, bytes: 48 }]);
      await expect(own().pruneReleases('2026-03-10')).rejects.toThrow(TypeError);
    });

    it('pruning keeps the hour of its cut and its minutes, counting only the patients still known', async () => {
      const p = rid('prn');
      const t = rid('org');
      const day = '2026-03-12'; // after the other cases' cuts
      const [a, b, c, d] = [rid('psn'), rid('psn'), rid('psn'), rid('psn')];
      // Windows from whole hours, from an hour less its first minutes (14:05, 14:20), from
      // minutes up to the next hour (14:30); the last starts mid-minute: it counts that whole
      // minute (c and d).
      const windows = ['13:00', '14:00', '14:05', '14:20', '14:30', '14:30:40'].map((w) => at(w, day));
      const send = (pseudonyms: string[], when: string) => record(release(p, t, pseudonyms, at(when, day)), windows, own);
      await own().pruneReleases(at('00:00', day)); // what earlier cases left
      await send([a], '13:59:59.999'); // gone, in an hour that has ended
      await send([b], '14:10'); // gone, in the cut's hour
      await send([c], '14:30:10'); // gone, in the cut's minute
      expect(await patientsIn(send([d], '14:30:50'))).toEqual([4, 3, 3, 2, 2, 2]); // stays, in the cut's minute
      expect(await own().pruneReleases(at('14:30:20', day))).toBe(3);
      // Only d is left in every window that reaches back over the cut; the records of the
      // cut's hour stay (one each for b, c and d), those of the hour before go.
      const after = await send([], '14:40');
      expect(after.map((x) => x.patients)).toEqual([1, 1, 1, 1, 1, 1]);
      expect(after.map((x) => x.records)).toEqual([3, 3, 3, 2, 2, 2]);
      // The forgotten patients come back as new ones, counted once; d moves on.
      expect(await patientsIn(send([a, b, c, d], '15:00'))).toEqual([4, 4, 4, 4, 4, 4]);
      expect(await patientsIn(record(release(p, t, [], at('15:01', day)), [at('14:59', day), at('15:00', day), at('15:01', day)], own)))
        .toEqual([4, 4, 0]);
    });

    it('containments are listed newest first (then by id), live ones only when asked, up to the limit', async () => {
      const old = containment(rid('prn'), { id: 'cnt-a', createdAt: at('07:00') });
      const tieLow = containment(rid('prn'), { id: 'cnt-b', createdAt: at('08:00') });
      const tieHigh = containment(rid('prn'), { id: 'cnt-c', createdAt: at('08:00') });
      const lifted = containment(rid('prn'), { id: 'cnt-d', createdAt: at('09:00') });
      for (const c of [tieHigh, lifted, old, tieLow]) await own().insertContainment(c);
      const note = randomBytes(24);
      expect(await own().liftContainment(lifted.id, 'officer', note, at('09:30'))).toBe(true);
      const liftedNow = { ...lifted, liftedAt: at('09:30'), liftedBy: 'officer', liftNote: note };
      expect(await own().listContainments({ live: false, limit: 1000 })).toEqual([liftedNow, tieHigh, tieLow, old]);
      expect(await own().listContainments({ live: true, limit: 1000 })).toEqual([tieHigh, tieLow, old]);
      expect(await own().listContainments({ live: true, limit: 2 })).toEqual([tieHigh, tieLow]);
      expect(Buffer.isBuffer((await own().listContainments({ live: false, limit: 1 }))[0]?.liftNote)).toBe(true);
      for (const limit of [0, -1, 1001, 1.5]) {
        await expect(own().listContainments({ live: true, limit })).rejects.toThrow(TypeError);
      }
    });

    it('the outbox hands out due, undelivered rows oldest first, and records failures and deliveries', async () => {
      const first = delivery({ id: 'dlv-b', createdAt: at('08:00'), nextAttemptAt: at('08:00') });
      const tie = delivery({ id: 'dlv-c', createdAt: at('08:00'), nextAttemptAt: at('08:01'), channel: 'syslog', payload: '<116>1 ...' });
      const older = delivery({ id: 'dlv-d', createdAt: at('07:59'), nextAttemptAt: at('08:03') });
      const later = delivery({ id: 'dlv-a', createdAt: at('08:02'), nextAttemptAt: at('08:02') });
      const done = delivery({ createdAt: at('07:00'), nextAttemptAt: at('07:00'), deliveredAt: at('07:00:01'), attempts: 1 });
      await own().enqueueDeliveries([later, first, done]);
      await own().enqueueDeliveries([older, tie]);
      await own().enqueueDeliveries([]);

      expect(await own().dueDeliveries(at('08:02'), 10)).toEqual([first, tie, later]);
      expect(await own().dueDeliveries(at('08:05'), 10)).toEqual([older, first, tie, later]);
      expect(await own().dueDeliveries(at('08:05'), 2)).toEqual([older, first]);
      expect(await own().dueDeliveries(at('07:59'), 10)).toEqual([]);

      expect(await own().markDeliveryFailed(first.id, 1, at('08:10'), 'http-503')).toBe(true);
      const failed = { ...first, attempts: 1, nextAttemptAt: at('08:10'), lastError: 'http-503' };
      expect(await own().dueDeliveries(at('08:05'), 10)).toEqual([older, tie, later]);
      expect(await own().dueDeliveries(at('08:10'), 10)).toEqual([older, failed, tie, later]);

      expect(await own().markDelivered(tie.id, at('08:06'))).toBe(true);
      expect(await own().markDelivered(tie.id, at('08:07'))).toBe(false);
      expect(await own().markDeliveryFailed(tie.id, 2, at('08:20'), 'timeout')).toBe(false);
      expect(await own().markDelivered(rid('dlv'), at('08:06'))).toBe(false);
      expect(await own().markDeliveryFailed(rid('dlv'), 1, at('08:20'), 'timeout')).toBe(false);
      expect(await own().dueDeliveries(at('09:00'), 10)).toEqual([older, failed, later]);
    });

    it('the outbox refuses a reused id (all or nothing) and malformed rows', async () => {
      const d = delivery({ createdAt: at('06:00'), nextAttemptAt: at('23:00') });
      await own().enqueueDeliveries([d]);
      const fresh = delivery({ createdAt: at('06:00'), nextAttemptAt: at('23:00') });
      await expectCode(own().enqueueDeliveries([fresh, { ...d, payload: 'again' }]), 'ERR_CONFLICT', [d.id]);
      expect((await own().dueDeliveries(at('23:00'), 1000)).filter((x) => x.createdAt === at('06:00'))).toEqual([d]);
      await expect(own().enqueueDeliveries([delivery({ channel: 'email' as DeliveryRow['channel'] })])).rejects.toThrow(TypeError);
      await expect(own().enqueueDeliveries([delivery({ attempts: -1 })])).rejects.toThrow(TypeError);
      await expect(own().markDeliveryFailed(d.id, 1.5, at('23:30'), 'timeout')).rejects.toThrow(TypeError);
      for (const limit of [0, 1001, Number.NaN]) await expect(own().dueDeliveries(at('23:00'), limit)).rejects.toThrow(TypeError);
    });
  });
}
