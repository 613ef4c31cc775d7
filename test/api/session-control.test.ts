/**
 * Ending sessions over HTTP, on both stores (OWASP ASVS 5.0 V7.4.3, V7.5.2), and removing TOTP:
 * - POST /auth/sessions/end-others ends every other session of the caller after a step-up;
 * - DELETE /auth/sessions/:id ends the caller's own current session freely (sign-out) and any
 *   other one of theirs only after a step-up; someone else's is 404 and stays;
 * - POST /auth/accounts/:id/revoke-sessions: a security officer or an admin, after a step-up,
 *   ends every session of an account at once; other roles and API tokens are refused;
 * - DELETE /auth/factors/totp needs a step-up; afterwards TOTP codes sign in no more.
 * Every refusal leaves every session as it was.
 */
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { generateDpopKey } from '../../src/sessions/index.js';
import { people, PASSWORD, type Device, type Person } from '../support/people.js';
import { BACKENDS, createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

describe.each(BACKENDS)('ending sessions and removing TOTP over HTTP (%s)', (backend) => {
  let f: VaultFixture;
  let h: ReturnType<typeof people>;
  let officer: Person;
  let admin: Person;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    h = people(f);
    officer = await h.enrol({ role: 'security-officer' });
    admin = await h.enrol({ role: 'admin' });
  }, 60_000);
  afterAll(() => f.cleanup());

  const entries = async (): Promise<AuditEntry[]> => (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
  const live = async (p: Person) => (await f.app.sessions.list(p.principalId)).filter((s) => s.live).map((s) => s.id).sort();
  /** A person signed in on three devices: the enrolling one and two more. */
  const onThreeDevices = async (o: Parameters<typeof h.enrol>[0] = {}) => {
    const p = await h.enrol(o);
    return { p, laptop: await h.signIn(p), phone: await h.signIn(p) };
  };

  describe('POST /auth/sessions/end-others', () => {
    it('without a fresh step-up: 403 and every session stays', async () => {
      const { p, laptop, phone } = await onThreeDevices();
      const before = await live(p);
      await h.stale(p.device);
      const r = await h.call('POST', '/auth/sessions/end-others', {}, { device: p.device });
      expect(r.status).toBe(403);
      expect(r.text).toMatch(/step-up/);
      expect(await live(p)).toEqual(before);
      for (const d of [p.device, laptop, phone]) expect(await h.works(d)).toBe(true);
    });

    it('after a step-up ends every other session at once; this one stays', async () => {
      const { p, laptop, phone } = await onThreeDevices();
      const stranger = await h.enrol(); // someone else's session is none of this
      await h.stepUp(p);
      const r = await h.call('POST', '/auth/sessions/end-others', {}, { device: p.device });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ ended: 2 });
      expect(await h.works(laptop)).toBe(false);
      expect(await h.works(phone)).toBe(false);
      expect(await h.works(p.device)).toBe(true);
      expect(await h.works(stranger.device)).toBe(true);
      expect(await live(p)).toEqual([p.device.tokens.sessionId]);
      for (const d of [laptop, phone]) expect((await f.app.store.accounts.getSession(d.tokens.sessionId))!.revokedReason).toBe('revoked-by-owner');
      expect((await entries()).some((e) => e.operation === 'session-revoked:revoked-by-owner' && e.principal?.id === p.principalId)).toBe(true);
      // Nothing left to end.
      expect((await h.call('POST', '/auth/sessions/end-others', {}, { device: p.device })).body).toEqual({ ended: 0 });
    });

    it('API tokens (services) are refused (403)', async () => {
      for (const who of ['registrar', 'admin', 'securityOfficer'] as const) {
        expect((await h.asService(who, 'POST', '/auth/sessions/end-others')).status, who).toBe(403);
      }
    });
  });

  describe('DELETE /auth/sessions/:id', () => {
    it('ending another of one\'s sessions needs a fresh step-up (403 without, and it stays)', async () => {
      const { p, laptop } = await onThreeDevices();
      await h.stale(p.device);
      const r = await h.call('DELETE', `/auth/sessions/${laptop.tokens.sessionId}`, undefined, { device: p.device });
      expect(r.status).toBe(403);
      expect(r.text).toMatch(/step-up/);
      expect(await h.works(laptop)).toBe(true);
      await h.stepUp(p);
      const ok = await h.call('DELETE', `/auth/sessions/${laptop.tokens.sessionId}`, undefined, { device: p.device });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body).toEqual({ ended: true });
      expect(await h.works(laptop)).toBe(false);
      expect(await h.works(p.device)).toBe(true);
    });

    it('ending one\'s own current session (signing out) needs no step-up', async () => {
      const { p, laptop } = await onThreeDevices();
      await h.stale(laptop);
      const r = await h.call('DELETE', `/auth/sessions/${laptop.tokens.sessionId}`, undefined, { device: laptop });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ ended: true });
      expect(await h.works(laptop)).toBe(false);
      expect(await h.works(p.device)).toBe(true);
      // POST /auth/sign-out stays free as well.
      await h.stale(p.device);
      expect((await h.call('POST', '/auth/sign-out', {}, { device: p.device })).status).toBe(200);
      expect(await h.works(p.device)).toBe(false);
    });

    it("someone else's session is 404, the same as an unknown one, even after a step-up, and stays", async () => {
      const a = await h.enrol();
      const b = await h.enrol();
      await h.stepUp(a);
      const foreign = await h.call('DELETE', `/auth/sessions/${b.device.tokens.sessionId}`, undefined, { device: a.device });
      const unknown = await h.call('DELETE', '/auth/sessions/abcdefghijklmnopqrstuvwxyz', undefined, { device: a.device });
      expect(foreign.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect(foreign.body).toEqual(unknown.body);
      expect(await h.works(b.device)).toBe(true);
    });

    it('API tokens (services) are refused (403)', async () => {
      const p = await h.enrol();
      const path = `/auth/sessions/${p.device.tokens.sessionId}`;
      for (const who of ['registrar', 'admin', 'securityOfficer'] as const) expect((await h.asService(who, 'DELETE', path)).status, who).toBe(403);
      expect(await h.works(p.device)).toBe(true);
    });
  });

  describe('POST /auth/accounts/:id/revoke-sessions', () => {
    const revoke = (by: Device, target: Person) => h.call('POST', `/auth/accounts/${target.principalId}/revoke-sessions`, {}, { device: by });

    it('a security officer ends every session of an account at once; the next request fails', async () => {
      const { p, laptop, phone } = await onThreeDevices();
      await h.stepUp(officer);
      const r = await revoke(officer.device, p);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ sessionsEnded: 3 });
      for (const d of [p.device, laptop, phone]) expect(await h.works(d)).toBe(false);
      expect((await h.call('POST', '/auth/token', { refreshToken: laptop.tokens.refreshToken }, { key: laptop.key })).status).toBe(401);
      expect(await live(p)).toEqual([]);
      expect((await f.app.store.accounts.getSession(phone.tokens.sessionId))!.revokedReason).toBe('revoked-by-security-officer');
      const entry = (await entries()).find((e) => e.operation === 'sessions-revoked' && e.principal?.id === officer.principalId);
      expect(entry?.objects).toContainEqual({ type: 'Account', id: p.principalId });
      expect(await h.works(officer.device)).toBe(true);
      // The account itself is not disabled: its owner signs in again.
      expect(await h.works(await h.signIn(p))).toBe(true);
    });

    it('an admin may do the same', async () => {
      const { p, laptop } = await onThreeDevices();
      await h.stepUp(admin);
      const r = await revoke(admin.device, p);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ sessionsEnded: 3 });
      expect(await h.works(laptop)).toBe(false);
      expect(await h.works(p.device)).toBe(false);
    });

    it('without a fresh step-up the security officer is refused (403) and every session stays', async () => {
      const { p } = await onThreeDevices();
      const before = await live(p);
      await h.stale(officer.device);
      const r = await revoke(officer.device, p);
      expect(r.status).toBe(403);
      expect(await live(p)).toEqual(before);
    });

    it('another role is refused (403), even after a step-up, and every session stays', async () => {
      const { p } = await onThreeDevices();
      const before = await live(p);
      for (const role of ['registrar', 'analyst', 'validator'] as const) {
        const other = await h.enrol({ role });
        await h.stepUp(other);
        const r = await revoke(other.device, p);
        expect(r.status, role).toBe(403);
      }
      expect(await live(p)).toEqual(before);
      expect((await entries()).some((e) => e.operation === 'account-admin:refused' && e.outcome === 'denied')).toBe(true);
    });

    it('API tokens are refused (403), the security officer\'s and the admin\'s too', async () => {
      const { p } = await onThreeDevices();
      const before = await live(p);
      const path = `/auth/accounts/${p.principalId}/revoke-sessions`;
      for (const who of ['securityOfficer', 'admin', 'registrar'] as const) expect((await h.asService(who, 'POST', path)).status, who).toBe(403);
      expect(await live(p)).toEqual(before);
    });
  });

  describe('DELETE /auth/factors/totp', () => {
    const codeAt = (secret: string, offsetSeconds: number) =>
      TOTP.generate({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1', timestamp: Date.now() + offsetSeconds * 1000 });
    /** A person (TOTP allowed) with TOTP set up over HTTP; returns the secret. */
    const withTotp = async () => {
      const p = await h.enrol({ totpAllowed: true });
      const start = await h.call('POST', '/auth/factors/totp/start', {}, { device: p.device });
      expect(start.status, start.text).toBe(200);
      const confirm = await h.call('POST', '/auth/factors/totp/confirm', { ticket: start.body.ticket, code: codeAt(start.body.secret, 0) }, { device: p.device });
      expect(confirm.status, confirm.text).toBe(200);
      return { p, secret: start.body.secret as string };
    };
    const passwordStep = async (p: Person) => {
      const r = await h.call('POST', '/auth/sign-in', { username: p.username, password: PASSWORD }, { ip: p.device.ip });
      expect(r.status, r.text).toBe(200);
      return r.body as { challengeId: string; methods: string[] };
    };
    const signInWithCode = async (p: Person, code: string) => {
      const first = await passwordStep(p);
      return h.call('POST', '/auth/sign-in/code', { challengeId: first.challengeId, method: 'totp', code }, { key: await generateDpopKey(), ip: p.device.ip });
    };

    it('without a fresh step-up: 403, and TOTP still signs in', async () => {
      const { p, secret } = await withTotp();
      await h.stale(p.device);
      const r = await h.call('DELETE', '/auth/factors/totp', undefined, { device: p.device });
      expect(r.status).toBe(403);
      expect(r.text).toMatch(/step-up/);
      expect(await f.app.store.safeguards.getTotp(p.principalId)).not.toBeNull();
      expect((await signInWithCode(p, codeAt(secret, 30))).status).toBe(200);
      // API tokens never qualify.
      expect((await h.asService('registrar', 'DELETE', '/auth/factors/totp')).status).toBe(403);
    });

    it('after a step-up TOTP is removed and audited; its codes sign in no more', async () => {
      const { p, secret } = await withTotp();
      expect((await passwordStep(p)).methods).toContain('totp');
      await h.stepUp(p);
      const r = await h.call('DELETE', '/auth/factors/totp', undefined, { device: p.device });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ removed: true });
      expect(await f.app.store.safeguards.getTotp(p.principalId)).toBeNull();
      expect((await passwordStep(p)).methods).not.toContain('totp');
      // A code of the next step: never used, inside the window, and still refused.
      expect((await signInWithCode(p, codeAt(secret, 30))).status).toBe(401);
      expect((await entries()).some((e) => e.operation === 'factor-removed:totp' && e.outcome === 'success' && e.principal?.id === p.principalId)).toBe(true);
      // Removed twice: nothing left to remove.
      expect((await h.call('DELETE', '/auth/factors/totp', undefined, { device: p.device })).body).toEqual({ removed: false });
    });
  });
});
