/**
 * Contract cases for the safeguards part: a TOTP factor whose time steps are accepted once and
 * only forwards (also under concurrency), recovery codes spent once and voided by a new set,
 * break-glass grants live until they end or expire (expiry exclusive), alerts newest first and
 * acknowledged once, closed once (with their evidence), the latest training and recertification,
 * and restore drills' reports (the last one and the last that passed). Rows need a known principal
 * (ERR_CONFLICT quoting nothing otherwise), except an alert's.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AlertRow, BreakGlassRow, DrillRow, RecertificationRow, SafeguardStore, TotpRow, TrainingRow,
} from '../../src/store/index.js';
import { principalRow, rid, T0 } from '../support/store-fixtures.js';
import type { ContractContext, MadeStore } from './contract.js';
import { expectCode } from './expect-code.js';

const T1 = '2026-01-01T00:01:00.000Z';
const T2 = '2026-01-01T00:02:00.000Z';
const T3 = '2026-01-01T00:03:00.000Z';
const EXPIRES = '2026-01-01T00:15:00.000Z';
const JUST_BEFORE = '2026-01-01T00:14:59.999Z';
const LATER = '2026-01-01T00:30:00.000Z';
/** A realistic time step (2026) and one beyond 32 bits: the column must hold both. */
const STEP = 59_000_000;
const BIG_STEP = 2 ** 40;

function totp(principalId: string, overrides: Partial<TotpRow> = {}): TotpRow {
  return { principalId, secret: randomBytes(48), createdAt: T0, lastStep: STEP, ...overrides };
}

function grant(principalId: string, tenant: string, overrides: Partial<BreakGlassRow> = {}): BreakGlassRow {
  return {
    id: rid('bg'), principalId, tenant, pseudonym: rid('psn'), reason: randomBytes(40), createdAt: T0, expiresAt: EXPIRES,
    endedAt: null, ...overrides,
  };
}

function alert(overrides: Partial<AlertRow> = {}): AlertRow {
  return {
    id: rid('alert'), kind: 'break-glass', principalId: rid('prn'), tenant: rid('org'), subject: rid('psn'), createdAt: T0,
    acknowledgedAt: null, acknowledgedBy: null, evidence: [], closedAt: null, closedBy: null, closeNote: null, ...overrides,
  };
}

function training(principalId: string, overrides: Partial<TrainingRow> = {}): TrainingRow {
  return {
    principalId, completedAt: '2025-12-01T00:00:00.000Z', expiresAt: '2026-12-01T00:00:00.000Z', recordedBy: rid('prn'),
    recordedAt: T0, ...overrides,
  };
}

function recertification(principalId: string, overrides: Partial<RecertificationRow> = {}): RecertificationRow {
  return {
    principalId, role: 'analyst', tenants: [rid('org')], certifiedBy: rid('prn'), certifiedAt: T0,
    expiresAt: '2026-07-01T00:00:00.000Z', ...overrides,
  };
}

function drill(overrides: Partial<DrillRow> = {}): DrillRow {
  return { id: rid('drill'), finishedAt: T1, outcome: 'passed', snapshot: 3, report: 'signed report text\n', receivedAt: T2, ...overrides };
}

/** A fresh store for the enclosing describe (made before its cases, removed after): its safeguards part. */
function ownSafeguards(ctx: ContractContext): () => SafeguardStore {
  let made: MadeStore | null = null;
  beforeAll(async () => {
    made = await ctx.fresh();
  });
  afterAll(async () => {
    await made?.cleanup();
  });
  return () => {
    if (made === null) throw new Error('store not ready');
    return made.store.safeguards;
  };
}

const codes = (n: number): Buffer[] => Array.from({ length: n }, () => randomBytes(32));

