/**
 * /account as self-service in a real browser (Chromium, a virtual platform authenticator):
 * ending another session and all others, adding and removing passkeys, and changing the
 * password (ASVS 5.0 7.5.2, 7.4.3, 6.2.2). The server guards each with a step-up; once the
 * session's passkey assertion is older than five minutes, the page asks for the passkey when the
 * server refuses, and tries once more. The steps follow one lab admin, so they run in order on
 * one server.
 *
 * Every browser here calls from localhost, one network for the public routes' budgets: the file
 * signs in a handful of times, well within them, and checks passwords over the API in process,
 * each check from its own address.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { SESSION_ENDED_MESSAGE, SESSION_STORAGE_KEY } from '../../src/web/index.js';
import { BACKENDS } from '../support/vault-fixture.js';
import {
  arrive, createWebFixture, enrolWith, errorText, launchChromium, liveRows, openDevice, signInWith, type Device, type WebFixture,
} from './browser.js';

const GOOD_PASSWORD = 'zonnebloem-fietsbel-kaasschaaf-7';
const NEW_PASSWORD = 'pindakaas-tramhalte-regenjas-42';
const WEAK_PASSWORD = 'wachtwoord123';
const WRONG_PASSWORD = 'not-the-password-at-all-42';
const LAST_PASSKEY = 'this is the last passkey of the account: register another one before removing it (an account keeps at least one passkey)';

/** The session id this tab holds (sessionStorage), or null. */
const heldSession = (page: Page) => page.evaluate<string | null>(`JSON.parse(sessionStorage.getItem(${JSON.stringify(SESSION_STORAGE_KEY)}) ?? 'null')?.sessionId ?? null`);

/** The /auth calls a device made since `from` (refreshes left out: they come whenever a token runs low). */
const authCalls = (d: Device, from: number) => d.requests.slice(from)
  .map((r) => `${r.method()} ${new URL(r.url()).pathname}`)
  .filter((c) => c.includes(' /auth/') && !c.endsWith(' /auth/token'));

/** Waits until the status line matches, failing at once with the alert's words if the page shows an error instead. */
async function says(page: Page, status: string | RegExp): Promise<void> {
  const seen = async () => ((await page.locator('#error').isVisible()) ? `error: ${await page.textContent('#error')}` : await page.textContent('#status'));
  await expect.poll(seen, { timeout: 15_000 }).toMatch(status);
}

/** The row of the passkey named `name` on /account. */
const passkeyRow = (page: Page, name: string) => page.locator('#passkeys tr', { has: page.locator('td:first-child', { hasText: name }) });
const passkeyNames = (page: Page) => page.locator('#passkeys tr td:first-child').allTextContents();

