/**
 * TOTP (only where the admin's policy allows it) and single-use recovery codes, over HTTP on
 * both stores: enrolment needs a fresh step-up, a TOTP code is accepted once, a recovery code
 * once, and neither leaves a readable secret in the database.
 */
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/accounts/index.js';
import { randomId, systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import { clearForAccess } from '../support/hygiene.js';
import { principalRow } from '../support/store-fixtures.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';

const PASSWORD = 'kaasschaaf-zonnebloem-fietsbel-9';

describe.each(BACKENDS)('TOTP and recovery codes (%s)', (backend) => {
  let f: VaultFixture;
  let passwordHash: string;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    passwordHash = await hashPassword(PASSWORD);
  }, 60_000);
  afterAll(() => f.cleanup());

  const person = async (totpAllowed: boolean) => {
    const row = principalRow({ id: randomId(systemRandom), kind: 'human', role: 'registrar', tenants: ['*'], displayName: 'registrar-factors' });
    const username = `reg-${row.id.slice(0, 10)}`;
    await f.app.store.accounts.insertAccount(row, { principalId: row.id, username, passwordHash, passwordChangedAt: row.createdAt, totpAllowed, createdAt: row.createdAt });
    await clearForAccess(f.app.store, row);
    const key = await generateDpopKey();
    const pair = await f.app.sessions.open({ principalId: row.id, jkt: key.jkt, authMethod: 'passkey', ip: null, userAgent: null });
    return { row, username, key, accessToken: pair.accessToken, sessionId: pair.sessionId };
  };
  const call = async (p: { key: DpopKey; accessToken?: string }, method: 'POST' | 'DELETE', path: string, body: unknown = {}) => {
    const dpop = await createDpopProof(p.key, { method, url: `${PUBLIC_URL}${path}`, ...(p.accessToken ? { accessToken: p.accessToken } : {}), clock: systemClock, random: systemRandom });
    const res = await f.server.inject({
      method, url: path, payload: JSON.stringify(body),
      headers: { 'content-type': 'application/json', dpop, ...(p.accessToken ? { authorization: `DPoP ${p.accessToken}` } : {}) },
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, text: res.body };
  };
  const codeAt = (secret: string, offsetSeconds: number) =>
    TOTP.generate({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1', timestamp: Date.now() + offsetSeconds * 1000 });
  const passwordStep = async (username: string) => f.server.inject({
    method: 'POST', url: '/auth/sign-in', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ username, password: PASSWORD }),
  }).then((r) => JSON.parse(r.body) as { challengeId: string; methods: string[] });

  it('refuses TOTP where the policy does not allow it', async () => {
    const p = await person(false);
    expect((await call(p, 'POST', '/auth/factors/totp/start')).status).toBe(403);
  });

  it('enrols TOTP with a confirming code, then signs in with a later code once', async () => {
    const p = await person(true);
    const start = await call(p, 'POST', '/auth/factors/totp/start');
    expect(start.status).toBe(200);
    expect(start.body.uri).toMatch(/^otpauth:\/\/totp\/labkluis:/);
    // A secret the client picks is never accepted: only the sealed ticket from start counts.
    const chosen = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expect((await call(p, 'POST', '/auth/factors/totp/confirm', { ticket: Buffer.from(chosen).toString('base64url'), code: codeAt(chosen, 0) })).status).toBe(400);
    const stranger = await person(true);
    expect((await call(stranger, 'POST', '/auth/factors/totp/confirm', { ticket: start.body.ticket, code: codeAt(start.body.secret, 0) })).status).toBe(400);
    const stale = codeAt(start.body.secret, -600); // ten minutes old: outside the ±30 s window
    if (stale !== codeAt(start.body.secret, 0)) expect((await call(p, 'POST', '/auth/factors/totp/confirm', { ticket: start.body.ticket, code: stale })).status).toBe(400);
    expect((await call(p, 'POST', '/auth/factors/totp/confirm', { ticket: start.body.ticket, code: codeAt(start.body.secret, 0) })).status).toBe(200);
    const row = await f.app.store.safeguards.getTotp(p.row.id);
    expect(row!.secret.includes(Buffer.from(Secret.fromBase32(start.body.secret).bytes))).toBe(false); // sealed at rest

    const first = await passwordStep(p.username);
    expect(first.methods).toContain('totp');
    const next = codeAt(start.body.secret, 30); // the next step: the confirming code's step is spent
    const device = await generateDpopKey();
    const signedIn = await call({ key: device }, 'POST', '/auth/sign-in/code', { challengeId: first.challengeId, method: 'totp', code: next });
    expect(signedIn.status, signedIn.text).toBe(200);
    expect((await f.app.store.accounts.getSession(signedIn.body.sessionId))!.authMethod).toBe('totp');
    // The same code again, with a fresh challenge: refused (replay).
    const again = await passwordStep(p.username);
    expect((await call({ key: device }, 'POST', '/auth/sign-in/code', { challengeId: again.challengeId, method: 'totp', code: next })).status).toBe(401);
  });

  it('issues ten recovery codes, each good for one sign-in; a new set voids the old', async () => {
    const p = await person(false);
    const issued = await call(p, 'POST', '/auth/factors/recovery-codes');
    expect(issued.status).toBe(200);
    const codes = issued.body.codes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/); // 120 bits each
    const device = await generateDpopKey();
    const first = await passwordStep(p.username);
    expect(first.methods).toContain('recovery-code');
    const ok = await call({ key: device }, 'POST', '/auth/sign-in/code', { challengeId: first.challengeId, method: 'recovery-code', code: codes[0]!.toUpperCase() });
    expect(ok.status, ok.text).toBe(200);
    // A code is not a passkey: that session has no step-up powers (here: changing factors).
    expect((await call({ key: device, accessToken: ok.body.accessToken }, 'POST', '/auth/factors/recovery-codes')).status).toBe(403);
    const audit = (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as { operation: string; principal: { id: string } | null });
    expect(audit.some((e) => e.operation === 'factor-added:recovery-codes' && e.principal?.id === p.row.id)).toBe(true);
    const reuse = await passwordStep(p.username);
    expect((await call({ key: device }, 'POST', '/auth/sign-in/code', { challengeId: reuse.challengeId, method: 'recovery-code', code: codes[0] })).status).toBe(401);
    // A challenge is spent even by a wrong code.
    expect((await call({ key: device }, 'POST', '/auth/sign-in/code', { challengeId: reuse.challengeId, method: 'recovery-code', code: codes[1] })).status).toBe(401);
    expect(await f.app.factors.recoveryCodesLeft(p.row.id)).toBe(9);
    const renewed = await call(p, 'POST', '/auth/factors/recovery-codes');
    const old = await passwordStep(p.username);
    expect((await call({ key: device }, 'POST', '/auth/sign-in/code', { challengeId: old.challengeId, method: 'recovery-code', code: codes[2] })).status).toBe(401);
    expect(renewed.body.codes).toHaveLength(10);
  });

  it('changing factors needs a fresh step-up', async () => {
    const p = await person(true);
    await f.app.store.accounts.setSessionAuthenticated(p.sessionId, new Date(Date.now() - 6 * 60_000).toISOString());
    expect((await call(p, 'POST', '/auth/factors/recovery-codes')).status).toBe(403);
    expect((await call(p, 'POST', '/auth/factors/totp/start')).status).toBe(403);
  });

  it('a sign-in challenge cannot be finished with a code for another account', async () => {
    const a = await person(false);
    const b = await person(false);
    await call(a, 'POST', '/auth/factors/recovery-codes');
    const bCodes = (await call(b, 'POST', '/auth/factors/recovery-codes')).body.codes as string[];
    const challenge = await passwordStep(a.username);
    expect((await call({ key: await generateDpopKey() }, 'POST', '/auth/sign-in/code', { challengeId: challenge.challengeId, method: 'recovery-code', code: bCodes[0] })).status).toBe(401);
    expect(await f.app.factors.recoveryCodesLeft(b.row.id)).toBe(10);
  });
});

