/**
 * The table of contents of the browser side: every path registerWebPages serves (all public,
 * all GET, all static), and the headers each response carries. Nothing else under these paths.
 */
import { accountJs } from './assets/account.js';
import { apiJs } from './assets/api.js';
import { base64urlJs } from './assets/base64url.js';
import { deviceJs } from './assets/device.js';
import { dpopJs } from './assets/dpop.js';
import { enrolJs } from './assets/enrol.js';
import { signInJs } from './assets/sign-in.js';
import { styleCss } from './assets/style.js';
import { uiJs } from './assets/ui.js';
import { webauthnJs } from './assets/webauthn.js';
import { accountPage, devicePage, enrolPage, signInPage } from './html.js';

export interface WebPage {
  readonly path: string;
  readonly contentType: string;
  readonly body: string;
}

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

export const webPages: readonly WebPage[] = Object.freeze([
  { path: '/sign-in', contentType: HTML, body: signInPage },
  { path: '/enrol', contentType: HTML, body: enrolPage },
  { path: '/account', contentType: HTML, body: accountPage },
  { path: '/device', contentType: HTML, body: devicePage },
  { path: '/web/style.css', contentType: CSS, body: styleCss },
  { path: '/web/base64url.js', contentType: JS, body: base64urlJs },
  { path: '/web/dpop.js', contentType: JS, body: dpopJs },
  { path: '/web/webauthn.js', contentType: JS, body: webauthnJs },
  { path: '/web/api.js', contentType: JS, body: apiJs },
  { path: '/web/ui.js', contentType: JS, body: uiJs },
  { path: '/web/sign-in.js', contentType: JS, body: signInJs },
  { path: '/web/enrol.js', contentType: JS, body: enrolJs },
  { path: '/web/account.js', contentType: JS, body: accountJs },
  { path: '/web/device.js', contentType: JS, body: deviceJs },
].map((p) => Object.freeze(p)));

/**
 * Scripts, styles and fetches from this origin only, nothing inline, no plugins, no framing, no
 * <base> rewriting, no form posts; Trusted Types refuse every string-to-script sink (the pages
 * write text only). ASVS 5.0 V3.4.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'", "trusted-types 'none'",
].join('; ');

/** The headers of every page and asset; HSTS only where the public URL is https. */
export function securityHeaders(baseUrl: string): Readonly<Record<string, string>> {
  return Object.freeze({
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), publickey-credentials-get=(self), publickey-credentials-create=(self)',
    ...(new URL(baseUrl).protocol === 'https:' ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  });
}
