/**
 * People over HTTP, end to end: an admin invites, the person enrols through the one-time link
 * (password + passkey), signs in with password then passkey, reads with a device-bound session,
 * refreshes, steps up and signs out. Each refusal is shown: reused or expired links, weak
 * passwords, wrong passwords (same answer as unknown accounts), throttling, a password alone,
 * admin actions without step-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import { localImporter } from '../../src/auth/index.js';
import { episode, type Episode } from '../support/api.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';

const RP = { origin: PUBLIC_URL, rpId: new URL(PUBLIC_URL).hostname };
const GOOD_PASSWORD = 'zonnebloem-fietsbel-kaasschaaf-7';

interface Person {
  readonly username: string;
  readonly principalId: string;
  readonly key: DpopKey;
  readonly authenticator: SoftAuthenticator;
  tokens: { accessToken: string; refreshToken: string; sessionId: string };
}

describe.each(BACKENDS)('sign-in over HTTP (%s)', (backend) => {
  let f: VaultFixture;
  let ep: Episode;
  let admin: Person;

  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, o: { key?: DpopKey; accessToken?: string; ip?: string } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (o.key) headers.dpop = await createDpopProof(o.key, { method, url: `${PUBLIC_URL}${path}`, ...(o.accessToken ? { accessToken: o.accessToken } : {}), clock: systemClock, random: systemRandom });
    if (o.accessToken) headers.authorization = `DPoP ${o.accessToken}`;
    const res = await f.server.inject({ method, url: path, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }), ...(o.ip ? { remoteAddress: o.ip } : {}) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, text: res.body };
  };
  const secretOf = (url: string) => url.split('#')[1]!;
  const enrol = async (enrolmentUrl: string, username: string, principalId: string): Promise<Person> => {
    const key = await generateDpopKey();
    const authenticator = new SoftAuthenticator(RP);
    const start = await call('POST', '/auth/enrol/start', { secret: secretOf(enrolmentUrl) });
    expect(start.status).toBe(200);
    expect(start.body.username).toBe(username);
    const finish = await call('POST', '/auth/enrol/finish', {
      secret: secretOf(enrolmentUrl), challengeId: start.body.challengeId, password: GOOD_PASSWORD,
      credential: authenticator.createResponse(start.body.options), passkeyName: 'test key',
    }, { key });
    expect(finish.status, finish.text).toBe(200);
    return { username, principalId, key, authenticator, tokens: finish.body };
  };
  const signIn = async (p: Person, password = GOOD_PASSWORD) => {
    const first = await call('POST', '/auth/sign-in', { username: p.username, password });
    if (first.status !== 200) return first;
    return call('POST', '/auth/sign-in/passkey', { challengeId: first.body.challengeId, credential: p.authenticator.getResponse(first.body.options) }, { key: p.key });
  };
  const stepUp = async (p: Person) => {
    const start = await call('POST', '/auth/step-up/start', {}, { key: p.key, accessToken: p.tokens.accessToken });
    expect(start.status).toBe(200);
    const finish = await call('POST', '/auth/step-up/finish', { challengeId: start.body.challengeId, credential: p.authenticator.getResponse(start.body.options) }, { key: p.key, accessToken: p.tokens.accessToken });
    expect(finish.status).toBe(200);
    p.tokens = finish.body; // a step-up renews the session: the pair held before is dead
  };
  const entries = async (): Promise<AuditEntry[]> => (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);

  beforeAll(async () => {
    f = await createVaultFixture(backend);
    ep = await episode(f, f.tenants.a);
    const first = await f.app.accounts.firstAdmin('lab-admin', { ip: 'local', userAgent: null });
    admin = await enrol(`${PUBLIC_URL}/enrol#${first.secret}`, 'lab-admin', first.principalId);
  }, 120_000);
  afterAll(() => f.cleanup());

  const invite = async (username: string, role = 'registrar') => {
    await stepUp(admin);
    const r = await call('POST', '/auth/accounts', { username, displayName: `Test ${username}`, role, tenants: ['*'] }, { key: admin.key, accessToken: admin.tokens.accessToken });
    expect(r.status, r.text).toBe(201);
    expect(r.body.enrolmentUrl).toMatch(new RegExp(`^${PUBLIC_URL}/enrol#[A-Za-z0-9_-]{43}$`));
    return r.body as { principalId: string; enrolmentUrl: string };
  };

  it('the first admin is only made while there are no accounts', async () => {
    await expect(f.app.accounts.firstAdmin('second-admin', { ip: 'local', userAgent: null })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
  });

  it('an invited person enrols once, signs in with password and passkey, and reads as themselves', async () => {
    const inv = await invite('reg-anna');
    const anna = await enrol(inv.enrolmentUrl, 'reg-anna', inv.principalId);
    await stepUp(admin);
    const trained = await call('POST', `/auth/accounts/${inv.principalId}/training`, { completedAt: new Date().toISOString().slice(0, 10) }, { key: admin.key, accessToken: admin.tokens.accessToken });
    expect(trained.status, trained.text).toBe(201);
    // The link is spent.
    expect((await call('POST', '/auth/enrol/start', { secret: secretOf(inv.enrolmentUrl) })).status).toBe(401);
    const signed = await signIn(anna);
    expect(signed.status, signed.text).toBe(200);
    anna.tokens = signed.body;
    const path = `/fhir/${ep.patient}`;
    const headers = { authorization: `DPoP ${anna.tokens.accessToken}`, 'x-labkluis-tenant': f.tenants.a, dpop: await createDpopProof(anna.key, { method: 'GET', url: `${PUBLIC_URL}${path}`, accessToken: anna.tokens.accessToken, clock: systemClock, random: systemRandom }) };
    const read = await f.server.inject({ method: 'GET', url: path, headers });
    expect(read.statusCode).toBe(200);
    const log = await entries();
    expect(log.some((e) => e.operation === 'sign-in' && e.outcome === 'success' && e.principal?.id === inv.principalId)).toBe(true);
    expect(log.some((e) => e.operation === 'factor-added:passkey' && e.principal?.id === inv.principalId)).toBe(true);
  });

  it('refuses a weak password at enrolment without spending the link', async () => {
    const inv = await invite('reg-bert');
    const start = await call('POST', '/auth/enrol/start', { secret: secretOf(inv.enrolmentUrl) });
    const authenticator = new SoftAuthenticator(RP);
    const weak = await call('POST', '/auth/enrol/finish', {
      secret: secretOf(inv.enrolmentUrl), challengeId: start.body.challengeId, password: 'wachtwoord123', credential: authenticator.createResponse(start.body.options), passkeyName: 'k',
    }, { key: await generateDpopKey() });
    expect(weak.status).toBe(400);
    expect(weak.text).not.toContain('wachtwoord123');
    expect(await f.app.store.passkeys.listCredentials(inv.principalId)).toHaveLength(0);
    await enrol(inv.enrolmentUrl, 'reg-bert', inv.principalId); // the link still works
  });

  it('gives a wrong password and an unknown account the same answer, and a password alone opens nothing', async () => {
    const inv = await invite('reg-cor');
    const cor = await enrol(inv.enrolmentUrl, 'reg-cor', inv.principalId);
    const wrong = await call('POST', '/auth/sign-in', { username: 'reg-cor', password: 'not-the-password-at-all' });
    const unknown = await call('POST', '/auth/sign-in', { username: 'nobody-here', password: 'not-the-password-at-all' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    const right = await call('POST', '/auth/sign-in', { username: 'reg-cor', password: GOOD_PASSWORD });
    expect(right.status).toBe(200);
    expect(Object.keys(right.body).sort()).toEqual(['challengeId', 'methods', 'options']); // no token before the second factor
    expect(right.body.methods).toEqual(['passkey']);
    // Someone else's passkey for cor's challenge is refused.
    const other = new SoftAuthenticator(RP);
    const forged = await call('POST', '/auth/sign-in/passkey', { challengeId: right.body.challengeId, credential: other.getResponse(right.body.options) }, { key: cor.key });
    expect(forged.status).toBe(401);
  });

  it('backs off after repeated failures, for existing and unknown accounts alike', async () => {
    for (const username of ['reg-anna', 'ghost-account']) {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await call('POST', '/auth/sign-in', { username, password: `wrong-password-${i}` }, { ip: `10.9.${username.length}.1` })).status);
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toContain(429);
    }
  });

  it('refuses admin actions to people who are not admins and to API tokens (staleness: test/accounts/step-up.test.ts)', async () => {
    const inv = await invite('reg-dirk');
    const dirk = await enrol(inv.enrolmentUrl, 'reg-dirk', inv.principalId);
    const r = await call('POST', '/auth/accounts', { username: 'reg-eve', displayName: 'Test eve', role: 'admin', tenants: ['*'] }, { key: dirk.key, accessToken: dirk.tokens.accessToken });
    expect(r.status).toBe(403);
    const viaApiToken = await f.server.inject({ method: 'POST', url: '/auth/accounts', headers: { ...(await f.credential('admin', 'POST', '/auth/accounts')), 'content-type': 'application/json' }, payload: JSON.stringify({ username: 'reg-eve', displayName: 'Test eve', role: 'admin', tenants: ['*'] }) });
    expect(viaApiToken.statusCode).toBe(403);
    expect(await f.app.store.accounts.findAccountByUsername('reg-eve')).toBeNull();
  });

  it('refreshes, lists and revokes sessions; disabling an account ends them at once', async () => {
    const inv = await invite('reg-fenna');
    const fenna = await enrol(inv.enrolmentUrl, 'reg-fenna', inv.principalId);
    const refreshed = await call('POST', '/auth/token', { refreshToken: fenna.tokens.refreshToken }, { key: fenna.key });
    expect(refreshed.status).toBe(200);
    fenna.tokens = refreshed.body;
    const list = await call('GET', '/auth/sessions', undefined, { key: fenna.key, accessToken: fenna.tokens.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.sessions.filter((s: { live: boolean }) => s.live)).toHaveLength(1);
    await stepUp(admin);
    const disabled = await call('POST', `/auth/accounts/${inv.principalId}/disable`, {}, { key: admin.key, accessToken: admin.tokens.accessToken });
    expect(disabled.status).toBe(200);
    expect(disabled.body.sessionsEnded).toBe(1);
    // The log names the account the admin disabled, not only the admin.
    const entry = (await entries()).find((e) => e.operation === 'account-disabled' && e.principal?.id === admin.principalId);
    expect(entry?.objects).toContainEqual({ type: 'Account', id: inv.principalId });
    expect((await call('GET', '/auth/sessions', undefined, { key: fenna.key, accessToken: fenna.tokens.accessToken })).status).toBe(401);
    expect((await signIn(fenna)).status).toBe(401);
  });

  it('a reset link replaces every factor and ends every session; admins are not reset by link', async () => {
    const inv = await invite('reg-hans');
    const hans = await enrol(inv.enrolmentUrl, 'reg-hans', inv.principalId);
    await stepUp(admin);
    const reset = await call('POST', `/auth/accounts/${inv.principalId}/enrolment-link`, {}, { key: admin.key, accessToken: admin.tokens.accessToken });
    expect(reset.status, reset.text).toBe(200);
    const renewed = await enrol(reset.body.enrolmentUrl, 'reg-hans', inv.principalId);
    // The old session and the old passkey are gone; the new ones work.
    expect((await call('GET', '/auth/sessions', undefined, { key: hans.key, accessToken: hans.tokens.accessToken })).status).toBe(401);
    expect((await signIn(hans)).status).toBe(401);
    expect((await signIn(renewed)).status).toBe(200);
    expect(await f.app.store.passkeys.listCredentials(inv.principalId)).toHaveLength(1);
    await stepUp(admin);
    const own = await call('POST', `/auth/accounts/${admin.principalId}/enrolment-link`, {}, { key: admin.key, accessToken: admin.tokens.accessToken });
    expect(own.status).toBe(403);
  });

  it('enrolling through one link voids every other unused link of the account', async () => {
    const inv = await invite('reg-ines');
    await stepUp(admin);
    const second = await call('POST', `/auth/accounts/${inv.principalId}/enrolment-link`, {}, { key: admin.key, accessToken: admin.tokens.accessToken });
    expect(second.status, second.text).toBe(200);
    await enrol(second.body.enrolmentUrl, 'reg-ines', inv.principalId);
    const secret = inv.enrolmentUrl.split('#')[1]!;
    expect((await call('POST', '/auth/enrol/start', { secret })).status).toBe(401);
  });

  it('a step-up renews the session: the tokens held before are refused at once, the new pair works on the same key', async () => {
    const inv = await invite('adm-joost', 'admin');
    const joost = await enrol(inv.enrolmentUrl, 'adm-joost', inv.principalId);
    const spent = joost.tokens.refreshToken;
    const refreshed = await call('POST', '/auth/token', { refreshToken: spent }, { key: joost.key });
    expect(refreshed.status).toBe(200);
    const before = refreshed.body as Person['tokens'];
    const start = await call('POST', '/auth/step-up/start', {}, { key: joost.key, accessToken: before.accessToken });
    expect(start.status).toBe(200);
    const finish = await call('POST', '/auth/step-up/finish', { challengeId: start.body.challengeId, credential: joost.authenticator.getResponse(start.body.options) }, { key: joost.key, accessToken: before.accessToken });
    expect(finish.status, finish.text).toBe(200);
    expect(Object.keys(finish.body).sort()).toEqual(['accessToken', 'authenticatedAt', 'expiresIn', 'refreshToken', 'sessionId', 'tokenType']);
    const after = finish.body as Person['tokens'] & { authenticatedAt: string };
    expect(after.sessionId).not.toBe(before.sessionId);
    expect(after.refreshToken).not.toBe(before.refreshToken);

    // The old access token is refused at once, step-up powers or not.
    const invitee = { username: 'reg-kees', displayName: 'Test kees', role: 'registrar', tenants: ['*'] };
    expect((await call('POST', '/auth/accounts', invitee, { key: joost.key, accessToken: before.accessToken })).status).toBe(401);
    expect((await call('GET', '/auth/sessions', undefined, { key: joost.key, accessToken: before.accessToken })).status).toBe(401);
    // Neither old refresh token mints anything: not the one the step-up left unspent, not the spent one.
    expect((await call('POST', '/auth/token', { refreshToken: before.refreshToken }, { key: joost.key })).status).toBe(401);
    expect((await call('POST', '/auth/token', { refreshToken: spent }, { key: joost.key })).status).toBe(401);
    // ... and presenting them does not end the new session: a client that drops the old pair loses nothing.
    const invited = await call('POST', '/auth/accounts', invitee, { key: joost.key, accessToken: after.accessToken });
    expect(invited.status, invited.text).toBe(201);
    const list = await call('GET', '/auth/sessions', undefined, { key: joost.key, accessToken: after.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.sessions.map((s: { id: string; live: boolean; endedBecause: string | null }) => [s.id, s.live, s.endedBecause]))
      .toEqual([[before.sessionId, false, 'replaced-at-step-up'], [after.sessionId, true, null]]);
    const next = await call('POST', '/auth/token', { refreshToken: after.refreshToken }, { key: joost.key });
    expect(next.status).toBe(200);
    expect(next.body.sessionId).toBe(after.sessionId);
    // Same device key and absolute end; the assertion is the step-up's.
    const [oldRow, newRow] = [(await f.app.store.accounts.getSession(before.sessionId))!, (await f.app.store.accounts.getSession(after.sessionId))!];
    expect(newRow).toMatchObject({ jkt: joost.key.jkt, absoluteExpiresAt: oldRow.absoluteExpiresAt, authenticatedAt: after.authenticatedAt, authMethod: 'passkey' });
    expect(oldRow.jkt).toBe(joost.key.jkt);

    const mine = (await entries()).filter((e) => e.principal?.id === joost.principalId);
    const objectsOf = (op: string) => mine.filter((e) => e.operation === op && e.outcome === 'success').map((e) => e.objects);
    expect(objectsOf('step-up')).toEqual([[{ type: 'Session', id: before.sessionId }]]);
    expect(objectsOf('session-revoked:replaced-at-step-up')).toEqual([[{ type: 'Session', id: before.sessionId }]]);
    expect(objectsOf('session-opened:step-up')).toEqual([[{ type: 'Session', id: after.sessionId }]]);
    // The spent token's reuse is still reported, against the old session.
    expect(mine.filter((e) => e.operation.startsWith('refresh-reuse')).map((e) => e.objects)).toEqual([[{ type: 'Session', id: before.sessionId }]]);
  });

  it('a refused step-up changes nothing: the tokens held keep working, and no session opens', async () => {
    const inv = await invite('reg-lotte');
    const lotte = await enrol(inv.enrolmentUrl, 'reg-lotte', inv.principalId);
    const row = (await f.app.store.accounts.getSession(lotte.tokens.sessionId))!;
    const start = await call('POST', '/auth/step-up/start', {}, { key: lotte.key, accessToken: lotte.tokens.accessToken });
    expect(start.status).toBe(200);
    const stranger = new SoftAuthenticator(RP); // a passkey that is not lotte's
    const refused = await call('POST', '/auth/step-up/finish', { challengeId: start.body.challengeId, credential: stranger.getResponse(start.body.options) }, { key: lotte.key, accessToken: lotte.tokens.accessToken });
    expect(refused.status).toBe(401);
    expect(refused.text).not.toContain('accessToken');
    const list = await call('GET', '/auth/sessions', undefined, { key: lotte.key, accessToken: lotte.tokens.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.sessions.map((s: { id: string; live: boolean }) => [s.id, s.live])).toEqual([[lotte.tokens.sessionId, true]]);
    expect(await f.app.store.accounts.getSession(lotte.tokens.sessionId)).toMatchObject({ authenticatedAt: row.authenticatedAt, revokedAt: null });
    const next = await call('POST', '/auth/token', { refreshToken: lotte.tokens.refreshToken }, { key: lotte.key });
    expect(next.status).toBe(200);
    expect(next.body.sessionId).toBe(lotte.tokens.sessionId);
    const log = (await entries()).filter((e) => e.principal?.id === lotte.principalId);
    expect(log.some((e) => e.operation === 'step-up:passkey' && e.outcome === 'denied')).toBe(true);
    expect(log.some((e) => e.operation.startsWith('session-opened:step-up') || e.operation.startsWith('session-revoked'))).toBe(false);
  });

  it('signs out: the session ends and its tokens are refused', async () => {
    const inv = await invite('reg-gijs');
    const gijs = await enrol(inv.enrolmentUrl, 'reg-gijs', inv.principalId);
    expect((await call('POST', '/auth/sign-out', {}, { key: gijs.key, accessToken: gijs.tokens.accessToken })).status).toBe(200);
    expect((await call('GET', '/auth/sessions', undefined, { key: gijs.key, accessToken: gijs.tokens.accessToken })).status).toBe(401);
    expect((await call('POST', '/auth/token', { refreshToken: gijs.tokens.refreshToken }, { key: gijs.key })).status).toBe(401);
  });

  it('the local operator is not a person: the importer cannot use the person routes', async () => {
    expect(localImporter('x').authMethod).toBe('local-cli');
    const r = await f.server.inject({ method: 'GET', url: '/auth/sessions', headers: await f.credential('registrar', 'GET', '/auth/sessions') });
    expect(r.statusCode).toBe(403);
  });
});
