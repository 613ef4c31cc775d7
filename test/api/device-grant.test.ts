/**
 * The CLI's sign-in over HTTP, end to end: the device authorisation grant (RFC 8628) bound to
 * DPoP. A CLI key starts a grant, a signed-in person approves its code with a fresh step-up, and
 * the CLI redeems it once for a session bound to its own key. Each refusal is shown: polling too
 * fast, denial, expiry, approval without step-up or by an API token, a token request from
 * another key, unknown and garbled codes, guessing. Last, the real `labkluis login` and
 * `logout` code runs against the in-process server.
 */
import { stat, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceGrant, SignInThrottle } from '../../src/accounts/index.js';
import type { AuditEntry } from '../../src/audit/index.js';
import type { Principal } from '../../src/auth/index.js';
import { login, logout, type Fetch } from '../../src/cli/commands/login.js';
import { ManualClock, systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, loadDpopKey, MemoryReplayCache, type DpopKey } from '../../src/sessions/index.js';
import type { AccountEvent } from '../../src/vault/index.js';
import { runCli } from '../support/cli.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { createTempDir, type TempDir } from '../support/tmp.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture, type Who } from '../support/vault-fixture.js';

const RP = { origin: PUBLIC_URL, rpId: new URL(PUBLIC_URL).hostname };
const GOOD_PASSWORD = 'zonnebloem-fietsbel-kaasschaaf-7';
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

interface Person {
  readonly principalId: string;
  readonly key: DpopKey;
  readonly authenticator: SoftAuthenticator;
  tokens: { accessToken: string; refreshToken: string; sessionId: string };
}

interface CallOptions {
  readonly key?: DpopKey;
  readonly accessToken?: string;
  /** Send the fixture's DPoP-bound API token of this service principal. */
  readonly service?: Who;
  readonly ip?: string;
}

