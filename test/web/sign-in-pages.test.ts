/**
 * The sign-in pages in a real browser (Chromium, a virtual platform authenticator): the first
 * admin enrols from the one-time link, signs out and in again with password and passkey, and
 * sees and revokes sessions. The device key stays non-extractable in IndexedDB, sessions bind
 * to it, a token copied out of the page is refused and ends the session, weak and wrong
 * passwords get the server's words without being echoed, and no page trips its CSP.
 * The steps follow one lab admin through a day, so they run in order on one server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { principalFromSession } from '../../src/auth/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, jwkThumbprint } from '../../src/sessions/index.js';
import { CONTENT_SECURITY_POLICY, DPOP_DB, DPOP_KEY_ID, DPOP_STORE, SESSION_ENDED_MESSAGE, SESSION_STORAGE_KEY } from '../../src/web/index.js';
import { BACKENDS } from '../support/vault-fixture.js';
import {
  arrive, createWebFixture, enrolWith, errorText, lastRequest, launchChromium, liveRows, openDevice, pageThumbprint, signInWith, type Device, type WebFixture,
} from './browser.js';

const GOOD_PASSWORD = 'zonnebloem-fietsbel-kaasschaaf-7';
const WEAK_PASSWORD = 'wachtwoord123';
const WRONG_PASSWORD = 'not-the-password-at-all-42';

/** The decoded protected header of a compact JWS. */
const jwsHeader = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString('utf8')) as { jwk: Record<string, string>; typ: string; alg: string };

