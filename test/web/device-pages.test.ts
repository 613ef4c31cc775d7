/**
 * The CLI's sign-in and code sign-in in a real browser (Chromium, a virtual platform
 * authenticator), against labkluis listening on localhost. The real `labkluis login` code runs
 * in this process with real fetch; its person approves the printed code at /device#<code> with
 * a passkey step-up, or denies it; a person without a session on /device signs in and comes
 * back with the code. On /sign-in, a person without a passkey (or who asks for it) signs in with
 * a TOTP or recovery code instead, and a wrong code gets one generic answer.
 * The steps follow one lab admin, so they run in order on one server.
 */
import { readFile, stat } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import type { AuditEntry } from '../../src/audit/index.js';
import { principalFromSession } from '../../src/auth/index.js';
import { login } from '../../src/cli/commands/login.js';
import { main } from '../../src/cli/main.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, loadDpopKey } from '../../src/sessions/index.js';
import { SESSION_STORAGE_KEY } from '../../src/web/index.js';
import { createTempDir, type TempDir } from '../support/tmp.js';
import { BACKENDS } from '../support/vault-fixture.js';
import {
  arrive, createWebFixture, enrolWith, errorText, lastRequest, launchChromium, liveRows, openDevice, pageThumbprint, shows, signInWith, type Device, type WebFixture,
} from './browser.js';

