/**
 * A real browser for the sign-in pages: Debian's Chromium driven by playwright-core, the Chrome
 * DevTools Protocol's virtual authenticator standing in for a platform passkey (resident keys,
 * user verification, approves every prompt), and labkluis listening on http://localhost:<port>
 * (a secure context, so WebAuthn and WebCrypto work without TLS) with that as its public URL.
 */
import { createServer, type AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page, type Request } from 'playwright-core';
import { createVaultFixture, type Backend, type VaultFixture } from '../support/vault-fixture.js';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Starts headless Chromium, or fails with what to do about it (never a silent skip). */
export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  } catch (e) {
    const first = String(e instanceof Error ? e.message : e).split('\n')[0];
    throw new Error(`the browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium); it did not start: ${first}`);
  }
}

export interface WebFixture {
  readonly f: VaultFixture;
  /** http://localhost:<port>: the app's public URL and the address the browser opens. */
  readonly baseUrl: string;
  /** Every URL the server received (path and query), to show what never travels in one. */
  readonly urlsSeen: string[];
}

/** A labkluis listening on a free localhost port that is also its public URL (WebAuthn origin, DPoP htu). */
export async function createWebFixture(backend: Backend): Promise<WebFixture> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const f = await createVaultFixture(backend, { publicUrl: baseUrl });
  const urlsSeen: string[] = [];
  f.server.addHook('onRequest', async (req) => void urlsSeen.push(req.url));
  try {
    await f.server.listen({ port, host: 'localhost' });
  } catch (e) {
    await f.cleanup();
    throw e;
  }
  return { f, baseUrl, urlsSeen };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** One person's browser: its own profile (IndexedDB, sessionStorage), one tab, one authenticator. */
export interface Device {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly cdp: CDPSession;
  readonly authenticatorId: string;
  /** Requests the page sent, in order: what anyone on the path (a proxy, malware) could see. */
  readonly requests: Request[];
  /** Uncaught errors and console errors in the page (CSP or Trusted Types violations among them). */
  readonly problems: string[];
}

export async function openDevice(browser: Browser): Promise<Device> {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  const requests: Request[] = [];
  const problems: string[] = [];
  page.on('request', (r) => void requests.push(r));
  page.on('pageerror', (e) => void problems.push(`uncaught: ${e.message}`));
  // Chromium reports every 4xx as "Failed to load resource"; those are the tests' own doing.
  page.on('console', (m) => void (m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(m.text())));
  return { context, page, cdp, authenticatorId, requests, problems };
}

/** The headers of the last request the page sent for this method and path. */
export async function lastRequest(device: Device, method: string, path: string): Promise<{ request: Request; headers: Record<string, string> }> {
  const request = device.requests.findLast((r) => r.method() === method && new URL(r.url()).pathname === path);
  if (request === undefined) throw new Error(`the page sent no ${method} ${path}`);
  return { request, headers: await request.allHeaders() };
}

/** The text of the page's alert line, once it shows. */
export async function errorText(page: Page): Promise<string | null> {
  await page.locator('#error').waitFor({ state: 'visible' });
  return page.locator('#error').textContent();
}

/** Waits until the page has moved on to `url`; if it shows an error instead, fails with its words. */
export async function arrive(page: Page, url: string): Promise<void> {
  const error = page.locator('#error');
  const settled = (p: Promise<unknown>) => p.then(() => undefined, () => undefined); // the loser times out quietly
  await Promise.race([settled(page.waitForURL(url)), settled(error.waitFor({ state: 'visible' }))]);
  if (page.url() !== url) throw new Error(`stayed on ${page.url()}: ${await error.textContent()}`);
}

/** Waits until `selector` shows; if the page shows an error instead, fails with its words. */
export async function shows(page: Page, selector: string): Promise<void> {
  const error = page.locator('#error');
  const settled = (p: Promise<unknown>) => p.then(() => undefined, () => undefined);
  await Promise.race([settled(page.locator(selector).waitFor({ state: 'visible' })), settled(error.waitFor({ state: 'visible' }))]);
  if (!(await page.locator(selector).isVisible())) throw new Error(`${selector} did not show: ${await error.textContent()}`);
}

/** Fills in and sends the enrolment form of an already opened link. */
export async function enrolWith(page: Page, password: string, passkeyName = 'test laptop'): Promise<void> {
  await page.locator('#enrol').waitFor({ state: 'visible' });
  await page.fill('#password', password);
  await page.fill('#password-again', password);
  await page.fill('#passkey-name', passkeyName);
  await page.click('#enrol button[type=submit]');
}

/**
 * Opens /sign-in (with `fragment`, e.g. '#device=BCDF-GHJK'), fills in the password step and
 * continues with the passkey, or with 'code' asks for the code form instead.
 */
export async function signInWith(page: Page, baseUrl: string, username: string, password: string, o: { fragment?: string; with?: 'passkey' | 'code' } = {}): Promise<void> {
  await page.goto(`${baseUrl}/sign-in${o.fragment ?? ''}`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click(o.with === 'code' ? '#use-code' : '#use-passkey');
}

/** The rows of live sessions on /account. */
export const liveRows = (page: Page) => page.locator('#sessions tr[data-live="true"]');

/** What the page's own module says the device key's thumbprint is. */
export const pageThumbprint = (page: Page) => page.evaluate<string>("import('/web/dpop.js').then((m) => m.thumbprint())");