export function describeSafeguardContract(ctx: ContractContext): void {
  const sg = (): SafeguardStore => ctx.store().safeguards;
  const newPrincipal = async (): Promise<string> => {
    const p = principalRow({ kind: 'human' });
    await ctx.store().insertPrincipal(p);
    return p.id;
  };

  describe('TOTP factors', () => {
    it('are set, read back and replaced whole', async () => {
      const principal = await newPrincipal();
      const first = totp(principal);
      await sg().setTotp(first);
      const got = await sg().getTotp(principal);
      expect(got).toEqual(first);
      expect(Buffer.isBuffer(got?.secret)).toBe(true);
      const second = totp(principal, { createdAt: T2, lastStep: 7 });
      await sg().setTotp(second);
      expect(await sg().getTotp(principal)).toEqual(second);
      expect(await sg().getTotp(rid('prn'))).toBeNull();
    });

    it('are deleted once', async () => {
      const principal = await newPrincipal();
      await sg().setTotp(totp(principal));
      expect(await sg().deleteTotp(principal)).toBe(true);
      expect(await sg().getTotp(principal)).toBeNull();
      expect(await sg().deleteTotp(principal)).toBe(false);
      expect(await sg().deleteTotp(rid('prn'))).toBe(false);
      expect(await sg().useTotpStep(principal, STEP + 1)).toBe(false);
    });

    it('accept a time step once and never an older one', async () => {
      const principal = await newPrincipal();
      await sg().setTotp(totp(principal));
      expect(await sg().useTotpStep(principal, STEP)).toBe(false); // the step set with the factor
      expect(await sg().useTotpStep(principal, STEP + 1)).toBe(true);
      expect(await sg().useTotpStep(principal, STEP + 1)).toBe(false); // replay
      expect(await sg().useTotpStep(principal, STEP - 5)).toBe(false);
      expect(await sg().useTotpStep(principal, STEP + 3)).toBe(true);
      expect(await sg().useTotpStep(principal, STEP + 2)).toBe(false); // lower than the last one
      expect(await sg().getTotp(principal)).toMatchObject({ lastStep: STEP + 3 });
      expect(await sg().useTotpStep(principal, BIG_STEP)).toBe(true);
      expect(await sg().getTotp(principal)).toMatchObject({ lastStep: BIG_STEP });
      expect(await sg().useTotpStep(rid('prn'), STEP + 9)).toBe(false);
    });

    it('of concurrent uses of one step exactly one wins', async () => {
      const principal = await newPrincipal();
      await sg().setTotp(totp(principal));
      const results = await Promise.all(Array.from({ length: 8 }, () => sg().useTotpStep(principal, STEP + 1)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await sg().getTotp(principal)).toMatchObject({ lastStep: STEP + 1 });
    });

    it('refuse a step that is not a non-negative integer with a TypeError', async () => {
      const principal = await newPrincipal();
      await sg().setTotp(totp(principal));
      for (const step of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(sg().useTotpStep(principal, step)).rejects.toThrow(TypeError);
        await expect(sg().setTotp(totp(principal, { lastStep: step }))).rejects.toThrow(TypeError);
      }
      expect(await sg().getTotp(principal)).toMatchObject({ lastStep: STEP });
    });

    it('for an unknown principal are ERR_CONFLICT quoting no id', async () => {
      const principal = rid('prn');
      await expectCode(sg().setTotp(totp(principal)), 'ERR_CONFLICT', [principal]);
      expect(await sg().getTotp(principal)).toBeNull();
    });
  });

  describe('recovery codes', () => {
    it('are each spent once, and only by their owner', async () => {
      const principal = await newPrincipal();
      const other = await newPrincipal();
      const set = codes(3);
      await sg().replaceRecoveryCodes(principal, set, T0);
      expect(await sg().countRecoveryCodes(principal)).toBe(3);
      expect(await sg().useRecoveryCode(principal, set[0]!, T1)).toBe(true);
      expect(await sg().useRecoveryCode(principal, set[0]!, T2)).toBe(false);
      expect(await sg().useRecoveryCode(principal, randomBytes(32), T2)).toBe(false);
      expect(await sg().useRecoveryCode(other, set[1]!, T2)).toBe(false);
      expect(await sg().countRecoveryCodes(principal)).toBe(2);
      expect(await sg().countRecoveryCodes(other)).toBe(0);
      expect(await sg().countRecoveryCodes(rid('prn'))).toBe(0);
      expect(await sg().useRecoveryCode(rid('prn'), set[1]!, T2)).toBe(false);
    });

    it('a new set voids the old one, used codes and unused', async () => {
      const principal = await newPrincipal();
      const old = codes(4);
      await sg().replaceRecoveryCodes(principal, old, T0);
      expect(await sg().useRecoveryCode(principal, old[0]!, T1)).toBe(true);
      const fresh = codes(5);
      await sg().replaceRecoveryCodes(principal, fresh, T2);
      expect(await sg().countRecoveryCodes(principal)).toBe(5);
      for (const code of old) expect(await sg().useRecoveryCode(principal, code, T3)).toBe(false);
      expect(await sg().useRecoveryCode(principal, fresh[4]!, T3)).toBe(true);
      expect(await sg().countRecoveryCodes(principal)).toBe(4);
      // A set may be used again: a reused hash is a new, unused code.
      await sg().replaceRecoveryCodes(principal, fresh, T3);
      expect(await sg().countRecoveryCodes(principal)).toBe(5);
      await sg().replaceRecoveryCodes(principal, [], T3);
      expect(await sg().countRecoveryCodes(principal)).toBe(0);
      expect(await sg().useRecoveryCode(principal, fresh[0]!, T3)).toBe(false);
    });

    it('of concurrent uses of one code exactly one wins', async () => {
      const principal = await newPrincipal();
      const set = codes(3);
      await sg().replaceRecoveryCodes(principal, set, T0);
      const results = await Promise.all(Array.from({ length: 8 }, () => sg().useRecoveryCode(principal, set[1]!, T1)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await sg().countRecoveryCodes(principal)).toBe(2);
    });

    it('of concurrent replacements exactly one set stays', async () => {
      const principal = await newPrincipal();
      for (let round = 0; round < 4; round++) {
        const sets = [codes(5), codes(5), codes(5)];
        await Promise.all(sets.map((set) => sg().replaceRecoveryCodes(principal, set, T1)));
        expect(await sg().countRecoveryCodes(principal)).toBe(5);
        const usable = await Promise.all(sets.map((set) => sg().useRecoveryCode(principal, set[0]!, T2)));
        expect(usable.filter(Boolean)).toHaveLength(1);
      }
    });

    it('a replacement that fails keeps the old set (one transaction)', async () => {
      const principal = await newPrincipal();
      const set = codes(3);
      await sg().replaceRecoveryCodes(principal, set, T0);
      const twice = randomBytes(32);
      await expectCode(sg().replaceRecoveryCodes(principal, [randomBytes(32), twice, twice], T1), 'ERR_CONFLICT', [twice.toString('hex')]);
      expect(await sg().countRecoveryCodes(principal)).toBe(3);
      expect(await sg().useRecoveryCode(principal, set[2]!, T2)).toBe(true);
    });

    it('for an unknown principal are ERR_CONFLICT quoting no id', async () => {
      const principal = rid('prn');
      await expectCode(sg().replaceRecoveryCodes(principal, codes(2), T0), 'ERR_CONFLICT', [principal]);
      expect(await sg().countRecoveryCodes(principal)).toBe(0);
    });
  });

  describe('break-glass grants', () => {
    it('round-trip and are live, oldest first, until they expire (expiry is exclusive)', async () => {
      const principal = await newPrincipal();
      const tenant = rid('org');
      const later = grant(principal, tenant, { createdAt: T2, expiresAt: LATER });
      const earlier = grant(principal, tenant, { createdAt: T1, expiresAt: EXPIRES });
      await sg().insertBreakGlass(later);
      await sg().insertBreakGlass(earlier);
      const live = await sg().liveBreakGlass(principal, tenant, T3);
      expect(live).toEqual([earlier, later]);
      expect(Buffer.isBuffer(live[0]?.reason)).toBe(true);
      expect(await sg().liveBreakGlass(principal, tenant, JUST_BEFORE)).toEqual([earlier, later]);
      expect(await sg().liveBreakGlass(principal, tenant, EXPIRES)).toEqual([later]);
      expect(await sg().liveBreakGlass(principal, tenant, LATER)).toEqual([]);
    });

    it("are not another principal's or another tenant's", async () => {
      const principal = await newPrincipal();
      const other = await newPrincipal();
      const tenant = rid('org');
      const own = grant(principal, tenant);
      await sg().insertBreakGlass(own);
      await sg().insertBreakGlass(grant(principal, rid('org')));
      await sg().insertBreakGlass(grant(other, tenant));
      expect(await sg().liveBreakGlass(principal, tenant, T1)).toEqual([own]);
      expect(await sg().liveBreakGlass(rid('prn'), tenant, T1)).toEqual([]);
    });

    it('end early once, and only while live', async () => {
      const principal = await newPrincipal();
      const tenant = rid('org');
      const g = grant(principal, tenant);
      const kept = grant(principal, tenant, { createdAt: T1 });
      await sg().insertBreakGlass(g);
      await sg().insertBreakGlass(kept);
      expect(await sg().endBreakGlass(g.id, T2)).toBe(true);
      expect(await sg().endBreakGlass(g.id, T3)).toBe(false);
      expect(await sg().liveBreakGlass(principal, tenant, T3)).toEqual([kept]);
      expect(await sg().endBreakGlass(kept.id, EXPIRES)).toBe(false); // expired at that instant
      expect(await sg().endBreakGlass(rid('bg'), T2)).toBe(false);
      expect(await sg().liveBreakGlass(principal, tenant, T3)).toEqual([kept]);
      const ended = grant(principal, tenant, { endedAt: T1 });
      await sg().insertBreakGlass(ended);
      expect(await sg().liveBreakGlass(principal, tenant, T2)).toEqual([kept]);
      expect(await sg().endBreakGlass(ended.id, T2)).toBe(false);
    });

    it('of concurrent ends exactly one wins', async () => {
      const principal = await newPrincipal();
      const g = grant(principal, rid('org'));
      await sg().insertBreakGlass(g);
      const results = await Promise.all(Array.from({ length: 6 }, () => sg().endBreakGlass(g.id, T1)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('refuse a reused id or an unknown principal with ERR_CONFLICT quoting no value', async () => {
      const principal = await newPrincipal();
      const tenant = rid('org');
      const g = grant(principal, tenant);
      await sg().insertBreakGlass(g);
      await expectCode(sg().insertBreakGlass(grant(principal, tenant, { id: g.id })), 'ERR_CONFLICT', [g.id, principal, tenant]);
      const unknown = rid('prn');
      await expectCode(sg().insertBreakGlass(grant(unknown, tenant)), 'ERR_CONFLICT', [unknown, tenant]);
      expect(await sg().liveBreakGlass(principal, tenant, T1)).toEqual([g]);
      expect(await sg().liveBreakGlass(unknown, tenant, T1)).toEqual([]);
    });
  });

  describe('alerts', () => {
    // Listing sees every alert in the store: these cases get one of their own.
    const own = ownSafeguards(ctx);

    it('are listed newest first (then by id), open ones only when asked, up to the limit', async () => {
      const oldest = alert({ id: 'alert-a', createdAt: T0 });
      const tieLow = alert({ id: 'alert-b', createdAt: T2, kind: 'token-replay', principalId: null, tenant: null, subject: null });
      const tieHigh = alert({ id: 'alert-c', createdAt: T2, kind: 'refresh-reuse' });
      const newest = alert({ id: 'alert-d', createdAt: T3, kind: 'training-expired', tenant: null });
      const done = alert({ id: 'alert-e', createdAt: T1, acknowledgedAt: T2, acknowledgedBy: rid('prn') });
      for (const a of [tieHigh, oldest, done, newest, tieLow]) await own().insertAlert(a);
      expect(await own().listAlerts({ open: false, limit: 1000 })).toEqual([newest, tieHigh, tieLow, done, oldest]);
      expect(await own().listAlerts({ open: true, limit: 1000 })).toEqual([newest, tieHigh, tieLow, oldest]);
      expect(await own().listAlerts({ open: true, limit: 2 })).toEqual([newest, tieHigh]);
      expect(await own().listAlerts({ open: false, limit: 1 })).toEqual([newest]);

      const by = rid('prn');
      expect(await own().acknowledgeAlert(tieHigh.id, by, T3)).toBe(true);
      expect(await own().listAlerts({ open: true, limit: 3 })).toEqual([newest, tieLow, oldest]);
      expect((await own().listAlerts({ open: false, limit: 2 }))[1]).toEqual({ ...tieHigh, acknowledgedAt: T3, acknowledgedBy: by });
    });

    it('refuse a limit outside 1..1000 with a TypeError', async () => {
      for (const limit of [0, -1, 1001, 1.5, Number.NaN]) {
        await expect(own().listAlerts({ open: true, limit })).rejects.toThrow(TypeError);
      }
      expect((await own().listAlerts({ open: false, limit: 1000 })).length).toBeLessThanOrEqual(1000);
    });
  });

  describe('alert acknowledgement', () => {
    const list = async (id: string): Promise<AlertRow | undefined> =>
      (await sg().listAlerts({ open: false, limit: 1000 })).find((a) => a.id === id);

    it('the first one stands', async () => {
      const a = alert({ createdAt: '2999-01-01T00:00:00.000Z' }); // newest in the shared store
      await sg().insertAlert(a);
      const first = rid('prn');
      expect(await sg().acknowledgeAlert(a.id, first, T1)).toBe(true);
      expect(await sg().acknowledgeAlert(a.id, rid('prn'), T2)).toBe(false);
      expect(await list(a.id)).toEqual({ ...a, acknowledgedAt: T1, acknowledgedBy: first });
      expect(await sg().acknowledgeAlert(rid('alert'), first, T1)).toBe(false);
    });

    it('of concurrent ones exactly one wins, and its officer is recorded', async () => {
      const a = alert({ createdAt: '2999-01-02T00:00:00.000Z' });
      await sg().insertAlert(a);
      const officers = Array.from({ length: 6 }, () => rid('prn'));
      const results = await Promise.all(officers.map((by) => sg().acknowledgeAlert(a.id, by, T1)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await list(a.id))?.acknowledgedBy).toBe(officers[results.indexOf(true)]);
    });

    it('an alert may name a principal the store does not know; a reused id is ERR_CONFLICT', async () => {
      const a = alert({ principalId: rid('prn'), createdAt: '2999-01-03T00:00:00.000Z' });
      await sg().insertAlert(a);
      expect(await list(a.id)).toEqual(a);
      await expectCode(sg().insertAlert(alert({ id: a.id })), 'ERR_CONFLICT', [a.id]);
    });
  });

  describe('alert evidence and close', () => {
    const list = async (id: string): Promise<AlertRow | undefined> =>
      (await sg().listAlerts({ open: false, limit: 1000 })).find((a) => a.id === id);

    it('evidence round-trips in its order, beyond 32 bits; left out it is empty, and the alert is not closed', async () => {
      const a = alert({ createdAt: '2999-02-01T00:00:00.000Z', evidence: [17, 3, 3, BIG_STEP, 0] });
      await sg().insertAlert(a);
      expect(await list(a.id)).toEqual(a);
      const { evidence: _e, closedAt: _c, closedBy: _b, closeNote: _n, ...old } = alert({ createdAt: '2999-02-02T00:00:00.000Z' });
      await sg().insertAlert(old); // a writer that predates the sentinel's fields
      expect(await list(old.id)).toEqual({ ...old, evidence: [], closedAt: null, closedBy: null, closeNote: null });
    });

    it('refuses evidence that is not a list of leaf indices with a TypeError', async () => {
      for (const evidence of [[-1], [1.5], [Number.NaN], ['3']]) {
        const a = alert({ evidence: evidence as number[] });
        await expect(sg().insertAlert(a)).rejects.toThrow(TypeError);
        expect(await list(a.id)).toBeUndefined();
      }
    });

    it('the first close stands, and closing acknowledges an open alert', async () => {
      const a = alert({ createdAt: '2999-02-03T00:00:00.000Z', evidence: [1, 2] });
      await sg().insertAlert(a);
      const officer = rid('prn');
      const note = randomBytes(48);
      expect(await sg().closeAlert(a.id, officer, note, T2)).toBe(true);
      expect(await sg().closeAlert(a.id, rid('prn'), randomBytes(48), T3)).toBe(false);
      const closed = await list(a.id);
      expect(closed).toEqual({ ...a, acknowledgedAt: T2, acknowledgedBy: officer, closedAt: T2, closedBy: officer, closeNote: note });
      expect(Buffer.isBuffer(closed?.closeNote)).toBe(true);
      expect((await sg().listAlerts({ open: true, limit: 1000 })).some((x) => x.id === a.id)).toBe(false);
      expect(await sg().acknowledgeAlert(a.id, rid('prn'), T3)).toBe(false);
      expect(await sg().closeAlert(rid('alert'), officer, note, T2)).toBe(false);
    });

    it('closing an acknowledged alert keeps the acknowledgement', async () => {
      const a = alert({ createdAt: '2999-02-04T00:00:00.000Z' });
      await sg().insertAlert(a);
      const first = rid('prn');
      const closer = rid('prn');
      expect(await sg().acknowledgeAlert(a.id, first, T1)).toBe(true);
      const note = randomBytes(32);
      expect(await sg().closeAlert(a.id, closer, note, T3)).toBe(true);
      expect(await list(a.id)).toEqual({ ...a, acknowledgedAt: T1, acknowledgedBy: first, closedAt: T3, closedBy: closer, closeNote: note });
    });

    it('of concurrent closes exactly one wins, with its officer and note', async () => {
      const a = alert({ createdAt: '2999-02-05T00:00:00.000Z' });
      await sg().insertAlert(a);
      const closes = Array.from({ length: 6 }, () => ({ by: rid('prn'), note: randomBytes(16) }));
      const results = await Promise.all(closes.map((c) => sg().closeAlert(a.id, c.by, c.note, T1)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = closes[results.indexOf(true)];
      expect(await list(a.id)).toMatchObject({ closedBy: winner?.by, closeNote: winner?.note, acknowledgedBy: winner?.by });
    });
  });

  describe('training records', () => {
    it('the latest is the one that expires last, whenever it was recorded', async () => {
      const principal = await newPrincipal();
      expect(await sg().latestTraining(principal)).toBeNull();
      const long = training(principal, { expiresAt: '2027-12-01T00:00:00.000Z', recordedAt: T1 });
      const short = training(principal, { completedAt: '2025-12-15T00:00:00.000Z', expiresAt: '2026-06-01T00:00:00.000Z', recordedAt: T2 });
      await sg().recordTraining(long);
      await sg().recordTraining(short);
      await sg().recordTraining(training(await newPrincipal(), { expiresAt: '2030-01-01T00:00:00.000Z' }));
      expect(await sg().latestTraining(principal)).toEqual(long);
      const longer = training(principal, { expiresAt: '2028-01-01T00:00:00.000Z', recordedAt: T3 });
      await sg().recordTraining(longer);
      expect(await sg().latestTraining(principal)).toEqual(longer);
      expect(await sg().latestTraining(rid('prn'))).toBeNull();
    });

    it('refuse a second record at the same moment or an unknown principal with ERR_CONFLICT', async () => {
      const principal = await newPrincipal();
      const t = training(principal);
      await sg().recordTraining(t);
      await expectCode(sg().recordTraining({ ...t, expiresAt: '2099-01-01T00:00:00.000Z' }), 'ERR_CONFLICT', [principal]);
      expect(await sg().latestTraining(principal)).toEqual(t);
      const unknown = rid('prn');
      await expectCode(sg().recordTraining(training(unknown)), 'ERR_CONFLICT', [unknown]);
    });
  });

  describe('recertifications', () => {
    it('the latest is the newest confirmation; tenants round-trip in their order', async () => {
      const principal = await newPrincipal();
      expect(await sg().latestRecertification(principal)).toBeNull();
      const older = recertification(principal, { certifiedAt: T1, expiresAt: '2027-01-01T00:00:00.000Z' });
      const newer = recertification(principal, {
        role: 'validator', tenants: ['org-z', 'org-a', 'org-m'], certifiedAt: T2, expiresAt: '2026-06-01T00:00:00.000Z',
      });
      await sg().recordRecertification(newer);
      await sg().recordRecertification(older);
      await sg().recordRecertification(recertification(await newPrincipal(), { certifiedAt: T3 }));
      expect(await sg().latestRecertification(principal)).toEqual(newer);
      const none = recertification(principal, { tenants: [], certifiedAt: T3 });
      await sg().recordRecertification(none);
      expect(await sg().latestRecertification(principal)).toEqual(none);
      expect(await sg().latestRecertification(rid('prn'))).toBeNull();
    });

    it('refuse a second confirmation at the same moment or an unknown principal with ERR_CONFLICT', async () => {
      const principal = await newPrincipal();
      const r = recertification(principal);
      await sg().recordRecertification(r);
      await expectCode(sg().recordRecertification({ ...r, role: 'admin' }), 'ERR_CONFLICT', [principal]);
      expect(await sg().latestRecertification(principal)).toEqual(r);
      const unknown = rid('prn');
      await expectCode(sg().recordRecertification(recertification(unknown)), 'ERR_CONFLICT', [unknown]);
    });
  });

  describe('restore drills', () => {
    // The last drill is the store's last: these cases get a store of their own.
    const own = ownSafeguards(ctx);

    it('give the last drill received and the last received that passed (then by id), whatever the drill host\'s clock said', async () => {
      expect(await own().lastDrills()).toEqual({ last: null, lastPassed: null });
      const passed = drill({ id: 'drill-a', finishedAt: T3, receivedAt: T1 });
      const laterPassed = drill({ id: 'drill-b', finishedAt: T2, receivedAt: T2, snapshot: 2 ** 40 });
      // Received last, though its host's clock says it finished first.
      const failedLast = drill({ id: 'drill-c', finishedAt: T0, receivedAt: T3, outcome: 'failed', snapshot: null });
      for (const d of [failedLast, laterPassed, passed]) await own().insertDrill(d);
      expect(await own().lastDrills()).toEqual({ last: failedLast, lastPassed: laterPassed });
      const tie = drill({ id: 'drill-d', finishedAt: T3, receivedAt: T3, outcome: 'passed' });
      await own().insertDrill(tie);
      expect(await own().lastDrills()).toEqual({ last: tie, lastPassed: tie });
    });

    it('store a report once (ERR_CONFLICT quoting no value) and refuse a bad outcome or snapshot with a TypeError', async () => {
      const d = drill({ receivedAt: '2030-01-01T00:00:00.000Z' });
      await own().insertDrill(d);
      await expectCode(own().insertDrill({ ...d, outcome: 'failed', receivedAt: '2031-01-01T00:00:00.000Z' }), 'ERR_CONFLICT', [d.id]);
      await expect(own().insertDrill(drill({ outcome: 'maybe' as never }))).rejects.toThrow(TypeError);
      for (const snapshot of [0, -1, 1.5]) await expect(own().insertDrill(drill({ snapshot }))).rejects.toThrow(TypeError);
      // Nothing changed: the refused second report (later, failed) would be the last one otherwise.
      expect(await own().lastDrills()).toEqual({ last: d, lastPassed: d });
    });
  });
}
