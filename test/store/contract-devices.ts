/** Contract cases for the device-grant part (RFC 8628): user codes, decisions, polls and the single redemption. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SLOW_DOWN_STEP_SECONDS, type DeviceGrantRow } from '../../src/store/index.js';
import { principalRow, rid, T0 } from '../support/store-fixtures.js';
import type { ContractContext } from './contract.js';
import { expectCode } from './expect-code.js';

const T1 = '2026-01-01T00:00:03.000Z';
const T2 = '2026-01-01T00:00:06.000Z';
const T5 = '2026-01-01T00:05:00.000Z';
const EXPIRES = '2026-01-01T00:10:00.000Z';
const LATER = '2026-01-01T01:00:00.000Z';

const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const userCode = (): string => Array.from(randomBytes(8), (b) => ALPHABET[b % ALPHABET.length]).join('');

function grant(overrides: Partial<DeviceGrantRow> = {}): DeviceGrantRow {
  return {
    deviceCodeHash: randomBytes(32), userCode: userCode(), jkt: randomBytes(32).toString('base64url'), createdAt: T0, expiresAt: EXPIRES,
    intervalSeconds: 5, lastPolledAt: null, approvedBy: null, approvedAt: null, deniedAt: null, redeemedAt: null, ...overrides,
  };
}

export function describeDeviceContract(ctx: ContractContext): void {
  const devices = () => ctx.store().devices;
  const person = async (): Promise<string> => {
    const p = principalRow({ kind: 'human' });
    await ctx.store().insertPrincipal(p);
    return p.id;
  };
  const inserted = async (overrides: Partial<DeviceGrantRow> = {}): Promise<DeviceGrantRow> => {
    const g = grant(overrides);
    await devices().insert(g);
    return g;
  };

  describe('device grants', () => {
    it('are found by user code while live, and only then', async () => {
      const g = await inserted();
      expect(await devices().getByUserCode(g.userCode, T1)).toEqual(g);
      expect(await devices().getByUserCode(userCode(), T1)).toBeNull();
      expect(await devices().getByUserCode(g.userCode, EXPIRES)).toBeNull(); // expiry is exclusive
      const denied = await inserted();
      await devices().deny(denied.userCode, T1);
      expect(await devices().getByUserCode(denied.userCode, T2)).toBeNull();
      const redeemed = await inserted();
      await devices().approve(redeemed.userCode, await person(), T1);
      expect(await devices().getByUserCode(redeemed.userCode, T2)).toMatchObject({ approvedAt: T1 }); // approved is still live
      await devices().redeem(redeemed.deviceCodeHash, T2);
      expect(await devices().getByUserCode(redeemed.userCode, T2)).toBeNull();
    });

    it('a user code is unique among live grants; one held by a grant no longer live is freed', async () => {
      const live = await inserted();
      await expectCode(devices().insert(grant({ userCode: live.userCode })), 'ERR_CONFLICT', [live.userCode]);
      await expectCode(devices().insert(grant({ deviceCodeHash: live.deviceCodeHash })), 'ERR_CONFLICT');
      expect(await devices().getByUserCode(live.userCode, T1)).toEqual(live);

      const expired = await inserted({ expiresAt: T1 });
      const successor = await inserted({ userCode: expired.userCode, createdAt: T2, expiresAt: LATER });
      expect(await devices().getByUserCode(expired.userCode, T2)).toEqual(successor);
      expect(await devices().poll(expired.deviceCodeHash, T2)).toBeNull(); // the dead grant is gone

      const denied = await inserted();
      await devices().deny(denied.userCode, T1);
      const next = await inserted({ userCode: denied.userCode, createdAt: T2 });
      expect(await devices().getByUserCode(denied.userCode, T2)).toEqual(next);
    });

    it('approval: only a pending grant, once, and not after a denial or expiry', async () => {
      const who = await person();
      const g = await inserted();
      expect(await devices().approve(userCode(), who, T1)).toBeNull();
      expect(await devices().approve(g.userCode, who, T1)).toEqual({ ...g, approvedBy: who, approvedAt: T1 });
      expect(await devices().approve(g.userCode, who, T2)).toBeNull();
      expect(await devices().deny(g.userCode, T2)).toBeNull(); // an approval stands
      expect(await devices().getByUserCode(g.userCode, T2)).toMatchObject({ approvedAt: T1, deniedAt: null });

      const denied = await inserted();
      expect(await devices().deny(denied.userCode, T1)).toEqual({ ...denied, deniedAt: T1 });
      expect(await devices().deny(denied.userCode, T2)).toBeNull();
      expect(await devices().approve(denied.userCode, who, T2)).toBeNull();

      const late = await inserted();
      expect(await devices().approve(late.userCode, who, EXPIRES)).toBeNull();
      expect(await devices().deny(late.userCode, EXPIRES)).toBeNull();
    });

    it('approval by an unknown principal is ERR_CONFLICT and changes nothing', async () => {
      const g = await inserted();
      await expectCode(devices().approve(g.userCode, rid('prn'), T1), 'ERR_CONFLICT');
      expect(await devices().getByUserCode(g.userCode, T1)).toEqual(g);
    });

    it('of concurrent decisions exactly one wins', async () => {
      const who = await person();
      const g = await inserted();
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? devices().approve(g.userCode, who, T1) : devices().deny(g.userCode, T1))));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });

    it('polls record the time; one sooner than the interval slows the client down by the step', async () => {
      const g = await inserted();
      expect(await devices().poll(randomBytes(32), T1)).toBeNull();
      expect(await devices().poll(g.deviceCodeHash, T0)).toEqual({ row: { ...g, lastPolledAt: T0 }, slowDown: false });
      // 3 s later, interval 5 s: too soon.
      expect(await devices().poll(g.deviceCodeHash, T1)).toEqual({ row: { ...g, lastPolledAt: T1, intervalSeconds: 5 + SLOW_DOWN_STEP_SECONDS }, slowDown: true });
      // 3 s later again, interval now 10 s: still too soon.
      expect((await devices().poll(g.deviceCodeHash, T2))!.slowDown).toBe(true);
      // Long enough after: no slow-down, the grown interval stays.
      expect(await devices().poll(g.deviceCodeHash, T5)).toEqual({ row: { ...g, lastPolledAt: T5, intervalSeconds: 5 + 2 * SLOW_DOWN_STEP_SECONDS }, slowDown: false });
    });

    it('of concurrent polls at one instant only the first is in time, and each late one counts', async () => {
      const g = await inserted();
      const polls = await Promise.all(Array.from({ length: 5 }, () => devices().poll(g.deviceCodeHash, T1)));
      expect(polls.filter((p) => p !== null && !p.slowDown)).toHaveLength(1);
      const last = await devices().poll(g.deviceCodeHash, LATER);
      expect(last!.row.intervalSeconds).toBe(5 + 4 * SLOW_DOWN_STEP_SECONDS);
    });

    it('redemption: only an approved, live grant, exactly once', async () => {
      const who = await person();
      const g = await inserted();
      expect(await devices().redeem(g.deviceCodeHash, T1)).toBeNull(); // pending
      await devices().approve(g.userCode, who, T1);
      expect(await devices().redeem(randomBytes(32), T2)).toBeNull();
      expect(await devices().redeem(g.deviceCodeHash, T2)).toEqual({ ...g, approvedBy: who, approvedAt: T1, redeemedAt: T2 });
      expect(await devices().redeem(g.deviceCodeHash, T2)).toBeNull();

      const denied = await inserted();
      await devices().deny(denied.userCode, T1);
      expect(await devices().redeem(denied.deviceCodeHash, T2)).toBeNull();

      const expired = await inserted();
      await devices().approve(expired.userCode, who, T1);
      expect(await devices().redeem(expired.deviceCodeHash, EXPIRES)).toBeNull();
    });

    it('of concurrent redemptions exactly one gets the grant', async () => {
      const who = await person();
      const g = await inserted();
      await devices().approve(g.userCode, who, T1);
      const results = await Promise.all(Array.from({ length: 6 }, () => devices().redeem(g.deviceCodeHash, T2)));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });

    it('the sweep deletes grants expired at the given time, and no others', async () => {
      const { store, cleanup } = await ctx.fresh();
      try {
        const old = grant({ expiresAt: T1 });
        const edge = grant({ expiresAt: T2 });
        const live = grant();
        for (const g of [old, edge, live]) await store.devices.insert(g);
        expect(await store.devices.deleteExpired(T2)).toBe(2);
        expect(await store.devices.poll(old.deviceCodeHash, T5)).toBeNull();
        expect(await store.devices.poll(edge.deviceCodeHash, T5)).toBeNull();
        expect(await store.devices.poll(live.deviceCodeHash, T5)).not.toBeNull();
        expect(await store.devices.deleteExpired(T2)).toBe(0);
      } finally {
        await cleanup();
      }
    });
  });
}
