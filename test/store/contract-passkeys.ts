/**
 * Contract cases for the passkey part: credentials unique across principals, a counter that
 * only moves forward (compare-and-set, also under concurrency), deletion by the owner only,
 * challenges consumed once and never at or after expiry, and the sweep of expired challenges.
 * The cases run on every Store backend and on MemoryPasskeyStore, the reference implementation.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChallengeRow, PasskeyRow, PasskeyStore } from '../../src/store/index.js';
import { principalRow, rid, T0 } from '../support/store-fixtures.js';
import type { ContractContext } from './contract.js';
import { expectCode } from './expect-code.js';

const T1 = '2026-01-01T00:01:00.000Z';
const T2 = '2026-01-01T00:02:00.000Z';
const T3 = '2026-01-01T00:03:00.000Z';
const T4 = '2026-01-01T00:04:00.000Z';
const EXPIRES = '2026-01-01T00:05:00.000Z';
const JUST_BEFORE = '2026-01-01T00:04:59.999Z';
const LATER = '2026-01-02T00:00:00.000Z';
/** The largest signature counter an authenticator can send (§6.1: 32 bits, unsigned). */
const MAX_COUNTER = 0xffffffff;

/** What the cases need: the store under test and a principal its credentials may belong to. */
export interface PasskeySubject {
  passkeys(): PasskeyStore;
  newPrincipal(): Promise<string>;
}

function credential(principalId: string, overrides: Partial<PasskeyRow> = {}): PasskeyRow {
  return {
    credentialId: randomBytes(16).toString('base64url'), principalId, publicKey: randomBytes(77), counter: 0,
    transports: ['usb'], backedUp: false, deviceType: 'singleDevice', createdAt: T0, lastUsedAt: null, name: rid('key'),
    ...overrides,
  };
}

function challenge(overrides: Partial<ChallengeRow> = {}): ChallengeRow {
  return {
    id: rid('ch'), challenge: randomBytes(32).toString('base64url'), purpose: 'authenticate', principalId: null,
    createdAt: T0, expiresAt: EXPIRES, usedAt: null, ...overrides,
  };
}