describe.each(BACKENDS)('the account page in a real browser (%s)', (backend) => {
  let browser: Browser;
  let web: WebFixture;
  let admin: { principalId: string; device: Device };
  const devices: Device[] = [];
  const device = async () => {
    const d = await openDevice(browser);
    devices.push(d);
    return d;
  };

  /** The passkeys of `from`'s authenticator, with their counters, copied over whatever `to`'s holds. */
  const copyPasskeys = async (from: Device, to: Device) => {
    const { credentials } = await from.cdp.send('WebAuthn.getCredentials', { authenticatorId: from.authenticatorId });
    await to.cdp.send('WebAuthn.clearCredentials', { authenticatorId: to.authenticatorId });
    for (const credential of credentials) await to.cdp.send('WebAuthn.addCredential', { authenticatorId: to.authenticatorId, credential });
  };

  /**
   * Another browser of the admin's, signed in with password and the same (synced) passkey; the
   * counters go back to the admin's authenticator afterwards, so its next assertion counts on.
   */
  const elsewhere = async (password = GOOD_PASSWORD): Promise<Device> => {
    const d = await device();
    await copyPasskeys(admin.device, d);
    await signInWith(d.page, web.baseUrl, 'lab-admin', password);
    await arrive(d.page, `${web.baseUrl}/account`);
    await liveRows(d.page).first().waitFor(); // its start (and the refresh in it) is done
    await copyPasskeys(d, admin.device);
    return d;
  };

  /** Makes the session's last passkey assertion six minutes old: its next guarded action needs a step-up. */
  const stale = async (sessionId: string) => web.f.app.store.accounts.setSessionAuthenticated(sessionId, new Date(Date.now() - 6 * 60_000).toISOString());
  const fresh = async (sessionId: string) => web.f.app.store.accounts.setSessionAuthenticated(sessionId, new Date().toISOString());

  /**
   * Adds a passkey named `name` on /account. The authenticator is emptied first and gets its
   * passkeys back afterwards: it would refuse to make a second one for the account (the options
   * exclude those it holds), as a real one does; a person adds theirs on another authenticator
   * (a phone, a security key).
   */
  const addPasskey = async (name: string) => {
    const a = admin.device;
    const { credentials } = await a.cdp.send('WebAuthn.getCredentials', { authenticatorId: a.authenticatorId });
    await a.cdp.send('WebAuthn.clearCredentials', { authenticatorId: a.authenticatorId });
    try {
      await a.page.fill('#passkey-name', name);
      await a.page.click('#add-passkey button[type=submit]');
      await says(a.page, `Added the passkey "${name}".`);
    } finally {
      // Back as server-side credentials: an authenticator keeps one discoverable passkey per
      // account and site, and the new one is that now. Sign-in and step-up name them all anyway.
      for (const credential of credentials) {
        await a.cdp.send('WebAuthn.addCredential', { authenticatorId: a.authenticatorId, credential: { ...credential, isResidentCredential: false } });
      }
    }
  };

  /** POST /auth/sign-in over the API, from an address of its own: 200 (a passkey challenge follows) or the refusal. */
  let networks = 0;
  const passwordStep = async (password: string) => {
    networks += 1;
    const res = await web.f.server.inject({
      method: 'POST', url: '/auth/sign-in', payload: { username: 'lab-admin', password }, remoteAddress: `172.20.0.${networks}`,
    });
    return { status: res.statusCode, text: res.body };
  };

  beforeAll(async () => {
    browser = await launchChromium(); // first: without Chromium this fails at once, saying why
    web = await createWebFixture(backend);
    const first = await web.f.app.accounts.firstAdmin('lab-admin', { ip: 'local', userAgent: null });
    const d = await device();
    await d.page.goto(`${web.baseUrl}/enrol#${first.secret}`);
    await enrolWith(d.page, GOOD_PASSWORD);
    await arrive(d.page, `${web.baseUrl}/account`);
    await liveRows(d.page).first().waitFor(); // the page's own start is done (expect.poll is for tests only)
    admin = { principalId: first.principalId, device: d };
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await web?.f.cleanup();
  });
  afterEach(() => {
    // No page tripped its CSP or Trusted Types, or threw.
    for (const d of devices) expect(d.problems).toEqual([]);
  });

  it('(a) revokes another session after the step-up window has passed: the page asks for the passkey, tries again, and the other session ends', async () => {
    const a = admin.device;
    const b = await elsewhere();
    await a.page.click('#reload');
    await expect.poll(() => liveRows(a.page).count()).toBe(2);
    const held = (await heldSession(a.page))!;
    const bSession = (await heldSession(b.page))!;
    await stale(held);

    const before = a.requests.length;
    await a.page.locator(`#sessions tr[data-session-id="${bSession}"] button.revoke`).click();
    await says(a.page, 'Session ended.');
    expect(authCalls(a, before)).toEqual([
      `DELETE /auth/sessions/${bSession}`, 'POST /auth/step-up/start', 'POST /auth/step-up/finish', `DELETE /auth/sessions/${bSession}`, 'GET /auth/sessions',
    ]);
    const deletes = a.requests.slice(before).filter((r) => r.method() === 'DELETE');
    expect(await Promise.all(deletes.map(async (r) => (await r.response())?.status()))).toEqual([403, 200]);

    // Server-side: the other session is over; this tab's was renewed by the step-up and goes on.
    expect((await web.f.app.store.accounts.getSession(bSession))!.revokedReason).toBe('revoked-by-owner');
    expect((await web.f.app.store.accounts.getSession(held))!.revokedReason).toBe('replaced-at-step-up');
    const renewed = (await heldSession(a.page))!;
    expect(renewed).not.toBe(held);
    expect((await web.f.app.store.accounts.getSession(renewed))!.revokedAt).toBeNull();
    // The list says so, in words.
    await expect.poll(() => liveRows(a.page).count()).toBe(1);
    expect(await a.page.locator(`#sessions tr[data-session-id="${renewed}"]`).textContent()).toContain('live (this browser)');
    expect(await a.page.locator(`#sessions tr[data-session-id="${bSession}"]`).textContent()).toContain('revoked by you');
    expect(await a.page.locator(`#sessions tr[data-session-id="${held}"]`).textContent()).toContain('renewed when you confirmed with your passkey');

    await b.page.click('#reload');
    expect(await errorText(b.page)).toBe(SESSION_ENDED_MESSAGE);
  });

  it('(b) ends all other sessions at once, after a step-up; only this browser\'s lives on', async () => {
    const a = admin.device;
    const others = [await elsewhere(), await elsewhere()];
    const otherSessions = await Promise.all(others.map(async (d) => (await heldSession(d.page))!));
    await a.page.click('#reload');
    await expect.poll(() => liveRows(a.page).count()).toBe(3);
    await stale((await heldSession(a.page))!);

    const before = a.requests.length;
    await a.page.click('#end-others');
    await says(a.page, 'Ended 2 other sessions.');
    expect(authCalls(a, before)).toEqual([
      'POST /auth/sessions/end-others', 'POST /auth/step-up/start', 'POST /auth/step-up/finish', 'POST /auth/sessions/end-others', 'GET /auth/sessions',
    ]);
    const live = (await web.f.app.sessions.list(admin.principalId)).filter((s) => s.live);
    expect(live.map((s) => s.id)).toEqual([await heldSession(a.page)]);
    for (const id of otherSessions) expect((await web.f.app.store.accounts.getSession(id))!.revokedReason).toBe('revoked-by-owner');
    await expect.poll(() => liveRows(a.page).count()).toBe(1);

    // Nothing left to end: said so, and no passkey asked for (the step-up is fresh).
    await a.page.click('#end-others');
    await says(a.page, 'No other session was live.');
    for (const d of others) {
      await d.page.click('#reload');
      expect(await errorText(d.page)).toBe(SESSION_ENDED_MESSAGE);
    }
  });

  it('(c) adds a second passkey, removes the first, and keeps the last: its Remove is off, and the server\'s refusal is shown', async () => {
    const { page } = admin.device;
    await expect.poll(() => passkeyNames(page)).toEqual(['test laptop']);
    expect(await passkeyRow(page, 'test laptop').locator('button.remove').isDisabled()).toBe(true);
    expect(await page.isVisible('#last-passkey')).toBe(true);
    const [first] = await web.f.app.store.passkeys.listCredentials(admin.principalId);

    await fresh((await heldSession(page))!); // no step-up in the middle of the authenticator swap
    await addPasskey('security key');
    await expect.poll(() => passkeyNames(page)).toEqual(['test laptop', 'security key']);
    const added = passkeyRow(page, 'security key');
    expect(await added.locator('td').nth(2).textContent()).toBe('never'); // last used
    expect(await added.locator('td').nth(3).textContent()).toBe('no'); // synced: this virtual authenticator makes device-bound ones
    expect(await passkeyRow(page, 'test laptop').locator('td').nth(2).textContent()).not.toBe('never'); // used at enrolment and since
    expect(await page.isHidden('#last-passkey')).toBe(true);
    const rows = await web.f.app.store.passkeys.listCredentials(admin.principalId);
    expect(rows.map((r) => r.name)).toEqual(['test laptop', 'security key']);

    // Removing the first, once the step-up has gone stale: the passkey first, then the removal.
    const held = (await heldSession(page))!;
    await stale(held);
    const before = admin.device.requests.length;
    await passkeyRow(page, 'test laptop').locator('button.remove').click();
    await says(page, 'Removed the passkey "test laptop".');
    expect(authCalls(admin.device, before).filter((c) => !c.startsWith('GET'))).toEqual([
      expect.stringMatching(/^DELETE \/auth\/factors\/passkeys\/[a-z2-7]{26}$/), 'POST /auth/step-up/start', 'POST /auth/step-up/finish',
      expect.stringMatching(/^DELETE \/auth\/factors\/passkeys\/[a-z2-7]{26}$/),
    ]);
    expect((await web.f.app.store.passkeys.listCredentials(admin.principalId)).map((r) => r.credentialId)).toEqual([rows[1]!.credentialId]);
    expect(rows[0]!.credentialId).toBe(first!.credentialId);
    await expect.poll(() => passkeyNames(page)).toEqual(['security key']);
    expect(await passkeyRow(page, 'security key').locator('button.remove').isDisabled()).toBe(true);
    expect(await page.isVisible('#last-passkey')).toBe(true);
    expect((await web.f.app.store.accounts.getSession(held))!.revokedReason).toBe('replaced-at-step-up');

    // The last one is kept by the server too: the page shows two, but the other went meanwhile
    // (removed from another browser); Remove on the one left gets the server's 409 in words.
    await addPasskey('spare key');
    await expect.poll(() => passkeyNames(page)).toEqual(['security key', 'spare key']);
    const spare = (await web.f.app.store.passkeys.listCredentials(admin.principalId)).find((r) => r.name === 'spare key')!;
    expect(await web.f.app.store.passkeys.deleteCredential(admin.principalId, spare.credentialId)).toBe(true);
    const remove = passkeyRow(page, 'security key').locator('button.remove');
    expect(await remove.isEnabled()).toBe(true);
    await remove.click();
    expect(await errorText(page)).toBe(LAST_PASSKEY);
    await expect.poll(() => passkeyNames(page)).toEqual(['security key']); // the list as it is now
    expect(await passkeyRow(page, 'security key').locator('button.remove').isDisabled()).toBe(true);
    expect((await web.f.app.store.passkeys.listCredentials(admin.principalId)).map((r) => r.name)).toEqual(['security key']);
  });

  it('(d) changes the password: a weak one gets the policy\'s advice and changes nothing; a good one ends the other sessions and signs in', async () => {
    const a = admin.device;
    const { page } = a;
    // The form as password managers and browsers need it.
    for (const [id, autocomplete] of [['#current-password', 'current-password'], ['#new-password', 'new-password'], ['#new-password-again', 'new-password']] as const) {
      expect(await page.getAttribute(id, 'type'), id).toBe('password');
      expect(await page.getAttribute(id, 'autocomplete'), id).toBe(autocomplete);
    }
    expect(await page.getAttribute('#password-username', 'autocomplete')).toBe('username');
    expect(await page.inputValue('#password-username')).toBe('lab-admin');

    const others = [await elsewhere(), await elsewhere()];
    const otherSessions = await Promise.all(others.map(async (d) => (await heldSession(d.page))!));
    const hashBefore = (await web.f.app.store.accounts.getAccount(admin.principalId))!.passwordHash;
    const fill = async (current: string, next: string) => {
      await page.fill('#current-password', current);
      await page.fill('#new-password', next);
      await page.fill('#new-password-again', next);
      await page.click('#password-form button[type=submit]');
    };

    // Weak, with the step-up gone stale: the passkey first, then the policy's words; nothing changes.
    await stale((await heldSession(page))!);
    let before = a.requests.length;
    await fill(GOOD_PASSWORD, WEAK_PASSWORD);
    expect(await errorText(page)).toMatch(/^choose another password: /);
    // The step-up renewed this tab's session, and the list shows it although the change failed.
    expect(authCalls(a, before)).toEqual(['POST /auth/password', 'POST /auth/step-up/start', 'POST /auth/step-up/finish', 'POST /auth/password', 'GET /auth/sessions']);
    expect(await page.locator(`#sessions tr[data-session-id="${await heldSession(page)}"]`).textContent()).toContain('live (this browser)');
    expect(await page.inputValue('#new-password')).toBe('');
    expect(await page.inputValue('#new-password-again')).toBe('');
    expect(await page.content()).not.toContain(WEAK_PASSWORD);
    expect((await web.f.app.store.accounts.getAccount(admin.principalId))!.passwordHash).toBe(hashBefore);
    for (const id of otherSessions) expect((await web.f.app.store.accounts.getSession(id))!.revokedAt).toBeNull();

    // A wrong current password: the server's answer, and no passkey asked for (that 403 is no step-up).
    before = a.requests.length;
    await fill(WRONG_PASSWORD, NEW_PASSWORD);
    expect(await errorText(page)).toBe('the password was not changed: the current password is not right');
    expect(authCalls(a, before)).toEqual(['POST /auth/password']);
    expect(await page.inputValue('#current-password')).toBe('');
    expect((await web.f.app.store.accounts.getAccount(admin.principalId))!.passwordHash).toBe(hashBefore);

    // A good one: the confirmation counts the sessions that ended, and the list shows why.
    await fill(GOOD_PASSWORD, NEW_PASSWORD);
    await says(page, 'Your password is changed. 2 other sessions were ended.');
    expect(await page.locator('#error').isHidden()).toBe(true);
    for (const id of ['#current-password', '#new-password', '#new-password-again']) expect(await page.inputValue(id)).toBe('');
    const live = (await web.f.app.sessions.list(admin.principalId)).filter((s) => s.live);
    expect(live.map((s) => s.id)).toEqual([await heldSession(page)]);
    for (const id of otherSessions) {
      expect((await web.f.app.store.accounts.getSession(id))!.revokedReason).toBe('password-changed');
      expect(await page.locator(`#sessions tr[data-session-id="${id}"]`).textContent()).toContain('ended: the password was changed');
    }
    expect(await page.content()).not.toContain(NEW_PASSWORD);
    expect(web.urlsSeen.some((u) => u.includes(NEW_PASSWORD) || u.includes(GOOD_PASSWORD))).toBe(false);

    // Over the API: the new password passes the password step, the old one no longer does.
    const withNew = await passwordStep(NEW_PASSWORD);
    expect(withNew.status, withNew.text).toBe(200);
    expect(JSON.parse(withNew.text)).toHaveProperty('challengeId');
    const withOld = await passwordStep(GOOD_PASSWORD);
    expect(withOld.status).toBe(401);
    expect(withOld.text).toContain('wrong username or password');
    // The browsers the change threw out find out at their next call, and sign in with the new password.
    await others[0]!.page.click('#reload');
    expect(await errorText(others[0]!.page)).toBe(SESSION_ENDED_MESSAGE);
    const again = await elsewhere(NEW_PASSWORD);
    await expect.poll(() => liveRows(again.page).count()).toBe(2);
  });
});
