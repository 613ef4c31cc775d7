/**
 * /web/dpop.js: the browser's DPoP key and proofs (RFC 9449 §4.2). The key pair is made by
 * WebCrypto with extractable: false and kept in IndexedDB, which stores CryptoKey objects as
 * they are: the private key's bytes never reach JavaScript, so no script (nor a copied
 * sessionStorage or disk image of the profile's JS state) can carry the key off.
 */
export const DPOP_DB = 'labkluis';
export const DPOP_STORE = 'keys';
export const DPOP_KEY_ID = 'dpop';

// The ${…} below fill in the names above; the rest is the file as the browser gets it.
export const dpopJs = String.raw`// DPoP (RFC 9449) in the browser. One ECDSA P-256 key pair per browser profile, generated on
// first use with extractable: false and kept in IndexedDB (which stores the CryptoKey object, not
// its bytes). Sessions are bound to its thumbprint: a token copied out of this page is useless
// without a proof only this key can sign.
import { toBase64url, utf8 } from './base64url.js';

const DB = '${DPOP_DB}';
const STORE = '${DPOP_STORE}';
const KEY_ID = '${DPOP_KEY_ID}';

function withStore(mode, use) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(STORE, mode);
      const request = use(tx.objectStore(STORE));
      tx.oncomplete = () => { db.close(); resolve(request.result); };
      tx.onabort = () => { db.close(); reject(tx.error ?? request.error); };
    };
  });
}

async function loadOrCreate() {
  const stored = await withStore('readonly', (s) => s.get(KEY_ID));
  if (stored?.privateKey?.type === 'private' && stored.privateKey.extractable === false) return stored;
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  // The public half is always exportable; only its required members go into proofs (RFC 7638 §3.2).
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const record = { privateKey: pair.privateKey, publicJwk: { kty, crv, x, y } };
  try {
    // add, not put: when two tabs race on first use, the second gets the first one's key.
    await withStore('readwrite', (s) => (stored === undefined ? s.add(record, KEY_ID) : s.put(record, KEY_ID)));
    return record;
  } catch (e) {
    const winner = await withStore('readonly', (s) => s.get(KEY_ID)).catch(() => undefined);
    if (winner?.privateKey?.type === 'private') return winner;
    throw new Error('this browser cannot keep a device key (IndexedDB is unavailable: ' + e.name + ')');
  }
}

let current = null;
/** The device key, made on first use. One promise per page, so concurrent callers share it. */
export function deviceKey() {
  current ??= loadOrCreate().catch((e) => { current = null; throw e; });
  return current;
}

/** RFC 7638 thumbprint (SHA-256) of the public key: the jkt the server binds sessions to. */
export async function thumbprint() {
  const { crv, kty, x, y } = (await deviceKey()).publicJwk;
  const canonical = JSON.stringify({ crv, kty, x, y }); // required members, lexicographic order
  return toBase64url(await crypto.subtle.digest('SHA-256', utf8(canonical)));
}

const segment = (value) => toBase64url(utf8(JSON.stringify(value)));

/**
 * A proof for one request (RFC 9449 §4.2): htu is the URL without query and fragment, ath the
 * hash of the access token when one is sent. nowMs is the caller's best idea of server time.
 */
export async function proof(method, url, { accessToken, nowMs = Date.now() } = {}) {
  const key = await deviceKey();
  const htu = new URL(url, location.href);
  htu.search = '';
  htu.hash = '';
  const claims = { jti: toBase64url(crypto.getRandomValues(new Uint8Array(16))), htm: method, htu: htu.href, iat: Math.floor(nowMs / 1000) };
  if (accessToken) claims.ath = toBase64url(await crypto.subtle.digest('SHA-256', utf8(accessToken)));
  const input = segment({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk }) + '.' + segment(claims);
  // WebCrypto's ECDSA signature is r || s, 32 bytes each: exactly JWS ES256 (RFC 7518 §3.4).
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, utf8(input));
  return input + '.' + toBase64url(signature);
}
`;