describe.each(BACKENDS)('device sign-in for the CLI (%s)', (backend) => {
  let f: VaultFixture;
  let admin: Person;
  let tmp: TempDir;

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown, o: CallOptions = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (o.key) headers.dpop = await createDpopProof(o.key, { method, url: `${PUBLIC_URL}${path}`, ...(o.accessToken ? { accessToken: o.accessToken } : {}), clock: systemClock, random: systemRandom });
    if (o.accessToken) headers.authorization = `DPoP ${o.accessToken}`;
    if (o.service) Object.assign(headers, await f.credential(o.service, method, path));
    const res = await f.server.inject({ method, url: path, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }), ...(o.ip ? { remoteAddress: o.ip } : {}) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, text: res.body };
  };
  const enrol = async (enrolmentUrl: string, principalId: string): Promise<Person> => {
    const key = await generateDpopKey();
    const authenticator = new SoftAuthenticator(RP);
    const secret = enrolmentUrl.split('#')[1]!;
    const start = await call('POST', '/auth/enrol/start', { secret });
    const finish = await call('POST', '/auth/enrol/finish', {
      secret, challengeId: start.body.challengeId, password: GOOD_PASSWORD, credential: authenticator.createResponse(start.body.options), passkeyName: 'test key',
    }, { key });
    expect(finish.status, finish.text).toBe(200);
    return { principalId, key, authenticator, tokens: finish.body };
  };
  const as = (p: Person): CallOptions => ({ key: p.key, accessToken: p.tokens.accessToken });
  const stepUp = async (p: Person) => {
    const start = await call('POST', '/auth/step-up/start', {}, as(p));
    expect(start.status).toBe(200);
    const finish = await call('POST', '/auth/step-up/finish', { challengeId: start.body.challengeId, credential: p.authenticator.getResponse(start.body.options) }, as(p));
    expect(finish.status).toBe(200);
    p.tokens = finish.body; // a step-up renews the session: the pair held before is dead
  };
  const invite = async (username: string): Promise<Person> => {
    await stepUp(admin);
    const r = await call('POST', '/auth/accounts', { username, displayName: `Test ${username}`, role: 'registrar', tenants: ['*'] }, as(admin));
    expect(r.status, r.text).toBe(201);
    return enrol(r.body.enrolmentUrl, r.body.principalId);
  };
  const start = async (key: DpopKey) => {
    const r = await call('POST', '/auth/device', {}, { key });
    expect(r.status, r.text).toBe(200);
    return r.body as { deviceCode: string; userCode: string; verificationUri: string; verificationUriComplete: string; expiresIn: number; interval: number };
  };
  const poll = (key: DpopKey, deviceCode: string) => call('POST', '/auth/device/token', { deviceCode }, { key });
  const approve = (p: Person, userCode: unknown, ip?: string) => call('POST', '/auth/device/approve', { userCode }, { ...as(p), ...(ip ? { ip } : {}) });
  const entries = async (): Promise<AuditEntry[]> => (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
  /** The session table, as an attacker or the passing of time would change it. */
  const sessionsTable = () => (backend === 'sqlite' ? 'core_sessions' : 'core.sessions');

  beforeAll(async () => {
    f = await createVaultFixture(backend);
    tmp = await createTempDir('labkluis-login-');
    const first = await f.app.accounts.firstAdmin('lab-admin', { ip: 'local', userAgent: null });
    admin = await enrol(`${PUBLIC_URL}/enrol#${first.secret}`, first.principalId);
  }, 120_000);
  afterAll(async () => {
    await f.cleanup();
    await tmp.cleanup();
  });

  it('start, pending, approval with step-up, one redemption: a session bound to the CLI key only', async () => {
    const cli = await generateDpopKey();
    const s = await start(cli);
    expect(s.userCode).toMatch(USER_CODE);
    expect(s.deviceCode).toMatch(/^lkd_[A-Za-z0-9_-]{43}$/);
    expect(s).toMatchObject({ verificationUri: `${PUBLIC_URL}/device`, verificationUriComplete: `${PUBLIC_URL}/device#${s.userCode}`, expiresIn: 600, interval: 5 });

    const pending = await poll(cli, s.deviceCode);
    expect(pending).toMatchObject({ status: 400, body: { error: 'authorization_pending' } });
    await stepUp(admin);
    const ok = await approve(admin, s.userCode.toLowerCase()); // codes are case-insensitive
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ approved: true });

    const got = await poll(cli, s.deviceCode);
    expect(got.status, got.text).toBe(200);
    expect(Object.keys(got.body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'sessionId', 'tokenType']);
    expect(got.body.tokenType).toBe('DPoP');
    // Exactly once.
    expect(await poll(cli, s.deviceCode)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // The code is spent too.
    expect((await approve(admin, s.userCode)).status).toBe(404);

    const tokens = got.body as { accessToken: string; sessionId: string };
    const mine = await call('GET', '/auth/sessions', undefined, { key: cli, accessToken: tokens.accessToken });
    expect(mine.status, mine.text).toBe(200);
    const session = (mine.body.sessions as { id: string; authMethod: string; live: boolean }[]).find((x) => x.id === tokens.sessionId);
    expect(session).toMatchObject({ authMethod: 'passkey', live: true });
    expect((await f.app.store.accounts.getSession(tokens.sessionId))!.principalId).toBe(admin.principalId);
    // The approver's own key cannot use the CLI's token (and showing it so ends the CLI's session).
    expect((await call('GET', '/auth/sessions', undefined, { key: admin.key, accessToken: tokens.accessToken })).status).toBe(401);
    expect((await call('GET', '/auth/sessions', undefined, { key: cli, accessToken: tokens.accessToken })).status).toBe(401);

    const log = await entries();
    const ops = log.filter((e) => e.operation.startsWith('device-')).map((e) => `${e.operation}/${e.outcome}`);
    expect(ops).toEqual(expect.arrayContaining(['device-start/success', 'device-approved/success', 'device-token/success', 'device-token:redeemed/denied']));
    expect(log.find((e) => e.operation === 'device-token' && e.outcome === 'success')!.principal?.id).toBe(admin.principalId);
    const text = JSON.stringify(log);
    for (const secret of [s.deviceCode, s.userCode, s.userCode.replace('-', ''), tokens.accessToken]) expect(text).not.toContain(secret);
  });

  it('polling faster than the interval is told to slow down, and the interval grows', async () => {
    const cli = await generateDpopKey();
    const s = await start(cli);
    expect((await poll(cli, s.deviceCode)).body).toEqual({ error: 'authorization_pending' });
    expect(await poll(cli, s.deviceCode)).toMatchObject({ status: 400, body: { error: 'slow_down' } });
    expect((await poll(cli, s.deviceCode)).body).toEqual({ error: 'slow_down' });
    const grant = (await f.app.store.devices.getByUserCode(s.userCode.replace('-', ''), new Date().toISOString()))!;
    expect(grant.intervalSeconds).toBe(15);
  });

  it('a denied grant answers access_denied and can no longer be approved', async () => {
    const cli = await generateDpopKey();
    const s = await start(cli);
    const denied = await call('POST', '/auth/device/deny', { userCode: s.userCode }, as(admin));
    expect(denied.status, denied.text).toBe(200);
    expect(denied.body).toEqual({ denied: true });
    expect(await poll(cli, s.deviceCode)).toMatchObject({ status: 400, body: { error: 'access_denied' } });
    await stepUp(admin);
    expect((await approve(admin, s.userCode)).status).toBe(404);
    expect((await entries()).some((e) => e.operation === 'device-denied' && e.outcome === 'success' && e.principal?.id === admin.principalId)).toBe(true);
  });

  it('an expired grant answers expired_token and can no longer be approved (TTL and clock injected)', async () => {
    const clock = new ManualClock(new Date());
    const events: AccountEvent[] = [];
    const device = new DeviceGrant({
      store: f.app.store, sessions: f.app.sessions, replay: new MemoryReplayCache({ clock }), throttle: new SignInThrottle({ clock }),
      clock, random: systemRandom, events: async (e) => void events.push(e), publicUrl: PUBLIC_URL, ttlSeconds: 60,
    });
    const cli = await generateDpopKey();
    const proof = async (path: string) => ({
      dpop: await createDpopProof(cli, { method: 'POST', url: `${PUBLIC_URL}${path}`, clock, random: systemRandom }), method: 'POST', url: `${PUBLIC_URL}${path}`, ip: '127.0.0.1', userAgent: null,
    });
    const s = await device.start(await proof('/auth/device'));
    expect(s.expiresIn).toBe(60);
    expect(await device.token(s.deviceCode, await proof('/auth/device/token'))).toEqual({ ok: false, error: 'authorization_pending' });
    clock.advance(60_000);
    expect(await device.token(s.deviceCode, await proof('/auth/device/token'))).toEqual({ ok: false, error: 'expired_token' });
    const person: Principal = {
      id: admin.principalId, kind: 'human', role: 'admin', tenants: ['*'], instrument: null, displayName: 'lab-admin', authMethod: 'session',
      credentialId: admin.tokens.sessionId, authenticatedAt: clock.now().toISOString(),
    };
    await expect(device.approve(person, s.userCode, { ip: '127.0.0.1', userAgent: null })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(events.map((e) => `${e.kind}:${e.reason ?? ''}:${e.outcome}`)).toEqual(['device-start::success', 'device-token:expired:denied', 'device-approved:unknown-code:denied']);
  });

  it('approval needs a fresh step-up', async () => {
    const reg = await invite('reg-stale');
    const cli = await generateDpopKey();
    const s = await start(cli);
    // Time passes: the session's last passkey assertion is long ago.
    await f.rawSql(`UPDATE ${sessionsTable()} SET authenticated_at = '2020-01-01T00:00:00.000Z' WHERE id = '${reg.tokens.sessionId}'`);
    const stale = await approve(reg, s.userCode);
    expect(stale.status).toBe(403);
    expect(stale.text).toMatch(/step-up/);
    expect((await poll(cli, s.deviceCode)).body).toEqual({ error: 'authorization_pending' });
    await stepUp(reg);
    expect((await approve(reg, s.userCode)).status).toBe(200);
    const got = await poll(cli, s.deviceCode);
    expect(got.status).toBe(200);
    expect((await f.app.store.accounts.getSession(got.body.sessionId))!.principalId).toBe(reg.principalId);
    expect((await entries()).some((e) => e.operation === 'device-approved:step-up' && e.outcome === 'denied')).toBe(true);
  });

  it('an API token cannot approve or deny, whatever its role', async () => {
    const cli = await generateDpopKey();
    const s = await start(cli);
    for (const path of ['/auth/device/approve', '/auth/device/deny']) {
      const r = await call('POST', path, { userCode: s.userCode }, { service: 'admin' });
      expect(r.status).toBe(403);
    }
    expect((await poll(cli, s.deviceCode)).body).toEqual({ error: 'authorization_pending' });
    // Without any credential: 401, before the body is read.
    expect((await call('POST', '/auth/device/approve', { userCode: s.userCode })).status).toBe(401);
  });

  it('a token request signed by another key is refused and redeems nothing', async () => {
    const cli = await generateDpopKey();
    const thief = await generateDpopKey();
    const s = await start(cli);
    await stepUp(admin);
    expect((await approve(admin, s.userCode)).status).toBe(200);
    expect(await poll(thief, s.deviceCode)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await f.app.store.devices.getByUserCode(s.userCode.replace('-', ''), new Date().toISOString()))!.redeemedAt).toBeNull();
    // Without a proof at all.
    const bare = await f.server.inject({ method: 'POST', url: '/auth/device/token', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ deviceCode: s.deviceCode }) });
    expect(bare.statusCode).toBe(400);
    expect(JSON.parse(bare.body)).toEqual({ error: 'invalid_dpop_proof' });
    // The CLI itself still gets its session.
    expect((await poll(cli, s.deviceCode)).status).toBe(200);
    expect((await entries()).some((e) => e.operation === 'device-token:key-mismatch' && e.outcome === 'denied')).toBe(true);
  });

  it('unknown and garbled codes say nothing about other grants', async () => {
    const prober = await invite('reg-prober'); // failures count against this person, not the admin
    await stepUp(prober);
    const cli = await generateDpopKey();
    const used = await start(cli);
    await call('POST', '/auth/device/deny', { userCode: used.userCode }, as(prober));
    const unknown = await approve(prober, 'BCDF-GHJK', '10.7.0.1');
    const decided = await approve(prober, used.userCode, '10.7.0.1');
    expect(unknown.status).toBe(404);
    expect(decided.status).toBe(404);
    expect(decided.body).toEqual(unknown.body);
    for (const garbled of ['<script>alert(1)</script>', 'BCDF-GHJ', 'AEIO-UAEI', 12345678, null]) {
      const r = await approve(prober, garbled, '10.7.0.2');
      expect(r.status).toBe(400);
      expect(r.text).not.toContain('script');
    }
    // The token endpoint: RFC 6749 §5.2 errors, nothing more.
    expect((await poll(cli, `lkd_${'A'.repeat(43)}`)).body).toEqual({ error: 'invalid_grant' });
    expect((await poll(cli, 'not-a-device-code')).body).toEqual({ error: 'invalid_grant' });
    expect((await call('POST', '/auth/device/token', {}, { key: cli })).body).toEqual({ error: 'invalid_request' });
    // Starting needs a proof.
    expect((await call('POST', '/auth/device', {})).status).toBe(401);
  });

  it('guessing codes is throttled per person', async () => {
    const guesser = await invite('reg-guesser');
    await stepUp(guesser);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await approve(guesser, `BCDF-GHJ${'KLMNPQRS'[i]}`, '10.8.0.1')).status);
    expect(statuses.slice(0, 6)).toEqual([404, 404, 404, 404, 404, 404]);
    expect(statuses[6]).toBe(429);
  });

  it('the device page\'s lookup shows a pending code\'s time and origin to a signed-in person, and nothing for any other code', async () => {
    const looker = await invite('reg-looker'); // failures count against this person, not the admin
    const lookup = (userCode: unknown, ip = '10.9.0.2') => call('POST', '/auth/device/lookup', { userCode }, { ...as(looker), ip });
    const cli = await generateDpopKey();
    const started = await call('POST', '/auth/device', {}, { key: cli, ip: '10.9.0.7' });
    expect(started.status).toBe(200);
    const s = started.body as { deviceCode: string; userCode: string };
    // Reading grants nothing: no step-up needed.
    await f.rawSql(`UPDATE ${sessionsTable()} SET authenticated_at = '2020-01-01T00:00:00.000Z' WHERE id = '${looker.tokens.sessionId}'`);

    const seen = await lookup(s.userCode.toLowerCase().replace('-', ' '));
    expect(seen.status, seen.text).toBe(200);
    expect(seen.body).toEqual({
      userCode: s.userCode, requestedAt: expect.any(String), expiresAt: expect.any(String),
      requestedFrom: { ip: '10.9.0.7', userAgent: 'lightMyRequest' },
    });
    expect(Date.parse(seen.body.expiresAt) - Date.parse(seen.body.requestedAt)).toBe(600_000);
    expect(Math.abs(Date.now() - Date.parse(seen.body.requestedAt))).toBeLessThan(60_000);
    expect((await poll(cli, s.deviceCode)).body).toEqual({ error: 'authorization_pending' }); // nothing decided

    // Unknown, approved and denied codes: one answer, the same as approve's for an unknown code.
    const unknown = await lookup('BCDF-GHJK');
    expect(unknown.status).toBe(404);
    await stepUp(admin);
    expect((await approve(admin, 'BCDF-GHJK')).body).toEqual(unknown.body);
    expect((await approve(admin, s.userCode)).status).toBe(200);
    const approved = await lookup(s.userCode);
    const denied = await start(cli);
    expect((await call('POST', '/auth/device/deny', { userCode: denied.userCode }, as(admin))).status).toBe(200);
    const decided = await lookup(denied.userCode);
    for (const r of [approved, decided]) expect([r.status, r.body]).toEqual([404, unknown.body]);
    for (const garbled of ['<script>alert(1)</script>', 'BCDF-GHJ', 12345678, null]) {
      const r = await lookup(garbled);
      expect(r.status).toBe(400);
      expect(r.text).not.toContain('script');
    }
    // For signed-in people only.
    expect((await call('POST', '/auth/device/lookup', { userCode: denied.userCode }, { service: 'admin' })).status).toBe(403);
    expect((await call('POST', '/auth/device/lookup', { userCode: denied.userCode })).status).toBe(401);
    // Looking up unknown codes counts as guessing, like approving them (three so far).
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await lookup(`BCDF-GHJ${'KLMN'[i]}`)).status);
    expect(statuses).toEqual([404, 404, 404, 429]);

    const log = await entries();
    expect(log.some((e) => e.operation === 'device-lookup' && e.outcome === 'success' && e.principal?.id === looker.principalId)).toBe(true);
    expect(log.some((e) => e.operation === 'device-lookup:unknown-code' && e.outcome === 'denied')).toBe(true);
    const text = JSON.stringify(log);
    for (const code of [s.userCode, s.userCode.replace('-', ''), denied.userCode]) expect(text).not.toContain(code);
  });

  describe('labkluis login and logout, against this server', () => {
    // The real CLI code; its fetch reaches the in-process server instead of the network.
    const viaInject: Fetch = async (url, init) => {
      const u = new URL(url);
      if (u.origin !== PUBLIC_URL) throw new TypeError('fetch failed');
      const res = await f.server.inject({ method: init.method as 'POST', url: `${u.pathname}${u.search}`, headers: init.headers, payload: init.body });
      return { status: res.statusCode, text: async () => res.body };
    };

    it('creates a 0600 key file, polls honouring slow_down, saves a 0600 session and never prints a token', async () => {
      const keyPath = tmp.file('cfg/device-key.json');
      const sessionPath = tmp.file('cfg/session.json');
      const lines: string[] = [];
      const sleeps: number[] = [];
      await stepUp(admin);
      const sleep = async (ms: number) => {
        sleeps.push(ms);
        // The person approves in the browser while the CLI waits for the third time.
        if (sleeps.length === 3) {
          const code = /enter ([A-Z]{4}-[A-Z]{4})$/.exec(lines.find((l) => l.includes(' and enter '))!)![1]!;
          expect((await approve(admin, code)).status).toBe(200);
        }
      };
      await login({ server: PUBLIC_URL, keyPath, sessionPath, fetch: viaInject, sleep, env: {} }, (l) => lines.push(l));
      expect(sleeps).toEqual([5000, 5000, 10_000]); // pending, slow_down (+5 s), then approved
      expect(lines.some((l) => /^open https:\/\/labkluis\.test\/device and enter [A-Z]{4}-[A-Z]{4}$/.test(l))).toBe(true);
      expect(lines.some((l) => l.includes(`${PUBLIC_URL}/device#`))).toBe(true);
      expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
      expect((await stat(sessionPath)).mode & 0o777).toBe(0o600);

      const saved = JSON.parse(await readFile(sessionPath, 'utf8')) as { server: string; accessToken: string; refreshToken: string; sessionId: string };
      expect(saved.server).toBe(PUBLIC_URL);
      const printed = lines.join('\n');
      for (const secret of [saved.accessToken, saved.refreshToken]) expect(printed).not.toContain(secret);
      expect(printed).not.toContain('lkd_');

      const key = await loadDpopKey(keyPath);
      expect((await call('GET', '/auth/sessions', undefined, { key, accessToken: saved.accessToken })).status).toBe(200);

      // A second login reuses the key file.
      const out2: string[] = [];
      await expect(login({ server: PUBLIC_URL, keyPath, sessionPath: tmp.file('cfg/other.json'), fetch: viaInject, sleep: async () => {
        const code = /enter ([A-Z]{4}-[A-Z]{4})$/.exec(out2.find((l) => l.includes(' and enter '))!)![1]!;
        await call('POST', '/auth/device/deny', { userCode: code }, as(admin));
      }, env: {} }, (l) => out2.push(l))).rejects.toMatchObject({ code: 'ERR_UNAUTHENTICATED', message: 'the sign-in was denied in the browser' });
      expect(out2.some((l) => l.startsWith('created the device key'))).toBe(false);
      await expect(stat(tmp.file('cfg/other.json'))).rejects.toMatchObject({ code: 'ENOENT' });

      const bye: string[] = [];
      await logout({ sessionPath, fetch: viaInject, env: {} }, (l) => bye.push(l));
      expect(bye).toEqual(['signed out']);
      await expect(stat(sessionPath)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await call('GET', '/auth/sessions', undefined, { key, accessToken: saved.accessToken })).status).toBe(401);
      await expect(logout({ sessionPath, fetch: viaInject, env: {} }, () => {})).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    });

    it('a second login to the same session file ends the session saved before', async () => {
      const keyPath = tmp.file('again/device-key.json');
      const sessionPath = tmp.file('again/session.json');
      const signIn = async () => {
        const lines: string[] = [];
        await stepUp(admin);
        await login({ server: PUBLIC_URL, keyPath, sessionPath, fetch: viaInject, env: {}, sleep: async () => {
          const code = /enter ([A-Z]{4}-[A-Z]{4})$/.exec(lines.find((l) => l.includes(' and enter '))!)![1]!;
          expect((await approve(admin, code)).status).toBe(200);
        } }, (l) => lines.push(l));
        return { lines, saved: JSON.parse(await readFile(sessionPath, 'utf8')) as { accessToken: string; sessionId: string } };
      };
      const first = await signIn();
      const second = await signIn();
      expect(second.lines).toContain('the session signed in before on this machine is ended');
      const key = await loadDpopKey(keyPath);
      expect((await call('GET', '/auth/sessions', undefined, { key, accessToken: first.saved.accessToken })).status).toBe(401);
      expect((await call('GET', '/auth/sessions', undefined, { key, accessToken: second.saved.accessToken })).status).toBe(200);
      expect((await f.app.store.accounts.getSession(first.saved.sessionId))!.revokedAt).not.toBeNull();
    });

    it('refuses a bad server URL and a key file others can read, creating nothing', async () => {
      const keyPath = tmp.file('bad/device-key.json');
      for (const server of ['http://labkluis.test', 'ftp://labkluis.test', 'https://labkluis.test/path', 'https://user:pw@labkluis.test', 'not a url']) {
        await expect(login({ server, keyPath, sessionPath: tmp.file('bad/session.json'), fetch: viaInject, env: {} }, () => {})).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
      }
      await expect(stat(keyPath)).rejects.toMatchObject({ code: 'ENOENT' });
      const { writeFile, mkdir } = await import('node:fs/promises');
      await mkdir(tmp.file('open'), { recursive: true });
      await writeFile(tmp.file('open/device-key.json'), '{}', { mode: 0o644 });
      await expect(login({ server: PUBLIC_URL, keyPath: tmp.file('open/device-key.json'), sessionPath: tmp.file('open/session.json'), fetch: viaInject, env: {} }, () => {}))
        .rejects.toMatchObject({ code: 'ERR_KEYRING' });
    });
  });
});

describe('labkluis login from the shell', () => {
  it('bad input is one line on stderr and exit code 2', async () => {
    const dir = await createTempDir('labkluis-login-cli-');
    try {
      const env = { LABKLUIS_DEVICE_KEY: dir.file('key.json'), XDG_CONFIG_HOME: dir.path };
      const r = await runCli(['login', '--server', 'not-a-url'], env);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
      const out = await runCli(['logout'], env);
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(/not signed in/);
      await expect(stat(dir.file('key.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await dir.cleanup();
    }
  });
});
