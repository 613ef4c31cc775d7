/**
 * Changing one's own password over HTTP, on both stores (OWASP ASVS 5.0 V6.2.2, V6.2.3, V7.4.3):
 * POST /auth/password needs a fresh step-up and the current password; wrong guesses count
 * against the account's sign-in budget; the new password meets the enrolment policy and differs
 * from the current one. Every refusal changes nothing. A change ends every other session of the
 * account and keeps the one that asked; the old password signs in no more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { verifyPassword } from '../../src/accounts/index.js';
import { people, PASSWORD, type Device } from '../support/people.js';
import { BACKENDS, createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

const NEW_PASSWORD = 'paraplu-tuinslang-vuurtoren-42';

describe.each(BACKENDS)('password change over HTTP (%s)', (backend) => {
  let f: VaultFixture;
  let h: ReturnType<typeof people>;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    h = people(f);
  }, 60_000);
  afterAll(() => f.cleanup());

  const entries = async (): Promise<AuditEntry[]> => (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
  const storedHash = async (principalId: string) => (await f.app.store.accounts.getAccount(principalId))!.passwordHash;
  const change = (device: Device, currentPassword: unknown, newPassword: unknown) =>
    h.call('POST', '/auth/password', { currentPassword, newPassword }, { device });

  it('changes the password: the old one signs in no more, the new one does; other sessions end, this one stays', async () => {
    const p = await h.enrol();
    const laptop = await h.signIn(p);
    const phone = await h.signIn(p);
    await h.stepUp(p);
    const r = await change(p.device, PASSWORD, NEW_PASSWORD);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ sessionsEnded: 2 });
    expect(r.text).not.toContain(PASSWORD);
    expect(r.text).not.toContain(NEW_PASSWORD);
    // The other devices' tokens are dead, refresh tokens included; the asking device goes on.
    expect(await h.works(laptop)).toBe(false);
    expect(await h.works(phone)).toBe(false);
    expect((await h.call('POST', '/auth/token', { refreshToken: laptop.tokens.refreshToken }, { key: laptop.key })).status).toBe(401);
    expect(await h.works(p.device)).toBe(true);
    for (const d of [laptop, phone]) expect((await f.app.store.accounts.getSession(d.tokens.sessionId))!.revokedReason).toBe('password-changed');
    // The old password is refused at the first step; the new one opens a session with the passkey.
    expect((await h.trySignIn(p, PASSWORD)).reply.status).toBe(401);
    const again = await h.signIn(p, NEW_PASSWORD);
    expect(await h.works(again)).toBe(true);
    expect(await verifyPassword((await storedHash(p.principalId))!, NEW_PASSWORD)).toBe(true);
    const audited = (await entries()).filter((e) => e.operation === 'factor-changed:password' && e.principal?.id === p.principalId);
    expect(audited.map((e) => e.outcome)).toEqual(['success']);
    expect(audited[0]!.objects).toContainEqual({ type: 'Session', id: p.device.tokens.sessionId });
    expect(JSON.stringify(audited)).not.toContain(NEW_PASSWORD);
  });

  it('without a fresh step-up: 403 and nothing changes', async () => {
    const p = await h.enrol();
    const other = await h.signIn(p);
    await h.stale(p.device);
    const before = await storedHash(p.principalId);
    const r = await change(p.device, PASSWORD, NEW_PASSWORD);
    expect(r.status).toBe(403);
    expect(r.text).toMatch(/step-up/);
    expect(await storedHash(p.principalId)).toBe(before);
    expect(await h.works(other)).toBe(true);
    expect((await h.trySignIn(p, NEW_PASSWORD)).reply.status).toBe(401);
    await h.signIn(p, PASSWORD);
    expect((await entries()).some((e) => e.operation === 'factor-changed:password' && e.principal?.id === p.principalId
      && e.outcome === 'denied' && e.errorCode === 'ERR_FORBIDDEN')).toBe(true);
  });

  it('a wrong current password is refused (403) and counted; past the limit even the right one waits, here and at sign-in', async () => {
    const p = await h.enrol();
    const other = await h.signIn(p);
    await h.stepUp(p);
    const before = await storedHash(p.principalId);
    const ip = '10.77.0.1';
    const wrong = await h.call('POST', '/auth/password', { currentPassword: 'not-the-current-password', newPassword: NEW_PASSWORD }, { device: p.device, ip });
    expect(wrong.status).toBe(403);
    expect(wrong.text).not.toContain('not-the-current-password');
    expect(wrong.text).not.toContain(NEW_PASSWORD);
    const statuses = [wrong.status];
    for (let i = 0; i < 7 && !statuses.includes(429); i++) {
      statuses.push((await h.call('POST', '/auth/password', { currentPassword: `wrong-guess-number-${i}`, newPassword: NEW_PASSWORD }, { device: p.device, ip })).status);
    }
    // Five free guesses (ACCOUNT_RULE), a sixth that starts the wait, then the account waits.
    expect(statuses.slice(0, 6)).toEqual([403, 403, 403, 403, 403, 403]);
    expect(statuses.at(-1)).toBe(429);
    const right = await h.call('POST', '/auth/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, { device: p.device });
    expect(right.status).toBe(429);
    // One budget per account: sign-in with the right password waits too, from another network.
    expect((await h.call('POST', '/auth/sign-in', { username: p.username, password: PASSWORD }, { ip: '10.78.0.1' })).status).toBe(429);
    expect(await storedHash(p.principalId)).toBe(before);
    expect(await h.works(other)).toBe(true);
    const denied = (await entries()).filter((e) => e.operation === 'factor-changed:password' && e.principal?.id === p.principalId && e.outcome === 'denied');
    expect(denied.filter((e) => e.errorCode === 'ERR_FORBIDDEN')).toHaveLength(6);
    expect(denied.some((e) => e.errorCode === 'ERR_RATE_LIMITED')).toBe(true);
  });

  it('a weak, common or personal new password is 400 with advice; the old password still works', async () => {
    const p = await h.enrol({ username: 'pvdkerkhof', displayName: 'Jan de Vries' });
    const other = await h.signIn(p);
    await h.stepUp(p);
    const before = await storedHash(p.principalId);
    // 'pvdkerkhof1234' alone passes the policy: it is refused here because it is this person's username.
    for (const [candidate, advice] of [
      ['pvdkerkhof1234', /easy to guess/], ['JanDeVries1987', /easy to guess/], ['1qaz2wsx3edc', /commonly used/],
      ['kort-wachtw', /at least 12 characters/], ['x'.repeat(129), /at most 128/],
    ] as const) {
      const r = await change(p.device, PASSWORD, candidate);
      expect(r.status, candidate).toBe(400);
      expect(r.text).toMatch(advice);
      expect(r.text).not.toContain(candidate);
    }
    const same = await change(p.device, PASSWORD, PASSWORD);
    expect(same.status).toBe(400);
    expect(same.text).toMatch(/differ/);
    // Malformed bodies are refused before anything is checked.
    expect((await change(p.device, undefined, NEW_PASSWORD)).status).toBe(400);
    expect((await change(p.device, PASSWORD, 42)).status).toBe(400);
    expect(await storedHash(p.principalId)).toBe(before);
    expect(await h.works(other)).toBe(true);
    await h.signIn(p, PASSWORD);
  });

  it('API tokens (services) are refused (403)', async () => {
    for (const who of ['registrar', 'admin', 'securityOfficer'] as const) {
      const r = await h.asService(who, 'POST', '/auth/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
      expect(r.status, who).toBe(403);
    }
  });
});