const GOOD_PASSWORD = 'zonnebloem-fietsbel-kaasschaaf-7';
const LOCAL = { ip: 'local', userAgent: null };
const GENERIC_CODE_ERROR = 'that code is not valid (or was used already)';
const PRINTED = /^\(or open (http:\/\/localhost:\d+\/device#([A-Z]{4}-[A-Z]{4}))\)$/;

/** A `labkluis login` under way: what it printed, and how it ends. */
interface CliRun {
  readonly lines: string[];
  /** The verificationUriComplete and user code it printed. */
  readonly printed: Promise<{ complete: string; userCode: string }>;
  readonly done: Promise<void>;
}

/** Resolves with the first printed line that matches, waiting up to 10 s. */
async function printedLine(lines: string[], pattern: RegExp): Promise<RegExpExecArray> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    for (const line of lines) {
      const m = pattern.exec(line.trimEnd());
      if (m !== null) return m;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the CLI printed nothing like ${pattern}: ${JSON.stringify(lines)}`);
}

const when = (complete: Promise<RegExpExecArray>) => complete.then((m) => ({ complete: m[1]!, userCode: m[2]! }));

/** The /device page showing the code's details, ready to decide. */
async function atDecision(page: Page, userCode: string): Promise<void> {
  await shows(page, '#decide-form');
  expect(await page.textContent('#shown-code')).toBe(userCode);
}

/** The session id this tab holds (sessionStorage), or null. */
const heldSession = (page: Page) => page.evaluate<string | null>(`JSON.parse(sessionStorage.getItem(${JSON.stringify(SESSION_STORAGE_KEY)}) ?? 'null')?.sessionId ?? null`);

/** The /device page's outcome line, once the decision is done. */
async function outcome(page: Page): Promise<string | null> {
  await shows(page, '#done');
  return page.textContent('#outcome');
}

describe.each(BACKENDS)('the device page and code sign-in in a real browser (%s)', (backend) => {
  let browser: Browser;
  let web: WebFixture;
  let tmp: TempDir;
  let admin: { principalId: string; device: Device };
  /** The recovery codes of (d), and the browser that used the first one. */
  let recovery: { codes: string[]; device: Device } | undefined;
  const devices: Device[] = [];
  const device = async () => {
    const d = await openDevice(browser);
    devices.push(d);
    return d;
  };
  const entries = async (): Promise<AuditEntry[]> => (await web.f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
  /** The person as the app's services see them right after a step-up (for test set-up through the services). */
  const freshly = async (principalId: string) => principalFromSession((await web.f.app.store.getPrincipal(principalId))!, { id: 'browser-test', authenticatedAt: new Date().toISOString() });

  /** The real `labkluis login`, in this process, with real fetch to the listening server; its waits are short. */
  const startLogin = (dir: string): CliRun => {
    const lines: string[] = [];
    const done = login({
      server: web.baseUrl, keyPath: tmp.file(`${dir}/device-key.json`), sessionPath: tmp.file(`${dir}/session.json`), env: {},
      sleep: () => new Promise((r) => setTimeout(r, 150)),
    }, (line) => void lines.push(line));
    done.catch(() => {}); // the test awaits it; an early failure shows there
    const printed = Promise.race([when(printedLine(lines, PRINTED)), done.then(() => Promise.reject(new Error('the CLI ended early')))]);
    return { lines, printed, done };
  };

  beforeAll(async () => {
    browser = await launchChromium(); // first: without Chromium this fails at once, saying why
    web = await createWebFixture(backend);
    tmp = await createTempDir('labkluis-web-device-');
    const first = await web.f.app.accounts.firstAdmin('lab-admin', LOCAL);
    const d = await device();
    await d.page.goto(`${web.baseUrl}/enrol#${first.secret}`);
    await enrolWith(d.page, GOOD_PASSWORD);
    await arrive(d.page, `${web.baseUrl}/account`);
    // The page's own refresh is done and kept: leaving while it runs would spend the refresh token unseen.
    await liveRows(d.page).first().waitFor();
    admin = { principalId: first.principalId, device: d };
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await web?.f.cleanup();
    await tmp?.cleanup();
  });
  afterEach(() => {
    // No page tripped its CSP or Trusted Types, or threw.
    for (const d of devices) expect(d.problems).toEqual([]);
  });

  it('(a) labkluis login, approved at /device#<code> after a passkey step-up: a 0600 session that works with the CLI\'s key only', async () => {
    const { page } = admin.device;
    const cli = startLogin('a');
    const { complete, userCode } = await cli.printed;
    expect(complete).toBe(`${web.baseUrl}/device#${userCode}`);
    expect(cli.lines).toContain(`open ${web.baseUrl}/device and enter ${userCode}`);

    await page.goto(complete);
    await atDecision(page, userCode);
    expect(page.url()).toBe(`${web.baseUrl}/device`); // the code left the address bar and the history
    // Where and when the CLI asked (RFC 8628 §5.4): this machine, Node's fetch, just now.
    expect(await page.textContent('#requested-from')).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1) · node$/);
    expect(await page.textContent('#requested-at')).toMatch(/\(\d+ seconds ago\)$/);
    expect(await page.textContent('#status')).toBe(`Does your terminal show ${userCode}?`);

    // Not without saying the code is theirs, and then not without a passkey.
    await page.click('#approve');
    expect(await errorText(page)).toMatch(/^Approve only a code your own terminal shows/);
    expect(admin.device.requests.some((r) => new URL(r.url()).pathname.startsWith('/auth/step-up'))).toBe(false);
    const before = await heldSession(page);
    expect(before).not.toBeNull();
    await page.check('#mine');
    await page.click('#approve');
    expect(await outcome(page)).toBe('Approved. Your terminal signs in within a few seconds; you can close this page.');
    const calls = admin.device.requests.map((r) => `${r.method()} ${new URL(r.url()).pathname}`).filter((c) => c.includes('/auth/step-up') || c.includes('/auth/device'));
    expect(calls).toEqual(['POST /auth/device/lookup', 'POST /auth/step-up/start', 'POST /auth/step-up/finish', 'POST /auth/device/approve']);

    // The step-up renewed this tab's session (ASVS 5.0 7.2.4): approval went out with the new
    // pair, the access token held before is refused even with this browser's own proof, and the
    // tab goes on reading /auth/sessions with the new one.
    const renewed = await heldSession(page);
    expect(renewed).not.toBeNull();
    expect(renewed).not.toBe(before);
    expect((await web.f.app.store.accounts.getSession(before!))!.revokedReason).toBe('replaced-at-step-up');
    const oldToken = (await lastRequest(admin.device, 'POST', '/auth/step-up/finish')).headers.authorization!.slice('DPoP '.length);
    const approvedWith = (await lastRequest(admin.device, 'POST', '/auth/device/approve')).headers.authorization!.slice('DPoP '.length);
    expect(approvedWith).not.toBe(oldToken);
    const withOldToken = await page.evaluate<number>(`(async () => {
      const { proof } = await import('/web/dpop.js');
      const token = ${JSON.stringify(oldToken)};
      const r = await fetch('/auth/sessions', { headers: { authorization: 'DPoP ' + token, dpop: await proof('GET', '/auth/sessions', { accessToken: token }) } });
      return r.status;
    })()`);
    expect(withOldToken).toBe(401);
    expect((await web.f.app.store.accounts.getSession(before!))!.revokedReason).toBe('replaced-at-step-up'); // no theft: its own key
    await page.click('#done a[href="/account"]');
    await arrive(page, `${web.baseUrl}/account`);
    await expect.poll(() => page.locator(`#sessions tr[data-session-id="${renewed}"]`).textContent()).toContain('live (this browser)');
    expect((await (await lastRequest(admin.device, 'GET', '/auth/sessions')).request.response())?.status()).toBe(200);
    expect(await page.locator(`#sessions tr[data-session-id="${before}"]`).getAttribute('data-live')).toBe('false');

    await cli.done;
    const keyPath = tmp.file('a/device-key.json');
    const sessionPath = tmp.file('a/session.json');
    expect(cli.lines.at(-1)).toBe(`signed in; the session is in ${sessionPath}`);
    expect((await stat(sessionPath)).mode & 0o777).toBe(0o600);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(sessionPath, 'utf8')) as { server: string; keyPath: string; sessionId: string; tokenType: string; accessToken: string; refreshToken: string };
    expect(saved).toMatchObject({ server: web.baseUrl, keyPath, tokenType: 'DPoP' });
    for (const secret of [saved.accessToken, saved.refreshToken]) expect(cli.lines.join('\n')).not.toContain(secret);

    // With a proof from the CLI's key file: the admin's own session list, which holds the CLI's session.
    const cliKey = await loadDpopKey(keyPath);
    const url = `${web.baseUrl}/auth/sessions`;
    const mine = await fetch(url, {
      headers: { authorization: `DPoP ${saved.accessToken}`, dpop: await createDpopProof(cliKey, { method: 'GET', url, accessToken: saved.accessToken, clock: systemClock, random: systemRandom }) },
    });
    expect(mine.status).toBe(200);
    const listed = ((await mine.json()) as { sessions: { id: string; live: boolean; authMethod: string }[] }).sessions;
    expect(listed.find((s) => s.id === saved.sessionId)).toMatchObject({ live: true, authMethod: 'passkey' });
    const row = (await web.f.app.store.accounts.getSession(saved.sessionId))!;
    expect(row.principalId).toBe(admin.principalId);
    expect(row.jkt).toBe(cliKey.jkt);
    expect(row.jkt).not.toBe(await pageThumbprint(page));

    // The same token with a proof from the browser's key is refused (and, like any stolen token, ends that session).
    const fromBrowser = await page.evaluate<number>(`(async () => {
      const { proof } = await import('/web/dpop.js');
      const token = ${JSON.stringify(saved.accessToken)};
      const r = await fetch('/auth/sessions', { headers: { authorization: 'DPoP ' + token, dpop: await proof('GET', '/auth/sessions', { accessToken: token }) } });
      return r.status;
    })()`);
    expect(fromBrowser).toBe(401);
    expect((await web.f.app.store.accounts.getSession(saved.sessionId))!.revokedReason).toBe('token-replay:key-mismatch');

    const log = await entries();
    const ops = log.filter((e) => e.principal?.id === admin.principalId).map((e) => `${e.operation}/${e.outcome}`);
    expect(ops).toEqual(expect.arrayContaining(['device-lookup/success', 'step-up/success', 'device-approved/success', 'device-token/success']));
    // The code travelled in JSON bodies only, never in a URL the server saw.
    expect(web.urlsSeen.some((u) => u.includes(userCode) || u.includes(userCode.replace('-', '')))).toBe(false);
  });

  it('(b) Deny on the page: the CLI hears access_denied and `labkluis login` exits non-zero', async () => {
    const { page } = admin.device;
    const out: string[] = [];
    const err: string[] = [];
    const config = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = tmp.file('b-config'); // where session.json would go
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
    let exitCode: number;
    try {
      // The command line itself, with its real five-second poll interval.
      const exit = main(['node', 'labkluis', 'login', '--server', web.baseUrl, '--key', tmp.file('b/device-key.json')]);
      const { complete, userCode } = await when(printedLine(out, PRINTED));
      await page.goto(complete);
      await atDecision(page, userCode);
      await page.click('#deny'); // no passkey and no tick needed to refuse
      expect(await outcome(page)).toBe(`Denied. The terminal that shows ${userCode} gets no session: it reports that the sign-in was denied.`);
      exitCode = await exit;
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      if (config === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = config;
    }
    expect(exitCode).toBe(1);
    expect(err.join('')).toBe('labkluis: the sign-in was denied in the browser\n');
    await expect(stat(tmp.file('b-config/labkluis/session.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    const log = await entries();
    expect(log.some((e) => e.operation === 'device-denied' && e.outcome === 'success' && e.principal?.id === admin.principalId)).toBe(true);
    expect(log.some((e) => e.operation === 'device-token:denied' && e.outcome === 'denied')).toBe(true);
  });

  it('(c) /device without a session sends the person to sign in, and back to the same code', async () => {
    const { page } = admin.device;
    await page.goto(`${web.baseUrl}/account`);
    await page.click('#sign-out');
    await page.waitForURL(`${web.baseUrl}/sign-in`);

    const cli = startLogin('c');
    const { complete, userCode } = await cli.printed;
    await page.goto(complete);
    await shows(page, '#signed-out');
    expect(await page.isHidden('#signed-in')).toBe(true);
    expect(page.url()).toBe(`${web.baseUrl}/device`);
    expect(await page.getAttribute('#sign-in-link', 'href')).toBe(`/sign-in#device=${userCode}`);
    await page.click('#sign-in-link');
    await page.waitForURL(`${web.baseUrl}/sign-in#device=${userCode}`);
    expect(await page.isVisible('#to-device')).toBe(true);
    await page.fill('#username', 'lab-admin');
    await page.fill('#password', GOOD_PASSWORD);
    await page.press('#password', 'Enter'); // the form's first button: the passkey
    await atDecision(page, userCode);
    expect(page.url()).toBe(`${web.baseUrl}/device`);
    await page.check('#mine');
    await page.click('#approve');
    expect(await outcome(page)).toMatch(/^Approved\./);
    await cli.done;
    expect(web.urlsSeen.some((u) => u.includes(userCode) || u.includes(userCode.replace('-', '')))).toBe(false);

    // A typed code (any case, with a space) works the same; an unknown one gets the server's plain answer.
    const other = startLogin('c2');
    const second = await other.printed;
    await page.goto(`${web.baseUrl}/device`);
    await shows(page, '#code-form');
    await page.fill('#user-code', 'BCDF-GHJK');
    await page.click('#code-form button[type=submit]');
    expect(await errorText(page)).toBe('no sign-in is waiting for this code: check it, or start again with labkluis login');
    await page.fill('#user-code', second.userCode.toLowerCase().replace('-', ' '));
    await page.click('#code-form button[type=submit]');
    await atDecision(page, second.userCode);
    await page.click('#deny');
    expect(await outcome(page)).toMatch(/^Denied\./);
    await expect(other.done).rejects.toMatchObject({ code: 'ERR_UNAUTHENTICATED', message: 'the sign-in was denied in the browser' });
  });

  it('(d) signs in with a recovery code instead of the passkey, and the code is spent; no address can redirect the page', async () => {
    const codes = await web.f.app.factors.newRecoveryCodes(await freshly(admin.principalId), LOCAL);
    const d = await device(); // a browser that holds no passkey at all
    await signInWith(d.page, web.baseUrl, 'lab-admin', GOOD_PASSWORD, { fragment: '#https://example.org/', with: 'code' });
    await shows(d.page, '#code-form');
    expect(await d.page.isHidden('#sign-in')).toBe(true);
    expect(await d.page.isHidden('#choice-totp')).toBe(true); // the account has no TOTP
    expect(await d.page.isChecked('#choice-recovery-code input')).toBe(true);
    await d.page.fill('#code', ` ${codes[0]!.toUpperCase()} `);
    await d.page.click('#code-form button[type=submit]');
    await arrive(d.page, `${web.baseUrl}/account`);
    await expect.poll(() => liveRows(d.page).count()).toBeGreaterThan(0);

    expect(await web.f.app.factors.recoveryCodesLeft(admin.principalId)).toBe(9);
    const { credentials } = await d.cdp.send('WebAuthn.getCredentials', { authenticatorId: d.authenticatorId });
    expect(credentials).toHaveLength(0); // no passkey was used or made
    const jkt = await pageThumbprint(d.page);
    const session = (await web.f.app.sessions.list(admin.principalId)).find((s) => s.live && s.jkt === jkt);
    expect(session?.authMethod).toBe('recovery-code');
    const log = await entries();
    expect(log.some((e) => e.operation === 'sign-in:recovery-code' && e.outcome === 'success')).toBe(true);
    expect(log.some((e) => e.operation === 'factor-used:recovery-code' && e.outcome === 'success')).toBe(true);
    expect(web.urlsSeen.some((u) => u.toLowerCase().includes(codes[0]!))).toBe(false);
    recovery = { codes, device: d };
  });

  it('(e) a wrong code, and the spent one, get one generic answer and the password step again; nothing opens, and the session the tab held ends', async () => {
    const { codes, device: d } = recovery!;
    const jkt = await pageThumbprint(d.page);
    const opened = async () => (await web.f.app.sessions.list(admin.principalId)).length;
    const before = await opened();
    for (const wrong of ['aaaa-bbbb-cccc-dddd-eeee-ffff', codes[0]!]) {
      await signInWith(d.page, web.baseUrl, 'lab-admin', GOOD_PASSWORD, { with: 'code' });
      await shows(d.page, '#code-form');
      await d.page.fill('#code', wrong);
      await d.page.click('#code-form button[type=submit]');
      expect(await errorText(d.page)).toBe(GENERIC_CODE_ERROR);
      expect(await d.page.isVisible('#sign-in')).toBe(true);
      expect(await d.page.isHidden('#code-form')).toBe(true);
      expect(await d.page.inputValue('#code')).toBe('');
      expect(await d.page.content()).not.toContain(wrong);
      expect(d.page.url()).toBe(`${web.baseUrl}/sign-in`);
    }
    expect(await web.f.app.factors.recoveryCodesLeft(admin.principalId)).toBe(9);
    expect(await opened()).toBe(before);
    // Signing in again ends the session the tab held first (that of (d)), whatever the outcome.
    const here = (await web.f.app.sessions.list(admin.principalId)).filter((s) => s.jkt === jkt);
    expect(here.map((s) => [s.authMethod, s.live, s.revokedReason])).toEqual([['recovery-code', false, 'signed-out']]);
    expect((await entries()).filter((e) => e.operation === 'sign-in:recovery-code' && e.outcome === 'denied')).toHaveLength(2);
  });

  it('(f) an account without a passkey goes from the password to the code form; a wrong TOTP code gets the generic error, a right one signs in', async () => {
    const by = await freshly(admin.principalId);
    const inv = await web.f.app.accounts.invite(by, { username: 'reg-codes', displayName: 'Codes Test', role: 'registrar', tenants: ['*'], totpAllowed: true }, LOCAL);
    const d = await device();
    await d.page.goto(`${web.baseUrl}/enrol#${inv.secret}`);
    await enrolWith(d.page, GOOD_PASSWORD);
    await arrive(d.page, `${web.baseUrl}/account`);
    await expect.poll(() => liveRows(d.page).count()).toBe(1); // the page's own refresh is done and kept
    // The passkey is lost; TOTP and recovery codes remain.
    const person = await freshly(inv.principalId);
    const [passkey] = await web.f.app.store.passkeys.listCredentials(inv.principalId);
    expect(await web.f.app.store.passkeys.deleteCredential(inv.principalId, passkey!.credentialId)).toBe(true);
    const { secret, ticket } = await web.f.app.factors.startTotp(person);
    const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
    await web.f.app.factors.confirmTotp(person, { ticket, code: totp.generate({ timestamp: Date.now() - 30_000 }) }, LOCAL);
    await web.f.app.factors.newRecoveryCodes(person, LOCAL);

    const wrong = String((Number(totp.generate()) + 500_000) % 1_000_000).padStart(6, '0');
    await signInWith(d.page, web.baseUrl, 'reg-codes', GOOD_PASSWORD); // the default button: no passkey, so the code form
    await shows(d.page, '#code-form');
    expect(await d.page.isVisible('#choice-totp')).toBe(true);
    expect(await d.page.isVisible('#choice-recovery-code')).toBe(true);
    expect(await d.page.isChecked('#choice-totp input')).toBe(true);
    expect(await d.page.textContent('#code-hint')).toBe('The 6 digits your authenticator app shows now.');
    await d.page.fill('#code', wrong);
    await d.page.click('#code-form button[type=submit]');
    expect(await errorText(d.page)).toBe(GENERIC_CODE_ERROR);

    await d.page.fill('#password', GOOD_PASSWORD);
    await d.page.click('#use-passkey');
    await shows(d.page, '#code-form');
    await d.page.fill('#code', totp.generate());
    await d.page.click('#code-form button[type=submit]');
    await arrive(d.page, `${web.baseUrl}/account`);
    const jkt = await pageThumbprint(d.page);
    const mine = (await web.f.app.sessions.list(inv.principalId)).filter((s) => s.jkt === jkt);
    // The session from enrolment ended when this tab signed in again (at the first, wrong, code); this one is live.
    expect(mine.map((s) => [s.authMethod, s.live, s.revokedReason])).toEqual([['passkey', false, 'signed-out'], ['totp', true, null]]);
    expect((await entries()).some((e) => e.operation === 'sign-in:totp' && e.outcome === 'denied')).toBe(true);
  });

  it('(g) a step-up the server refuses changes nothing: the tab keeps its session, and approving again works', async () => {
    const { page } = admin.device; // signed in since (c)
    const cli = startLogin('g');
    const { complete, userCode } = await cli.printed;
    await page.goto(complete);
    await atDecision(page, userCode);
    const held = await heldSession(page);
    expect(held).not.toBeNull();
    // The passkey answers, but on its way the response is made to name a credential the server does not know.
    const unknownId = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('base64url');
    await page.route('**/auth/step-up/finish', async (route) => {
      const body = route.request().postDataJSON() as { credential: { id: string; rawId: string } };
      await route.continue({ postData: JSON.stringify({ ...body, credential: { ...body.credential, id: unknownId, rawId: unknownId } }) });
    });
    const before = admin.device.requests.length;
    await page.check('#mine');
    await page.click('#approve');
    expect(await errorText(page)).toBe('passkey verification failed');
    await page.unroute('**/auth/step-up/finish');
    const sent = admin.device.requests.slice(before).map((r) => `${r.method()} ${new URL(r.url()).pathname}`);
    expect(sent).toEqual(['POST /auth/step-up/start', 'POST /auth/step-up/finish']); // no refresh, no retry, no sign-out
    expect(await heldSession(page)).toBe(held);
    expect((await web.f.app.store.accounts.getSession(held!))!.revokedAt).toBeNull();
    expect(await page.isVisible('#decide-form')).toBe(true);
    expect((await entries()).some((e) => e.operation === 'step-up:passkey' && e.outcome === 'denied' && e.principal?.id === admin.principalId)).toBe(true);

    await page.click('#approve');
    expect(await outcome(page)).toMatch(/^Approved\./);
    await cli.done;
    expect((await web.f.app.store.accounts.getSession(held!))!.revokedReason).toBe('replaced-at-step-up');
    expect(await heldSession(page)).not.toBe(held);
  });

  it('(h) Sign out on /device ends the session at the server and in the tab', async () => {
    const { page } = admin.device; // signed in since (c), its session renewed in (g)
    await page.goto(`${web.baseUrl}/device`);
    await shows(page, '#code-form');
    const held = await heldSession(page);
    expect(held).not.toBeNull();
    expect((await web.f.app.store.accounts.getSession(held!))!.revokedAt).toBeNull();
    await page.click('#sign-out');
    await shows(page, '#signed-out');
    expect(await page.isHidden('#signed-in')).toBe(true);
    expect(await page.textContent('#status')).toBe('Signed out.');
    expect(await page.getAttribute('#sign-in-link', 'href')).toBe('/sign-in#device');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect((await (await lastRequest(admin.device, 'POST', '/auth/sign-out')).request.response())?.status()).toBe(200);
    expect((await web.f.app.store.accounts.getSession(held!))!.revokedReason).toBe('signed-out');
    // A reload stays signed out: nothing of the session is left in the tab.
    await page.reload();
    await shows(page, '#signed-out');
  });
});
