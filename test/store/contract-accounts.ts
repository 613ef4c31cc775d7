/** Contract cases for the accounts part: accounts, one-time enrolment links, sessions, refresh tokens. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AccountRow, EnrolmentLinkRow, SessionRow } from '../../src/store/index.js';
import { principalRow, rid, T0 } from '../support/store-fixtures.js';
import type { ContractContext } from './contract.js';
import { expectCode } from './expect-code.js';

const T1 = '2026-01-01T00:05:00.000Z';
const T2 = '2026-01-01T00:10:00.000Z';
const LATER = '2026-01-02T00:00:00.000Z';

function account(principalId: string, overrides: Partial<AccountRow> = {}): AccountRow {
  return {
    principalId, username: rid('user').toLowerCase(), passwordHash: null, passwordChangedAt: null, totpAllowed: false, createdAt: T0,
    ...overrides,
  };
}

function link(principalId: string, overrides: Partial<EnrolmentLinkRow> = {}): EnrolmentLinkRow {
  return { secretHash: randomBytes(32), principalId, purpose: 'invite', createdBy: null, createdAt: T0, expiresAt: T2, usedAt: null, ...overrides };
}

function session(principalId: string, overrides: Partial<SessionRow> = {}): SessionRow {
  return {
    id: rid('ses'), principalId, jkt: randomBytes(32).toString('base64url'), createdAt: T0, lastSeenAt: T0, idleSeconds: 900,
    absoluteExpiresAt: LATER, authenticatedAt: T0, authMethod: 'passkey', revokedAt: null, revokedReason: null,
    ip: '127.0.0.1', userAgent: 'labkluis-test/1', ...overrides,
  };
}

export function describeAccountContract(ctx: ContractContext): void {
  const accounts = () => ctx.store().accounts;
  const newAccount = async (overrides: Partial<AccountRow> = {}) => {
    const p = principalRow({ kind: 'human' });
    const a = account(p.id, overrides);
    await accounts().insertAccount(p, a);
    return { p, a };
  };

  describe('accounts', () => {
    it('tells whether any account exists', async () => {
      const { store, cleanup } = await ctx.fresh();
      try {
        expect(await store.accounts.anyAccount()).toBe(false);
        const p = principalRow({ kind: 'human' });
        await store.accounts.insertAccount(p, account(p.id));
        expect(await store.accounts.anyAccount()).toBe(true);
      } finally {
        await cleanup();
      }
    });
    it('inserts the principal and its account together, found by id and by username', async () => {
      const { p, a } = await newAccount({ totpAllowed: true });
      expect(await ctx.store().getPrincipal(p.id)).toEqual({ ...p, contained: false });
      expect(await accounts().getAccount(p.id)).toEqual(a);
      expect(await accounts().findAccountByUsername(a.username)).toEqual(a);
      expect(await accounts().findAccountByUsername(rid('nobody'))).toBeNull();
    });
    it('lists every account by username', async () => {
      const { store, cleanup } = await ctx.fresh();
      try {
        expect(await store.accounts.listAccounts()).toEqual([]);
        const made: AccountRow[] = [];
        for (const username of ['zeta.lab', 'alpha-lab', 'mid_lab']) {
          const p = principalRow({ kind: 'human' });
          const a = account(p.id, { username });
          await store.accounts.insertAccount(p, a);
          made.push(a);
        }
        expect(await store.accounts.listAccounts()).toEqual([...made].sort((x, y) => (x.username < y.username ? -1 : 1)));
      } finally {
        await cleanup();
      }
    });
    it('refuses a taken username with ERR_CONFLICT and leaves no principal behind', async () => {
      const { a } = await newAccount();
      const p2 = principalRow({ kind: 'human' });
      await expectCode(accounts().insertAccount(p2, account(p2.id, { username: a.username })), 'ERR_CONFLICT', [a.username]);
      expect(await ctx.store().getPrincipal(p2.id)).toBeNull();
    });
    it('refuses an account for a service principal or another principal', async () => {
      const service = principalRow({ kind: 'service' });
      await expect(accounts().insertAccount(service, account(service.id))).rejects.toThrow(TypeError);
      const p = principalRow({ kind: 'human' });
      await expect(accounts().insertAccount(p, account(rid('prn')))).rejects.toThrow(TypeError);
    });
    it('sets a password hash; an unknown account is ERR_NOT_FOUND', async () => {
      const { p } = await newAccount();
      await accounts().setPasswordHash(p.id, '$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA', T1);
      expect(await accounts().getAccount(p.id)).toMatchObject({ passwordHash: '$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA', passwordChangedAt: T1 });
      await expectCode(accounts().setPasswordHash(rid('prn'), 'x', T1), 'ERR_NOT_FOUND');
    });
  });

  describe('enrolment links', () => {
    it('are consumed once, before they expire, and only by their secret', async () => {
      const { p } = await newAccount();
      const l = link(p.id, { purpose: 'first-admin' });
      await accounts().insertEnrolmentLink(l);
      expect(await accounts().consumeEnrolmentLink(randomBytes(32), T1)).toBeNull();
      expect(await accounts().getEnrolmentLink(l.secretHash)).toEqual(l); // looking does not spend it
      expect(await accounts().getEnrolmentLink(randomBytes(32))).toBeNull();
      expect(await accounts().consumeEnrolmentLink(l.secretHash, T1)).toEqual({ ...l, usedAt: T1 });
      expect(await accounts().getEnrolmentLink(l.secretHash)).toEqual({ ...l, usedAt: T1 });
      expect(await accounts().consumeEnrolmentLink(l.secretHash, T1)).toBeNull();
      const expired = link(p.id);
      await accounts().insertEnrolmentLink(expired);
      expect(await accounts().consumeEnrolmentLink(expired.secretHash, T2)).toBeNull(); // expiry is exclusive
      expect(await accounts().consumeEnrolmentLink(expired.secretHash, LATER)).toBeNull();
    });
    it("are voided together: every unused link of one principal, and no one else's", async () => {
      const { p } = await newAccount();
      const { p: other } = await newAccount();
      const used = link(p.id);
      const open = [link(p.id), link(p.id, { purpose: 'reset' })];
      const others = link(other.id);
      for (const l of [used, ...open, others]) await accounts().insertEnrolmentLink(l);
      await accounts().consumeEnrolmentLink(used.secretHash, T0);
      expect(await accounts().voidEnrolmentLinksOf(p.id, T1)).toBe(2);
      for (const l of open) {
        expect(await accounts().getEnrolmentLink(l.secretHash)).toEqual({ ...l, usedAt: T1 });
        expect(await accounts().consumeEnrolmentLink(l.secretHash, T1)).toBeNull();
      }
      expect(await accounts().getEnrolmentLink(used.secretHash)).toEqual({ ...used, usedAt: T0 }); // the first use stands
      expect(await accounts().consumeEnrolmentLink(others.secretHash, T1)).toEqual({ ...others, usedAt: T1 });
      expect(await accounts().voidEnrolmentLinksOf(p.id, T2)).toBe(0);
    });
    it('of two concurrent consumers exactly one wins', async () => {
      const { p } = await newAccount();
      const l = link(p.id);
      await accounts().insertEnrolmentLink(l);
      const results = await Promise.all(Array.from({ length: 6 }, () => accounts().consumeEnrolmentLink(l.secretHash, T1)));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });
  });

  describe('sessions', () => {
    it('round-trip and list per principal in creation order', async () => {
      const { p } = await newAccount();
      const s1 = session(p.id);
      const s2 = session(p.id, { createdAt: T1, lastSeenAt: T1, authMethod: 'totp', ip: null, userAgent: null });
      await accounts().insertSession(s2);
      await accounts().insertSession(s1);
      expect(await accounts().getSession(s1.id)).toEqual(s1);
      expect(await accounts().listSessions(p.id)).toEqual([s1, s2]);
      expect(await accounts().getSession(rid('ses'))).toBeNull();
    });
    it('touch moves last-seen forward only, and not on a revoked session', async () => {
      const { p } = await newAccount();
      const s = session(p.id);
      await accounts().insertSession(s);
      await accounts().touchSession(s.id, T2);
      await accounts().touchSession(s.id, T1);
      expect((await accounts().getSession(s.id))!.lastSeenAt).toBe(T2);
      await accounts().revokeSession(s.id, T2, 'signed-out');
      await accounts().touchSession(s.id, LATER);
      expect((await accounts().getSession(s.id))!.lastSeenAt).toBe(T2);
    });
    it('revocation: the first time and reason stand; a step-up on a revoked session is refused', async () => {
      const { p } = await newAccount();
      const s = session(p.id);
      await accounts().insertSession(s);
      await accounts().setSessionAuthenticated(s.id, T1);
      expect((await accounts().getSession(s.id))!.authenticatedAt).toBe(T1);
      expect(await accounts().revokeSession(s.id, T1, 'token-replay')).toBe(true);
      expect(await accounts().revokeSession(s.id, T2, 'signed-out')).toBe(false);
      expect(await accounts().getSession(s.id)).toMatchObject({ revokedAt: T1, revokedReason: 'token-replay' });
      await expectCode(accounts().setSessionAuthenticated(s.id, T2), 'ERR_NOT_FOUND');
    });
    it("revokes every live session of one principal and no one else's", async () => {
      const { p } = await newAccount();
      const { p: other } = await newAccount();
      const live = [session(p.id), session(p.id)];
      const gone = session(p.id, { revokedAt: T0, revokedReason: 'signed-out' });
      const theirs = session(other.id);
      for (const s of [...live, gone, theirs]) await accounts().insertSession(s);
      expect(await accounts().revokeSessionsOf(p.id, T1, 'account-disabled')).toBe(2);
      for (const s of live) expect(await accounts().getSession(s.id)).toMatchObject({ revokedAt: T1, revokedReason: 'account-disabled' });
      expect(await accounts().getSession(gone.id)).toMatchObject({ revokedAt: T0, revokedReason: 'signed-out' });
      expect((await accounts().getSession(theirs.id))!.revokedAt).toBeNull();
    });
    it("revokes every other live session of one principal, keeping the one named and no one else's", async () => {
      const { p } = await newAccount();
      const { p: other } = await newAccount();
      const keep = session(p.id);
      const others = [session(p.id), session(p.id)];
      const gone = session(p.id, { revokedAt: T0, revokedReason: 'signed-out' });
      const theirs = session(other.id);
      for (const s of [keep, ...others, gone, theirs]) await accounts().insertSession(s);
      expect(await accounts().revokeOtherSessionsOf(p.id, keep.id, T1, 'password-changed')).toBe(2);
      for (const s of others) expect(await accounts().getSession(s.id)).toMatchObject({ revokedAt: T1, revokedReason: 'password-changed' });
      expect((await accounts().getSession(keep.id))!.revokedAt).toBeNull();
      expect(await accounts().getSession(gone.id)).toMatchObject({ revokedAt: T0, revokedReason: 'signed-out' });
      expect((await accounts().getSession(theirs.id))!.revokedAt).toBeNull();
      // Another principal's session id keeps nothing of this one's: all of p's live sessions end.
      expect(await accounts().revokeOtherSessionsOf(p.id, theirs.id, T2, 'revoked-by-owner')).toBe(1);
      expect((await accounts().getSession(theirs.id))!.revokedAt).toBeNull();
    });
    it('a session for an unknown principal is ERR_CONFLICT', async () => {
      await expectCode(accounts().insertSession(session(rid('prn'))), 'ERR_CONFLICT');
    });
  });

  describe('DPoP replay cache', () => {
    it('remembers a key once until it expires, then takes it again', async () => {
      const key = `jkt:${randomBytes(12).toString('hex')}`;
      expect(await accounts().rememberProof(key, 2_000, 1_000)).toBe(true);
      expect(await accounts().rememberProof(key, 3_000, 1_500)).toBe(false);
      expect(await accounts().rememberProof(key, 3_000, 2_000)).toBe(false); // present while now <= expiry
      expect(await accounts().rememberProof(key, 9_000, 2_001)).toBe(true);
      expect(await accounts().rememberProof(key, 9_500, 8_000)).toBe(false);
    });
    it('of concurrent callers exactly one is first', async () => {
      const key = `jkt:${randomBytes(12).toString('hex')}`;
      const results = await Promise.all(Array.from({ length: 8 }, () => accounts().rememberProof(key, 5_000, 1_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
    it('forgets expired keys only', async () => {
      const { store, cleanup } = await ctx.fresh();
      try {
        await store.accounts.rememberProof('a', 100, 0);
        await store.accounts.rememberProof('b', 300, 0);
        expect(await store.accounts.forgetProofs(200)).toBe(1);
        expect(await store.accounts.rememberProof('b', 400, 250)).toBe(false);
        expect(await store.accounts.rememberProof('a', 400, 250)).toBe(true);
      } finally {
        await cleanup();
      }
    });
  });

  describe('refresh tokens', () => {
    it('are used once; a second use reports reuse; an unknown one is null', async () => {
      const { p } = await newAccount();
      const s = session(p.id);
      await accounts().insertSession(s);
      const r = { secretHash: randomBytes(32), sessionId: s.id, createdAt: T0, expiresAt: LATER, usedAt: null };
      await accounts().insertRefreshToken(r);
      expect(await accounts().useRefreshToken(r.secretHash, T1)).toEqual({ row: r, reused: false });
      expect(await accounts().useRefreshToken(r.secretHash, T2)).toEqual({ row: { ...r, usedAt: T1 }, reused: true });
      expect(await accounts().useRefreshToken(randomBytes(32), T1)).toBeNull();
    });
    it('of concurrent uses exactly one is the first', async () => {
      const { p } = await newAccount();
      const s = session(p.id);
      await accounts().insertSession(s);
      const r = { secretHash: randomBytes(32), sessionId: s.id, createdAt: T0, expiresAt: LATER, usedAt: null };
      await accounts().insertRefreshToken(r);
      const uses = await Promise.all(Array.from({ length: 6 }, () => accounts().useRefreshToken(r.secretHash, T1)));
      expect(uses.filter((u) => u !== null && !u.reused)).toHaveLength(1);
      expect(uses.filter((u) => u !== null && u.reused)).toHaveLength(5);
    });
  });
}