/** The cases every PasskeyStore passes. */
export function describePasskeyCases(subject: PasskeySubject): void {
  const passkeys = () => subject.passkeys();
  const saved = async (overrides: Partial<PasskeyRow> = {}): Promise<PasskeyRow> => {
    const row = credential(await subject.newPrincipal(), overrides);
    await passkeys().saveCredential(row);
    return row;
  };

  describe('passkey credentials', () => {
    it('round-trip every field: key bytes, transports in their order, flags, null and set last use', async () => {
      const a = await saved({ transports: ['usb', 'nfc', 'hybrid', 'internal'], backedUp: true, deviceType: 'multiDevice', name: 'lab laptop ü' });
      const b = await saved({ transports: [], counter: MAX_COUNTER, lastUsedAt: T1 });
      for (const row of [a, b]) {
        const got = await passkeys().getCredential(row.credentialId);
        expect(got).toEqual(row);
        expect(Buffer.isBuffer(got?.publicKey)).toBe(true);
      }
      expect(await passkeys().getCredential(rid('cred'))).toBeNull();
    });

    it('list per principal, oldest first', async () => {
      const principal = await subject.newPrincipal();
      const other = await subject.newPrincipal();
      const newer = credential(principal, { createdAt: T2 });
      const older = credential(principal, { createdAt: T1 });
      await passkeys().saveCredential(newer);
      await passkeys().saveCredential(credential(other));
      await passkeys().saveCredential(older);
      expect(await passkeys().listCredentials(principal)).toEqual([older, newer]);
      expect(await passkeys().listCredentials(rid('prn'))).toEqual([]);
    });

    it('are unique by credential id across principals: ERR_CONFLICT quoting no id', async () => {
      const row = await saved();
      const other = await subject.newPrincipal();
      await expectCode(passkeys().saveCredential(credential(other, { credentialId: row.credentialId })), 'ERR_CONFLICT', [row.credentialId]);
      await expectCode(passkeys().saveCredential(row), 'ERR_CONFLICT', [row.credentialId]);
      expect(await passkeys().getCredential(row.credentialId)).toEqual(row);
      expect(await passkeys().listCredentials(other)).toEqual([]);
    });

    it('move the counter forward only: higher wins, equal and lower are refused, 0 may stay 0', async () => {
      const { credentialId } = await saved();
      expect(await passkeys().updateCounter(credentialId, 0, T1)).toBe(true); // both 0: a non-counting authenticator
      expect(await passkeys().getCredential(credentialId)).toMatchObject({ counter: 0, lastUsedAt: T1 });
      expect(await passkeys().updateCounter(credentialId, 5, T2)).toBe(true);
      expect(await passkeys().updateCounter(credentialId, 5, T3)).toBe(false);
      expect(await passkeys().updateCounter(credentialId, 4, T3)).toBe(false);
      expect(await passkeys().updateCounter(credentialId, 0, T3)).toBe(false);
      expect(await passkeys().updateCounter(rid('cred'), 9, T3)).toBe(false);
      expect(await passkeys().getCredential(credentialId)).toMatchObject({ counter: 5, lastUsedAt: T2 });
      expect(await passkeys().updateCounter(credentialId, MAX_COUNTER, T4)).toBe(true);
      expect(await passkeys().getCredential(credentialId)).toMatchObject({ counter: MAX_COUNTER, lastUsedAt: T4 });
    });

    it('of concurrent updates with one counter exactly one wins; with several the highest stands', async () => {
      const { credentialId } = await saved({ counter: 3 });
      const same = await Promise.all(Array.from({ length: 6 }, (_, i) => passkeys().updateCounter(credentialId, 7, `2026-01-01T00:0${i}:00.000Z`)));
      expect(same.filter(Boolean)).toHaveLength(1);
      expect((await passkeys().getCredential(credentialId))?.counter).toBe(7);
      const counters = [9, 12, 8, 11, 10];
      const mixed = await Promise.all(counters.map((c) => passkeys().updateCounter(credentialId, c, T4)));
      expect(mixed[counters.indexOf(12)]).toBe(true);
      expect((await passkeys().getCredential(credentialId))?.counter).toBe(12);
    });

    it('are deleted only by their owner', async () => {
      const row = await saved();
      const other = await subject.newPrincipal();
      expect(await passkeys().deleteCredential(other, row.credentialId)).toBe(false);
      expect(await passkeys().getCredential(row.credentialId)).toEqual(row);
      expect(await passkeys().deleteCredential(row.principalId, row.credentialId)).toBe(true);
      expect(await passkeys().getCredential(row.credentialId)).toBeNull();
      expect(await passkeys().deleteCredential(row.principalId, row.credentialId)).toBe(false);
    });

    it("are removed by their holder, but never the holder's last one; another's is unknown", async () => {
      const first = await saved();
      const principal = first.principalId;
      const second = credential(principal, { createdAt: T1 });
      await passkeys().saveCredential(second);
      const stranger = await subject.newPrincipal();
      expect(await passkeys().deleteCredentialUnlessLast(stranger, first.credentialId)).toBe('unknown');
      expect(await passkeys().deleteCredentialUnlessLast(principal, randomBytes(16).toString('base64url'))).toBe('unknown');
      expect(await passkeys().deleteCredentialUnlessLast(principal, first.credentialId)).toBe('deleted');
      expect(await passkeys().deleteCredentialUnlessLast(principal, first.credentialId)).toBe('unknown');
      expect(await passkeys().deleteCredentialUnlessLast(principal, second.credentialId)).toBe('last');
      expect(await passkeys().listCredentials(principal)).toEqual([second]);
    });

    it('of concurrent removals of the last two exactly one succeeds', async () => {
      for (let round = 0; round < 3; round++) {
        const a = await saved();
        const b = credential(a.principalId, { createdAt: T1 });
        await passkeys().saveCredential(b);
        const results = await Promise.all([
          passkeys().deleteCredentialUnlessLast(a.principalId, a.credentialId),
          passkeys().deleteCredentialUnlessLast(a.principalId, b.credentialId),
        ]);
        expect([...results].sort()).toEqual(['deleted', 'last']);
        expect(await passkeys().listCredentials(a.principalId)).toHaveLength(1);
      }
    });

    it('hand out copies: changing the saved or a returned row does not change the store', async () => {
      const row = credential(await subject.newPrincipal(), { publicKey: Buffer.from([1, 2, 3]) });
      await passkeys().saveCredential(row);
      row.publicKey[0] = 99;
      const got = await passkeys().getCredential(row.credentialId);
      expect(got?.publicKey[0]).toBe(1);
      got!.publicKey[0] = 42;
      expect(() => (got!.transports as string[]).push('nfc')).toThrow();
      expect(await passkeys().getCredential(row.credentialId)).toMatchObject({ publicKey: Buffer.from([1, 2, 3]), transports: ['usb'] });
    });
  });

  describe('passkey challenges', () => {
    it('are consumed once, returned with usedAt set', async () => {
      const c = challenge({ purpose: 'register', principalId: await subject.newPrincipal() });
      await passkeys().saveChallenge(c);
      expect(await passkeys().consumeChallenge(c.id, T1)).toEqual({ ...c, usedAt: T1 });
      expect(await passkeys().consumeChallenge(c.id, T2)).toBeNull();
      expect(await passkeys().consumeChallenge(rid('ch'), T1)).toBeNull();
    });

    it('round-trip a null principal (a usernameless sign-in)', async () => {
      const c = challenge({ principalId: null });
      await passkeys().saveChallenge(c);
      expect(await passkeys().consumeChallenge(c.id, T1)).toEqual({ ...c, principalId: null, usedAt: T1 });
    });

    it('are not consumed at or after expiry (expiry is exclusive)', async () => {
      const a = challenge();
      const b = challenge();
      const c = challenge();
      for (const row of [a, b, c]) await passkeys().saveChallenge(row);
      expect(await passkeys().consumeChallenge(a.id, EXPIRES)).toBeNull();
      expect(await passkeys().consumeChallenge(b.id, LATER)).toBeNull();
      expect(await passkeys().consumeChallenge(c.id, JUST_BEFORE)).toMatchObject({ id: c.id, usedAt: JUST_BEFORE });
    });

    it('of concurrent consumers exactly one wins', async () => {
      const c = challenge();
      await passkeys().saveChallenge(c);
      const results = await Promise.all(Array.from({ length: 6 }, () => passkeys().consumeChallenge(c.id, T1)));
      expect(results.filter((r) => r !== null)).toEqual([{ ...c, usedAt: T1 }]);
    });

    it('refuse a reused challenge id with ERR_CONFLICT quoting no id', async () => {
      const c = challenge();
      await passkeys().saveChallenge(c);
      await expectCode(passkeys().saveChallenge({ ...c, challenge: randomBytes(32).toString('base64url') }), 'ERR_CONFLICT', [c.id]);
      expect(await passkeys().consumeChallenge(c.id, T1)).toEqual({ ...c, usedAt: T1 });
    });

    it('the sweep deletes only expired challenges, used or not, and counts them', async () => {
      // Timestamps of their own (2001), so the count is exact on a store other cases share.
      const at = (minute: number): string => `2001-01-01T00:0${minute}:00.000Z`;
      const gone = [challenge({ createdAt: at(0), expiresAt: at(2) }), challenge({ createdAt: at(0), expiresAt: at(5), usedAt: at(1) })];
      const boundary = challenge({ createdAt: at(0), expiresAt: at(5) });
      const kept = [challenge({ createdAt: at(0), expiresAt: at(6) }), challenge({ createdAt: at(0), expiresAt: at(6), usedAt: at(1) })];
      for (const row of [...gone, boundary, ...kept]) await passkeys().saveChallenge(row);
      expect(await passkeys().deleteExpiredChallenges(at(5))).toBe(3);
      expect(await passkeys().deleteExpiredChallenges(at(5))).toBe(0);
      // A deleted id is free again; a kept unused one can still be consumed before it expires.
      await passkeys().saveChallenge(boundary);
      expect(await passkeys().consumeChallenge(kept[0]!.id, at(5))).toEqual({ ...kept[0], usedAt: at(5) });
      expect(await passkeys().consumeChallenge(kept[1]!.id, at(5))).toBeNull();
      expect(await passkeys().deleteExpiredChallenges(at(7))).toBe(3);
    });
  });
}

/** The cases on a Store backend, plus what a database adds: credentials need a known principal. */
export function describePasskeyContract(ctx: ContractContext): void {
  describePasskeyCases({
    passkeys: () => ctx.store().passkeys,
    newPrincipal: async () => {
      const p = principalRow({ kind: 'human' });
      await ctx.store().insertPrincipal(p);
      return p.id;
    },
  });

  describe('passkeys and principals', () => {
    // MemoryPasskeyStore keeps no principals, so this case is the backends' alone.
    it('a credential for an unknown principal is ERR_CONFLICT', async () => {
      const principal = rid('prn');
      await expectCode(ctx.store().passkeys.saveCredential(credential(principal)), 'ERR_CONFLICT', [principal]);
    });
    it('a challenge may name a principal the store does not know (no foreign key)', async () => {
      const c = challenge({ principalId: rid('prn') });
      await ctx.store().passkeys.saveChallenge(c);
      expect(await ctx.store().passkeys.consumeChallenge(c.id, T1)).toEqual({ ...c, usedAt: T1 });
    });
  });
}
