/**
 * The operator's reset is the one way into an admin or security-officer account that no admin
 * can take: only the local operator (the CLI on the server) may call it. A signed-in admin with
 * a fresh step-up, or an admin's API token, is refused before anything changes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localImporter, principalFromRow, principalFromSession } from '../../src/auth/index.js';
import { isLabkluisError, randomId, systemRandom } from '../../src/kernel/index.js';
import { principalRow } from '../support/store-fixtures.js';
import { BACKENDS, createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

const FACTS = { ip: '127.0.0.1', userAgent: null };

describe.each(BACKENDS)('operator reset is for the operator only (%s)', (backend) => {
  let f: VaultFixture;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
  }, 60_000);
  afterAll(() => f.cleanup());

  const account = async (role: 'admin' | 'security-officer') => {
    const row = principalRow({ id: randomId(systemRandom), kind: 'human', role, tenants: ['*'] });
    const username = `${role}-${row.id.slice(0, 8)}`;
    await f.app.store.accounts.insertAccount(row, { principalId: row.id, username, passwordHash: null, passwordChangedAt: null, totpAllowed: false, createdAt: row.createdAt });
    const link = await f.app.signIn.createEnrolmentLink({ principalId: row.id, purpose: 'invite', createdBy: null, ttlSeconds: 600 });
    return { row, username, link };
  };
  const refusedWith = async (p: Promise<unknown>) => {
    const e = await p.then(() => null, (err: unknown) => err);
    return isLabkluisError(e) ? e.code : e;
  };

  it('refuses a signed-in admin, even freshly stepped up, and an API token; nothing changes', async () => {
    const admin = await account('admin');
    const officer = await account('security-officer');
    const session = principalFromSession(admin.row, { id: randomId(systemRandom), authenticatedAt: new Date().toISOString() });
    const token = principalFromRow(admin.row, randomId(systemRandom));
    for (const by of [session, token]) {
      expect(await refusedWith(f.app.accounts.resetByOperator(by, officer.username, FACTS))).toBe('ERR_FORBIDDEN');
      expect(await refusedWith(f.app.accounts.listForOperator(by))).toBe('ERR_FORBIDDEN');
    }
    // The officer's pending link still works: the refused calls voided nothing.
    expect((await f.app.signIn.startEnrolment(officer.link.secret, FACTS)).username).toBe(officer.username);
  });

  it('the operator resets a security officer: every factor and session gone, a new 24-hour link, the earlier one void', async () => {
    const officer = await account('security-officer');
    const id = officer.row.id;
    const now = new Date().toISOString();
    // Whatever a thief may hold: a passkey, a TOTP secret, recovery codes, a live session.
    await f.app.store.passkeys.saveCredential({
      credentialId: randomBytes(16).toString('base64url'), principalId: id, publicKey: randomBytes(77), counter: 0, transports: [],
      backedUp: false, deviceType: 'singleDevice', createdAt: now, lastUsedAt: null, name: 'stolen laptop',
    });
    await f.app.store.safeguards.setTotp({ principalId: id, secret: randomBytes(48), createdAt: now, lastStep: 0 });
    await f.app.store.safeguards.replaceRecoveryCodes(id, [randomBytes(32), randomBytes(32)], now);
    const pair = await f.app.sessions.open({ principalId: id, jkt: randomBytes(32).toString('base64url'), authMethod: 'passkey', ip: null, userAgent: null });

    const reset = await f.app.accounts.resetByOperator(localImporter('ops'), officer.username, FACTS);
    expect(reset).toMatchObject({ principalId: id, role: 'security-officer', linksVoided: 1, sessionsEnded: 1, passkeysRemoved: 1 });
    expect(await f.app.store.passkeys.listCredentials(id)).toEqual([]);
    expect(await f.app.store.safeguards.getTotp(id)).toBeNull();
    expect(await f.app.store.safeguards.countRecoveryCodes(id)).toBe(0);
    expect((await f.app.store.accounts.getSession(pair.sessionId))?.revokedReason).toBe('reset-by-operator');
    expect(Date.parse(reset.expiresAt) - Date.now()).toBeGreaterThan(23.9 * 3600 * 1000);
    expect(Date.parse(reset.expiresAt) - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
    expect(await refusedWith(f.app.signIn.startEnrolment(officer.link.secret, FACTS))).toBe('ERR_UNAUTHENTICATED');
    expect((await f.app.signIn.startEnrolment(reset.secret, FACTS)).username).toBe(officer.username);
  });
});
