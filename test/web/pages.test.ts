/**
 * What the sign-in pages are made of, without a browser: the explicit list of paths, the
 * security headers on each (CSP, framing, referrer, caching, content types), no inline script or
 * style anywhere, and browser modules that parse and keep to text-only DOM writes and no
 * persistent storage. The browser itself: sign-in-pages.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webPages } from '../../src/web/index.js';
import { createTempDir, type TempDir } from '../support/tmp.js';
import { createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'";
const HTML_PAGES = ['/sign-in', '/enrol', '/account', '/device'];

describe('the sign-in pages as served', () => {
  let f: VaultFixture; // public URL https://labkluis.test
  let tmp: TempDir;
  beforeAll(async () => {
    f = await createVaultFixture('sqlite');
    tmp = await createTempDir('labkluis-web-');
  }, 60_000);
  afterAll(async () => {
    await f.cleanup();
    await tmp.cleanup();
  });

  it('serves exactly the listed paths, GET only', async () => {
    expect(webPages.map((p) => p.path)).toEqual([
      '/sign-in', '/enrol', '/account', '/device', '/web/style.css', '/web/base64url.js', '/web/dpop.js', '/web/webauthn.js',
      '/web/api.js', '/web/ui.js', '/web/sign-in.js', '/web/enrol.js', '/web/account.js', '/web/device.js',
    ]);
    for (const path of ['/web/', '/web/nothing.js', '/web/dpop.ts', '/sign-in/', '/enrol.html', '/device/', '/device/BCDF-GHJK']) {
      expect((await f.server.inject({ method: 'GET', url: path })).statusCode, path).toBe(404);
    }
    expect((await f.server.inject({ method: 'POST', url: '/sign-in', payload: {} })).statusCode).toBe(404);
    expect((await f.server.inject({ method: 'POST', url: '/device', payload: {} })).statusCode).toBe(404);
  });

  it('(g) sends the CSP and the other security headers with every page and asset', async () => {
    for (const page of webPages) {
      const res = await f.server.inject({ method: 'GET', url: page.path });
      expect(res.statusCode, page.path).toBe(200);
      expect(res.headers).toMatchObject({
        'content-security-policy': CSP,
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'cross-origin-opener-policy': 'same-origin',
        'strict-transport-security': 'max-age=31536000; includeSubDomains', // the public URL is https
      });
      const type = page.path.endsWith('.js') ? 'text/javascript' : page.path.endsWith('.css') ? 'text/css' : 'text/html';
      expect(res.headers['content-type']).toBe(`${type}; charset=utf-8`);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('(g) has no inline script, inline style, event handler attribute or javascript: URL', async () => {
    for (const path of HTML_PAGES) {
      const html = (await f.server.inject({ method: 'GET', url: path })).body;
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
      expect(scripts.length, path).toBe(1);
      for (const [, attrs, content] of scripts) {
        expect(attrs).toMatch(/\btype="module"/);
        expect(attrs).toMatch(/\bsrc="\/web\/[a-z-]+\.js"/);
        expect(content).toBe('');
      }
      expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:/i);
      // Everything the page loads is one of ours.
      for (const [, url] of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) {
        expect(webPages.some((p) => p.path === url) || url === '/sign-in#device', `${path} → ${url}`).toBe(true);
      }
      // Forms post nowhere, so a password can never land in a URL.
      expect(html).not.toMatch(/\saction=/);
      for (const [form] of html.matchAll(/<form\b[^>]*>/g)) expect(form).toMatch(/method="post"/);
    }
  });

  it('marks every password field type=password with the autocomplete password managers need, and blocks no paste (ASVS 6.2.6, 6.2.7)', async () => {
    const expected: Record<string, string[]> = {
      '/sign-in': ['current-password'],
      '/enrol': ['new-password', 'new-password'],
      '/account': ['current-password', 'new-password', 'new-password'],
    };
    for (const [path, autocompletes] of Object.entries(expected)) {
      const html = (await f.server.inject({ method: 'GET', url: path })).body;
      const inputs = [...html.matchAll(/<input\b[^>]*>/g)].map((m) => m[0]);
      const passwords = inputs.filter((i) => /autocomplete="(current|new)-password"/.test(i) || /type="password"/.test(i));
      expect(passwords.length, path).toBe(autocompletes.length);
      for (const [i, input] of passwords.entries()) {
        expect(input, path).toMatch(/type="password"/);
        expect(input, path).toMatch(new RegExp(`autocomplete="${autocompletes[i]}"`));
      }
      expect(html).not.toMatch(/onpaste|oncopy|autocomplete="off"/i);
    }
    for (const page of webPages.filter((p) => p.path.endsWith('.js'))) {
      const body = (await f.server.inject({ method: 'GET', url: page.path })).body;
      expect(body, page.path).not.toMatch(/['"]paste['"]|onpaste|preventDefault\(\)[^;]*paste/);
    }
  });

  it('serves browser modules that parse, write text only and keep nothing in cookies or localStorage', () => {
    for (const page of webPages.filter((p) => p.path.endsWith('.js'))) {
      const file = tmp.file(page.path.slice('/web/'.length).replace(/\.js$/, '.mjs'));
      writeFileSync(file, page.body);
      const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
      expect(check.status, `${page.path}: ${check.stderr}`).toBe(0);
      expect(page.body, page.path).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|localStorage|document\.cookie|setAttribute\('style'/);
      // Imports only from our own /web/ modules.
      for (const [, spec] of page.body.matchAll(/^import .* from '([^']+)';$/gm)) expect(spec, page.path).toMatch(/^\.\/[a-z0-9-]+\.js$/);
    }
  });
});