describe.each(BACKENDS)('the sign-in pages in a real browser (%s)', (backend) => {
  let browser: Browser;
  let web: WebFixture;
  let admin: { principalId: string; device: Device };
  const devices: Device[] = [];
  const device = async () => {
    const d = await openDevice(browser);
    devices.push(d);
    return d;
  };

  beforeAll(async () => {
    browser = await launchChromium(); // first: without Chromium this fails at once, saying why
    web = await createWebFixture(backend);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await web?.f.cleanup();
  });
  afterEach(() => {
    // No page tripped its CSP or Trusted Types, or threw.
    for (const d of devices) expect(d.problems).toEqual([]);
  });

  it('(a) the first admin enrols from the link and lands on /account, with one live session bound to this browser\'s key', async () => {
    const first = await web.f.app.accounts.firstAdmin('lab-admin', { ip: 'local', userAgent: null });
    const d = await device();
    const response = await d.page.goto(`${web.baseUrl}/enrol#${first.secret}`);
    expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    await expect.poll(() => d.page.inputValue('#username')).toBe('lab-admin');
    expect(d.page.url()).toBe(`${web.baseUrl}/enrol`); // the secret left the address bar and history
    await enrolWith(d.page, GOOD_PASSWORD);
    await arrive(d.page, `${web.baseUrl}/account`);
    await expect.poll(() => liveRows(d.page).count()).toBe(1);
    expect(await liveRows(d.page).first().textContent()).toContain('this browser');

    const sessions = await web.f.app.sessions.list(first.principalId);
    expect(sessions.filter((s) => s.live)).toHaveLength(1);
    const { headers } = await lastRequest(d, 'POST', '/auth/enrol/finish');
    expect(jwsHeader(headers.dpop!)).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(Object.keys(jwsHeader(headers.dpop!).jwk).sort()).toEqual(['crv', 'kty', 'x', 'y']); // public members only
    expect(sessions[0]!.jkt).toBe(await jwkThumbprint(jwsHeader(headers.dpop!).jwk));
    expect(await pageThumbprint(d.page)).toBe(sessions[0]!.jkt);
    // The secret travelled only in the JSON body; the password never in a URL.
    expect(web.urlsSeen.some((u) => u.includes(first.secret) || u.includes(GOOD_PASSWORD))).toBe(false);
    admin = { principalId: first.principalId, device: d };
  });

  it('(c) the device key cannot be exported, and no token outlives the tab', async () => {
    const { page } = admin.device;
    const key = await page.evaluate(`(async () => {
      const record = await new Promise((resolve, reject) => {
        const open = indexedDB.open(${JSON.stringify(DPOP_DB)});
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction(${JSON.stringify(DPOP_STORE)}).objectStore(${JSON.stringify(DPOP_STORE)}).get(${JSON.stringify(DPOP_KEY_ID)});
          get.onsuccess = () => resolve(get.result);
          get.onerror = () => reject(get.error);
        };
      });
      const k = record.privateKey;
      const tries = [];
      for (const format of ['jwk', 'pkcs8']) tries.push(await crypto.subtle.exportKey(format, k).then(() => 'exported', (e) => e.name));
      return { type: k.type, extractable: k.extractable, algorithm: k.algorithm, usages: k.usages, tries };
    })()`);
    expect(key).toEqual({ type: 'private', extractable: false, algorithm: { name: 'ECDSA', namedCurve: 'P-256' }, usages: ['sign'], tries: ['InvalidAccessError', 'InvalidAccessError'] });

    const storage = await page.evaluate<{ cookies: string; local: number; session: Record<string, string> }>(
      '({ cookies: document.cookie, local: localStorage.length, session: Object.fromEntries(Object.entries(sessionStorage)) })',
    );
    expect(storage.cookies).toBe('');
    expect(storage.local).toBe(0);
    expect(Object.keys(storage.session)).toEqual([SESSION_STORAGE_KEY]);
    // Only the refresh token (useless without the key's proofs), never the access token.
    expect(Object.keys(JSON.parse(storage.session[SESSION_STORAGE_KEY]!)).sort()).toEqual(['refreshToken', 'sessionId', 'username']);
  });

  it('(b) signs out, then signs in again with username, password and the passkey', async () => {
    const { page } = admin.device;
    const jkt = await pageThumbprint(page);
    await page.click('#sign-out');
    await page.waitForURL(`${web.baseUrl}/sign-in`);
    const after = await web.f.app.sessions.list(admin.principalId);
    expect(after.map((s) => [s.live, s.revokedReason])).toEqual([[false, 'signed-out']]);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    await signInWith(page, web.baseUrl, 'lab-admin', GOOD_PASSWORD);
    await arrive(page, `${web.baseUrl}/account`);
    await expect.poll(() => liveRows(page).count()).toBe(1);
    expect(await page.locator('#sessions tr[data-live="false"]').textContent()).toContain('signed out');
    const live = (await web.f.app.sessions.list(admin.principalId)).filter((s) => s.live);
    expect(live.map((s) => s.jkt)).toEqual([jkt]); // the same device key as at enrolment
    expect(web.urlsSeen.some((u) => u.includes(GOOD_PASSWORD))).toBe(false);
  });

  it('(e) a wrong password and an unknown account get the same generic error, and the password is not echoed', async () => {
    const { page } = await device();
    await signInWith(page, web.baseUrl, 'lab-admin', WRONG_PASSWORD);
    expect(await errorText(page)).toBe('wrong username or password');
    expect(await page.inputValue('#password')).toBe('');
    expect(await page.content()).not.toContain(WRONG_PASSWORD);
    await signInWith(page, web.baseUrl, 'nobody-here', WRONG_PASSWORD);
    expect(await errorText(page)).toBe('wrong username or password');
    expect(page.url()).toBe(`${web.baseUrl}/sign-in`);
  });

  it('(f) an access token copied out of the page is refused elsewhere, which ends the session; the page\'s next call fails', async () => {
    const d = admin.device;
    const { headers } = await lastRequest(d, 'GET', '/auth/sessions');
    const stolen = headers.authorization!;
    expect(stolen).toMatch(/^DPoP \S+$/);
    const url = `${web.baseUrl}/auth/sessions`;
    const nodeKey = await generateDpopKey(); // the thief's own key
    const withOwnProof = await fetch(url, {
      headers: { authorization: stolen, dpop: await createDpopProof(nodeKey, { method: 'GET', url, accessToken: stolen.slice(5), clock: systemClock, random: systemRandom }) },
    });
    expect(withOwnProof.status).toBe(401);
    expect((await fetch(url, { headers: { authorization: stolen } })).status).toBe(401);
    const sessions = await web.f.app.sessions.list(admin.principalId);
    expect(sessions.filter((s) => s.live)).toHaveLength(0);
    expect(sessions.at(-1)!.revokedReason).toBe('token-replay:key-mismatch');

    await d.page.click('#reload');
    expect(await errorText(d.page)).toBe(SESSION_ENDED_MESSAGE);
    expect((await (await lastRequest(d, 'GET', '/auth/sessions')).request.response())?.status()).toBe(401);
    await d.page.locator('#signed-out').waitFor({ state: 'visible' });
    expect(await d.page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('revokes a session on another device from /account; that device\'s next call fails', async () => {
    const a = admin.device;
    await signInWith(a.page, web.baseUrl, 'lab-admin', GOOD_PASSWORD);
    await arrive(a.page, `${web.baseUrl}/account`);
    // A second device with the same (synced) passkey; A does not use it again, so the counter keeps rising.
    const b = await device();
    const { credentials } = await a.cdp.send('WebAuthn.getCredentials', { authenticatorId: a.authenticatorId });
    expect(credentials).toHaveLength(1);
    await b.cdp.send('WebAuthn.addCredential', { authenticatorId: b.authenticatorId, credential: credentials[0]! });
    await signInWith(b.page, web.baseUrl, 'lab-admin', GOOD_PASSWORD);
    await arrive(b.page, `${web.baseUrl}/account`);
    expect(await pageThumbprint(b.page)).not.toBe(await pageThumbprint(a.page)); // each browser its own key

    await a.page.click('#reload');
    await expect.poll(() => liveRows(a.page).count()).toBe(2);
    const other = a.page.locator('#sessions tr[data-live="true"]', { has: a.page.locator('button.revoke') });
    expect(await other.count()).toBe(1); // no revoke button on this browser's own row
    const otherId = await other.getAttribute('data-session-id');
    await other.locator('button.revoke').click();
    await expect.poll(() => liveRows(a.page).count()).toBe(1);
    expect(await a.page.locator(`#sessions tr[data-session-id="${otherId}"]`).textContent()).toContain('revoked by you');

    await b.page.click('#reload');
    expect(await errorText(b.page)).toBe(SESSION_ENDED_MESSAGE);
  });

  it('refreshes the access token only when a call needs it and it is about to expire, also after the computer\'s clock jumped', async () => {
    const a = admin.device; // signed in on /account since the previous case
    await a.context.clock.install(); // the page's clock runs on from now, until the test moves it
    await a.page.reload();
    await expect.poll(() => liveRows(a.page).count()).toBe(1);
    /** The requests a click on 'Refresh list' makes after the page's clock moved on. */
    const callsAfter = async (move: string | null) => {
      const before = a.requests.length;
      if (move !== null) await a.page.clock.fastForward(move);
      await a.page.click('#reload');
      const last = () => a.requests.slice(before).findLast((r) => r.url().endsWith('/auth/sessions'));
      await expect.poll(async () => (await last()?.response())?.status()).toBe(200);
      return a.requests.slice(before).map((r) => `${r.method()} ${new URL(r.url()).pathname}`);
    };
    expect(await callsAfter(null)).toEqual(['GET /auth/sessions']);
    // 20 s left, and the page's clock is now 4m40s ahead of the server's: the refresh first
    // learns the server's time, so its proof's iat is right and the single-use token is not spent in vain.
    expect(await callsAfter('04:40')).toEqual(['GET /healthz', 'POST /auth/token', 'GET /auth/sessions']);
    // A jump with time left on the token: the server refuses the proof's iat (not a theft signal,
    // the session lives on); one refresh, which learns the server's time again, and one retry.
    expect(await callsAfter('01:00')).toEqual(['GET /auth/sessions', 'GET /healthz', 'POST /auth/token', 'GET /auth/sessions']);
    expect(await a.page.locator('#error').isHidden()).toBe(true);
    expect((await web.f.app.sessions.list(admin.principalId)).filter((s) => s.live)).toHaveLength(1);
  });

  it('(g) the browser enforces the pages\' policy: injected script, inline style and foreign images are refused', async () => {
    const d = await device();
    const response = await d.page.goto(`${web.baseUrl}/sign-in`);
    expect(response?.headers()).toMatchObject({ 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
    const outcome = await d.page.evaluate(`(async () => {
      const seen = [];
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.effectiveDirective));
      const script = document.createElement('script');
      try {
        script.textContent = 'window.injected = true';
        document.head.append(script);
      } catch (e) {
        seen.push(e.name);
      }
      document.body.setAttribute('style', 'background: red');
      const style = document.createElement('style');
      style.textContent = 'body { color: red }';
      document.head.append(style);
      new Image().src = 'http://127.0.0.1:9/pixel.png';
      await new Promise((r) => setTimeout(r, 300));
      return { ran: window.injected === true, seen: seen.sort(), red: getComputedStyle(document.body).color === 'rgb(255, 0, 0)' };
    })()`);
    expect(outcome).toEqual({
      ran: false, seen: ['TypeError', 'img-src', 'require-trusted-types-for', 'style-src-attr', 'style-src-elem'], red: false,
    });
    expect(d.problems.length).toBeGreaterThanOrEqual(4); // each refusal reported: the check in afterEach would see one
    d.problems.length = 0;
  });

  it('(d) a weak password at enrolment gets the policy\'s words, spends nothing, and the link works afterwards', async () => {
    // The admin invites after a step-up (that ceremony: test/api/sign-in.test.ts).
    const row = (await web.f.app.store.getPrincipal(admin.principalId))!;
    const by = principalFromSession(row, { id: 'browser-test', authenticatedAt: new Date().toISOString() });
    const inv = await web.f.app.accounts.invite(by, { username: 'reg-anna', displayName: 'Anna Test', role: 'registrar', tenants: ['*'] }, { ip: 'local', userAgent: null });
    const link = `${web.baseUrl}/enrol#${inv.secret}`;
    const { page } = await device();
    await page.goto(link);
    await enrolWith(page, 'kort');
    expect(await errorText(page)).toContain('at least 12 characters'); // said by the page, before any passkey prompt
    await enrolWith(page, WEAK_PASSWORD);
    expect(await errorText(page)).toMatch(/^choose another password: /);
    expect(await page.content()).not.toContain(WEAK_PASSWORD);
    expect(await page.inputValue('#password')).toBe('');
    expect(await web.f.app.store.passkeys.listCredentials(inv.principalId)).toHaveLength(0);
    expect(page.url()).toBe(`${web.baseUrl}/enrol`);

    await page.goto(link); // the same link, opened again
    await expect.poll(() => page.inputValue('#username')).toBe('reg-anna');
    await enrolWith(page, GOOD_PASSWORD, 'werkplek 3');
    await arrive(page, `${web.baseUrl}/account`);
    await expect.poll(() => liveRows(page).count()).toBe(1);
    expect(await web.f.app.store.passkeys.listCredentials(inv.principalId)).toHaveLength(1);
  });

  it('(h) signing in again in a tab that holds a session ends that session first; only the new one lives', async () => {
    const row = (await web.f.app.store.getPrincipal(admin.principalId))!;
    const by = principalFromSession(row, { id: 'browser-test', authenticatedAt: new Date().toISOString() });
    const inv = await web.f.app.accounts.invite(by, { username: 'reg-bram', displayName: 'Bram Test', role: 'registrar', tenants: ['*'] }, { ip: 'local', userAgent: null });
    const d = await device();
    await d.page.goto(`${web.baseUrl}/enrol#${inv.secret}`);
    await enrolWith(d.page, GOOD_PASSWORD);
    await arrive(d.page, `${web.baseUrl}/account`);
    await expect.poll(() => liveRows(d.page).count()).toBe(1); // the page's own refresh is done and kept
    const [first] = await web.f.app.sessions.list(inv.principalId);
    expect(first?.live).toBe(true);

    const before = d.requests.length;
    await signInWith(d.page, web.baseUrl, 'reg-bram', GOOD_PASSWORD); // the same tab, its session still held
    await arrive(d.page, `${web.baseUrl}/account`);
    await expect.poll(() => liveRows(d.page).count()).toBe(1);
    const sessions = await web.f.app.sessions.list(inv.principalId);
    expect(sessions.map((s) => [s.id === first!.id, s.live, s.revokedReason])).toEqual([[true, false, 'signed-out'], [false, true, null]]);
    expect(await liveRows(d.page).first().getAttribute('data-session-id')).toBe(sessions[1]!.id);
    // The earlier session was ended (with its own tokens) before the new one was asked for.
    const calls = d.requests.slice(before).map((r) => `${r.method()} ${new URL(r.url()).pathname}`).filter((c) => c.startsWith('POST /auth/'));
    expect(calls.indexOf('POST /auth/sign-out')).toBeGreaterThanOrEqual(0);
    expect(calls.indexOf('POST /auth/sign-out')).toBeLessThan(calls.indexOf('POST /auth/sign-in/passkey'));
    const log = (await web.f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as { operation: string; objects: unknown[] });
    expect(log.some((e) => e.operation === 'session-revoked:signed-out' && JSON.stringify(e.objects).includes(first!.id))).toBe(true);
  });
});
