/**
 * DPoP proof verification (RFC 9449 §4.3) and the replay cache: every refusal fails closed with
 * its own stable reason, and RFC 9449's own example proof verifies to the RFC's thumbprint.
 */
import { createPrivateKey, sign, type JsonWebKey } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CompactSign, compactVerify, generateKeyPair, exportJWK, type CryptoKey } from 'jose';
import { ManualClock, RateLimitedError, isLabkluisError } from '../../src/kernel/index.js';
import {
  DPOP_FAILURE_REASONS, DpopKeyCache, MemoryReplayCache, accessTokenHash, createDpopProof, generateDpopKey, isDpopError,
  jwkThumbprint, normaliseHtu, verifyDpopProof, type DpopKey, type DpopProofInput, type ReplayCache,
} from '../../src/sessions/index.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const HTU = 'https://lab.example/fhir/Patient';
const TOKEN = 'lkt_abcdefghijklmnop.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

let keyA: DpopKey;
let keyB: DpopKey;
let clock: ManualClock;
let replay: MemoryReplayCache;
let jtiCounter = 0;

beforeAll(async () => {
  keyA = await generateDpopKey();
  keyB = await generateDpopKey();
});
beforeEach(() => {
  clock = new ManualClock(NOW);
  replay = new MemoryReplayCache({ clock });
});

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const verify = (input: Partial<DpopProofInput> & { proof: DpopProofInput['proof'] }) =>
  verifyDpopProof({ method: 'GET', url: `${HTU}?x=1`, ...input }, { clock, replay });

/** A proof with any header or claim overridden (undefined drops it), signed by `signWith`. */
async function craft(
  over: { header?: Record<string, unknown>; claims?: Record<string, unknown>; signWith?: CryptoKey | Uint8Array } = {},
  key: DpopKey = keyA,
): Promise<string> {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk, ...over.header };
  const claims = { jti: `jti-${String(++jtiCounter).padStart(16, '0')}`, htm: 'GET', htu: HTU, iat: NOW_S, ...over.claims };
  return new CompactSign(enc(JSON.stringify(claims)))
    .setProtectedHeader(header as { alg: string })
    .sign(over.signWith ?? key.signingKey);
}

/** Signs any header with key A's private JWK, bypassing jose's own header checks. */
function rawSign(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const input = `${b64(header)}.${b64(claims)}`;
  const key = createPrivateKey({ key: { ...keyA.privateJwk } as JsonWebKey, format: 'jwk' });
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (!isDpopError(e)) throw e;
    expect(isLabkluisError(e, 'ERR_UNAUTHENTICATED')).toBe(true);
    return e.reason;
  }
  throw new Error('expected the proof to be refused');
}

describe('RFC 9449 §4.1 example proof (Figure 2)', () => {
  const proof = 'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg';
  const input = { proof, method: 'POST', url: 'https://server.example.com/token' };

  it('verifies at its iat and yields the thumbprint the RFC publishes (cnf.jkt, Figure 9)', async () => {
    const c = new ManualClock(new Date(1562262616 * 1000));
    const v = await verifyDpopProof(input, { clock: c, replay: new MemoryReplayCache({ clock: c }) });
    expect(v.jkt).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
    expect(v.jti).toBe('-BwC3ESc6acc2lTc');
    expect(v.iat).toBe(1562262616);
  });

  it('is refused today: its iat is long past', async () => {
    expect(await reasonOf(verifyDpopProof(input, { clock, replay }))).toBe('iat');
  });
});

describe('verifyDpopProof', () => {
  it('accepts a good proof and returns the key thumbprint and public key only', async () => {
    const proof = await craft();
    const v = await verify({ proof });
    expect(v.jkt).toBe(keyA.jkt);
    expect(v.jkt).toBe(await jwkThumbprint(keyA.publicJwk));
    expect(v.jkt).not.toBe(keyB.jkt);
    expect(v.iat).toBe(NOW_S);
    expect(v.jwk).toEqual({ kty: 'EC', crv: 'P-256', x: keyA.publicJwk.x, y: keyA.publicJwk.y });
    expect(v.jwk).not.toHaveProperty('d');
  });

  it('refuses the same proof a second time (jti-replay)', async () => {
    const proof = await craft();
    await verify({ proof });
    expect(await reasonOf(verify({ proof }))).toBe('jti-replay');
  });

  it('keys the replay cache by key and jti: the same jti under another key is a different proof', async () => {
    const claims = { jti: 'shared-jti-0123456789' };
    await verify({ proof: await craft({ claims }, keyA) });
    await expect(verify({ proof: await craft({ claims }, keyB) })).resolves.toMatchObject({ jkt: keyB.jkt });
    expect(await reasonOf(verify({ proof: await craft({ claims }, keyA) }))).toBe('jti-replay');
  });

  it('records only proofs that pass every other check, until the iat window closes', async () => {
    const calls: [string, number][] = [];
    const spy: ReplayCache = { remember: async (k, at) => { calls.push([k, at]); return true; } };
    const forged = await craft({ signWith: keyB.signingKey });
    await reasonOf(verifyDpopProof({ proof: forged, method: 'GET', url: HTU }, { clock, replay: spy }));
    await reasonOf(verifyDpopProof({ proof: await craft(), method: 'POST', url: HTU }, { clock, replay: spy }));
    expect(calls).toEqual([]);
    const v = await verifyDpopProof({ proof: await craft(), method: 'GET', url: HTU }, { clock, replay: spy });
    expect(calls).toEqual([[`${keyA.jkt}:${v.jti}`, (NOW_S + 60) * 1000]]);
  });

  it('fails closed when the replay cache is full (ERR_RATE_LIMITED, not a replay alarm)', async () => {
    const tiny = new MemoryReplayCache({ clock, maxEntries: 1 });
    await verifyDpopProof({ proof: await craft(), method: 'GET', url: HTU }, { clock, replay: tiny });
    const err = await verifyDpopProof({ proof: await craft(), method: 'GET', url: HTU }, { clock, replay: tiny }).catch((e: unknown) => e);
    expect(isLabkluisError(err, 'ERR_RATE_LIMITED')).toBe(true);
    expect(isDpopError(err)).toBe(false);
  });

  it('refuses a proof for GET used on POST (htm), and compares the method exactly', async () => {
    expect(await reasonOf(verify({ proof: await craft(), method: 'POST' }))).toBe('htm');
    expect(await reasonOf(verify({ proof: await craft({ claims: { htm: 'get' } }) }))).toBe('htm');
  });

  it('refuses a proof for another path, host, scheme or port (htu)', async () => {
    for (const htu of [
      'https://lab.example/fhir/Observation', 'https://evil.example/fhir/Patient', 'http://lab.example/fhir/Patient',
      'https://lab.example:8443/fhir/Patient', 'https://lab.example/fhir/Patient/', 'https://user@lab.example/fhir/Patient',
      'lab.example/fhir/Patient', 'https://lab.example/fhir\\Patient',
    ]) {
      expect(await reasonOf(verify({ proof: await craft({ claims: { htu } }) })), htu).toBe('htu');
    }
    expect(await reasonOf(verify({ proof: await craft({ claims: { htu: 42 } }) }))).toBe('htu');
  });

  it('ignores query and fragment on both sides', async () => {
    const proof = await craft({ claims: { htu: `${HTU}?a=1#top` } });
    await expect(verify({ proof, url: `${HTU}?b=2&c=3#frag` })).resolves.toMatchObject({ jkt: keyA.jkt });
  });

  it('normalises scheme and host case, default port, dot segments and percent-encoding', async () => {
    const proof = await craft({ claims: { htu: 'HTTPS://LAB.Example:443/fhir/./x/../%50atient' } });
    await expect(verify({ proof, url: 'https://lab.example/fhir/Patient' })).resolves.toMatchObject({ jkt: keyA.jkt });
    expect(normaliseHtu('http://Lab.Example:80')).toBe('http://lab.example/');
    expect(normaliseHtu('https://lab.example/a%2fb%7e')).toBe('https://lab.example/a%2Fb~');
    expect(normaliseHtu('ftp://lab.example/')).toBeUndefined();
  });

  it('refuses an iat 2 minutes old or 1 minute ahead, accepts one inside the window', async () => {
    expect(await reasonOf(verify({ proof: await craft({ claims: { iat: NOW_S - 120 } }) }))).toBe('iat');
    expect(await reasonOf(verify({ proof: await craft({ claims: { iat: NOW_S + 60 } }) }))).toBe('iat');
    expect(await reasonOf(verify({ proof: await craft({ claims: { iat: String(NOW_S) } }) }))).toBe('iat');
    expect(await reasonOf(verify({ proof: await craft({ claims: { iat: undefined } }) }))).toBe('iat');
    await expect(verify({ proof: await craft({ claims: { iat: NOW_S - 59 } }) })).resolves.toBeDefined();
    await expect(verify({ proof: await craft({ claims: { iat: NOW_S + 4 } }) })).resolves.toBeDefined();
  });

  it('checks ath when an access token is given', async () => {
    const ath = accessTokenHash(TOKEN);
    expect(ath).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(verify({ proof: await craft({ claims: { ath } }), accessToken: TOKEN })).resolves.toBeDefined();
    expect(await reasonOf(verify({ proof: await craft({ claims: { ath: accessTokenHash(`${TOKEN}x`) } }), accessToken: TOKEN }))).toBe('ath');
    expect(await reasonOf(verify({ proof: await craft(), accessToken: TOKEN }))).toBe('ath');
  });

  it('computes ath as base64url(SHA-256(token)) (RFC 9449 §4.2)', () => {
    // SHA-256("abc") from FIPS 180-2, base64url-encoded.
    expect(accessTokenHash('abc')).toBe(Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url'));
  });

  it('refuses a proof signed by key B carrying key A in its header (signature)', async () => {
    expect(await reasonOf(verify({ proof: await craft({ signWith: keyB.signingKey }) }))).toBe('signature');
    const [h, , s] = (await craft()).split('.');
    const tampered = `${h}.${b64({ jti: 'a-tampered-jti-value', htm: 'GET', htu: HTU, iat: NOW_S })}.${s}`;
    expect(await reasonOf(verify({ proof: tampered }))).toBe('signature');
  });

  it('refuses a key other than the one the token is bound to (key-mismatch)', async () => {
    expect(await reasonOf(verify({ proof: await craft(), expectedJkt: keyB.jkt }))).toBe('key-mismatch');
    await expect(verify({ proof: await craft(), expectedJkt: keyA.jkt })).resolves.toMatchObject({ jkt: keyA.jkt });
  });

  it('refuses alg none, HS256 and algorithms off the allow-list', async () => {
    const claims = { jti: 'unsigned-jti-0123456789', htm: 'GET', htu: HTU, iat: NOW_S };
    const none = { typ: 'dpop+jwt', alg: 'none', jwk: keyA.publicJwk };
    expect(await reasonOf(verify({ proof: `${b64(none)}.${b64(claims)}.AAAA` }))).toBe('alg');
    expect(await reasonOf(verify({ proof: `${b64(none)}.${b64(claims)}.` }))).toBe('malformed');
    const secret = new Uint8Array(32).fill(7);
    const hs = await craft({ header: { alg: 'HS256', jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } }, signWith: secret });
    expect(await reasonOf(verify({ proof: hs }))).toBe('alg');
    const rsa = await generateKeyPair('RS256');
    const rs = await craft({ header: { alg: 'RS256', jwk: await exportJWK(rsa.publicKey) }, signWith: rsa.privateKey });
    expect(await reasonOf(verify({ proof: rs }))).toBe('alg');
    const good = { jti: 'no-alg-jti-0123456789', htm: 'GET', htu: HTU, iat: NOW_S };
    expect(await reasonOf(verify({ proof: rawSign({ typ: 'dpop+jwt', jwk: keyA.publicJwk }, good) }))).toBe('alg');
    await expect(verify({ proof: rawSign({ typ: 'dpop+jwt', alg: 'ES256', jwk: keyA.publicJwk }, good) })).resolves.toBeDefined();
  });

  it('agrees with jose compactVerify on good and tampered proofs, for ES256, ES384 and EdDSA', async () => {
    const flip = (s: string, at: number) => `${s.slice(0, at)}${s[at] === 'A' ? 'B' : 'A'}${s.slice(at + 1)}`;
    for (const alg of ['ES256', 'ES384', 'EdDSA'] as const) {
      const pair = await generateKeyPair(alg);
      const jwk = await exportJWK(pair.publicKey);
      const good = await craft({ header: { alg, jwk }, signWith: pair.privateKey });
      const [h, p, s] = good.split('.') as [string, string, string];
      const der = alg === 'EdDSA' ? null : Buffer.from(s, 'base64url'); // a DER signature is the wrong shape
      const variants = [
        good,
        `${h}.${p}.${flip(s, 5)}`, // a signature bit changed
        `${h}.${p}.${s.slice(0, -4)}`, // truncated
        `${h}.${p}.${s}AAAA`, // too long
        `${h}.${flip(p, 3)}.${s}`, // the payload changed
        ...(der ? [`${h}.${p}.${Buffer.concat([Buffer.from([0x30, der.length + 4, 2, der.length / 2]), der]).toString('base64url')}`] : []),
      ];
      for (const [i, proof] of variants.entries()) {
        const joseSays = await compactVerify(proof, pair.publicKey).then(() => true, () => false);
        const weSay = await verify({ proof }).then(() => true, (e) => (isDpopError(e, 'signature') || isDpopError(e, 'malformed') ? false : Promise.reject(new Error(`${alg} variant ${i}: ${(e as { reason?: string }).reason}`))));
        expect(weSay, `${alg} variant ${i}`).toBe(joseSays);
      }
      expect(await reasonOf(verify({ proof: good }))).toBe('jti-replay'); // the good one was accepted once
    }
  });

  it('with a key cache: imports each key once, stays within its size, and still checks every signature', async () => {
    const keys = new DpopKeyCache(2);
    const withCache = (proof: string) => verifyDpopProof({ method: 'GET', url: HTU, proof }, { clock, replay, keys });
    await withCache(await craft());
    await withCache(await craft());
    expect(keys.size).toBe(1);
    await withCache(await craft({}, keyB));
    const ed = await generateKeyPair('EdDSA');
    await withCache(await craft({ header: { alg: 'EdDSA', jwk: await exportJWK(ed.publicKey) }, signWith: ed.privateKey }));
    expect(keys.size).toBe(2);
    // A cached key A does not make key B's signature under A's header pass.
    expect(await reasonOf(withCache(await craft({ signWith: keyB.signingKey })))).toBe('signature');
    const x = Buffer.alloc(32, 1).toString('base64url');
    const offCurve = rawSign({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x, y: x } }, { jti: 'off-curve-jti-cached', htm: 'GET', htu: HTU, iat: NOW_S });
    expect(await reasonOf(withCache(offCurve))).toBe('jwk');
    expect(keys.size).toBe(2);
    expect(() => new DpopKeyCache(0)).toThrow(TypeError);
  });

  it('refuses a P-256 key whose point is not on the curve (jwk)', async () => {
    const x = Buffer.alloc(32, 1).toString('base64url');
    const offCurve = { kty: 'EC', crv: 'P-256', x, y: x };
    const proof = rawSign({ typ: 'dpop+jwt', alg: 'ES256', jwk: offCurve }, { jti: 'off-curve-jti-0123456', htm: 'GET', htu: HTU, iat: NOW_S });
    expect(await reasonOf(verify({ proof }))).toBe('jwk');
    expect(await reasonOf(verify({ proof }))).toBe('jwk'); // not cached as a good key either
  });

  it('accepts EdDSA (Ed25519) proofs', async () => {
    const ed = await generateKeyPair('EdDSA');
    const jwk = await exportJWK(ed.publicKey);
    const v = await verify({ proof: await craft({ header: { alg: 'EdDSA', jwk }, signWith: ed.privateKey }) });
    expect(v.jkt).toBe(await jwkThumbprint(jwk));
    expect(v.jwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
  });

  it('refuses a typ other than dpop+jwt', async () => {
    expect(await reasonOf(verify({ proof: await craft({ header: { typ: 'JWT' } }) }))).toBe('typ');
    expect(await reasonOf(verify({ proof: await craft({ header: { typ: undefined } }) }))).toBe('typ');
  });

  it('refuses a jwk with private members, of the wrong curve, or absent', async () => {
    const withD = { ...keyA.privateJwk };
    expect(await reasonOf(verify({ proof: await craft({ header: { jwk: withD } }) }))).toBe('jwk');
    expect(await reasonOf(verify({ proof: await craft({ header: { jwk: undefined } }) }))).toBe('jwk');
    expect(await reasonOf(verify({ proof: await craft({ header: { jwk: { ...keyA.publicJwk, crv: 'P-384' } } }) }))).toBe('jwk');
    expect(await reasonOf(verify({ proof: await craft({ header: { jwk: { ...keyA.publicJwk, x: 'AAAA' } } }) }))).toBe('jwk');
    expect(await reasonOf(verify({ proof: await craft({ header: { jwk: { ...keyA.publicJwk, use: 'enc' } } }) }))).toBe('jwk');
  });

  it('refuses a missing header', async () => {
    for (const proof of [undefined, '', []]) expect(await reasonOf(verify({ proof }))).toBe('missing');
  });

  it('refuses two proofs, as a list or as one comma-joined header', async () => {
    const [p1, p2] = [await craft(), await craft()];
    expect(await reasonOf(verify({ proof: `${p1}, ${p2}` }))).toBe('multiple');
    expect(await reasonOf(verify({ proof: [p1, p2] }))).toBe('multiple');
    await expect(verify({ proof: [p1] })).resolves.toBeDefined();
  });

  it('refuses garbage, a bad jti and critical extensions (malformed)', async () => {
    for (const proof of ['garbage', 'a.b.c', `${b64([1])}.${b64({})}.AAAA`, ' x.y.z', 'x'.repeat(9000)]) {
      expect(await reasonOf(verify({ proof })), proof.slice(0, 20)).toBe('malformed');
    }
    expect(await reasonOf(verify({ proof: await craft({ claims: { jti: 'short' } }) }))).toBe('malformed');
    expect(await reasonOf(verify({ proof: await craft({ claims: { jti: 'x'.repeat(129) } }) }))).toBe('malformed');
    const claims = { jti: 'crit-jti-0123456789', htm: 'GET', htu: HTU, iat: NOW_S };
    const crit = rawSign({ typ: 'dpop+jwt', alg: 'ES256', jwk: keyA.publicJwk, crit: ['x-ext'], 'x-ext': 1 }, claims);
    expect(await reasonOf(verify({ proof: crit }))).toBe('malformed');
  });

  it('never puts the proof or the token in the error message', async () => {
    const proof = await craft({ claims: { ath: 'wrong' } });
    const err = (await verify({ proof, accessToken: TOKEN }).catch((e: unknown) => e)) as Error;
    expect(isDpopError(err, 'ath')).toBe(true);
    const text = `${err.message} ${String(err)} ${JSON.stringify(err)}`;
    for (const secret of [TOKEN, proof, ...proof.split('.')]) expect(text).not.toContain(secret);
  });

  it('lists every reason it can give', () => {
    expect([...DPOP_FAILURE_REASONS].sort()).toEqual(
      ['alg', 'ath', 'htm', 'htu', 'iat', 'jti-replay', 'jwk', 'key-mismatch', 'malformed', 'missing', 'multiple', 'signature', 'typ'],
    );
  });

  it('verifies proofs made by createDpopProof', async () => {
    const random = { bytes: (n: number) => Buffer.alloc(n, 1), uuid: () => '' };
    const proof = await createDpopProof(keyA, { method: 'GET', url: `${HTU}?x=1`, clock, random, accessToken: TOKEN });
    await expect(verify({ proof, accessToken: TOKEN, expectedJkt: keyA.jkt })).resolves.toMatchObject({ jkt: keyA.jkt });
  });
});

describe('MemoryReplayCache', () => {
  it('remembers a key once until it expires with the clock', async () => {
    const at = NOW.getTime() + 1000;
    expect(await replay.remember('k', at)).toBe(true);
    expect(await replay.remember('k', at)).toBe(false);
    clock.advance(1000); // at the expiry instant the entry still counts
    expect(await replay.remember('k', at)).toBe(false);
    clock.advance(1);
    expect(replay.size).toBe(0);
    expect(await replay.remember('k', at + 5000)).toBe(true);
  });

  it('prunes in expiry order, whatever the insertion order', async () => {
    const t = NOW.getTime();
    for (const [k, dt] of [['a', 500], ['b', 100], ['c', 900], ['d', 300]] as const) await replay.remember(k, t + dt);
    clock.advance(301);
    expect(replay.size).toBe(2);
    expect(await replay.remember('a', t + 500)).toBe(false);
    expect(await replay.remember('b', t + 5000)).toBe(true);
  });

  it('refuses new keys when full instead of evicting unexpired ones, and takes them again after pruning', async () => {
    const cache = new MemoryReplayCache({ clock, maxEntries: 2 });
    const t = NOW.getTime();
    await cache.remember('a', t + 100);
    await cache.remember('b', t + 10_000);
    const full = await cache.remember('c', t + 10_000).catch((e: unknown) => e);
    expect(isLabkluisError(full, 'ERR_RATE_LIMITED')).toBe(true);
    expect((full as RateLimitedError).retryAfterSeconds).toBe(1); // 'a' expires after 100 ms
    expect(await cache.remember('a', t + 100)).toBe(false); // not evicted
    clock.advance(101);
    expect(await cache.remember('c', t + 10_000)).toBe(true);
    expect(await cache.remember('b', t + 10_000)).toBe(false);
  });

  it('rejects a nonsensical cap or expiry', async () => {
    expect(() => new MemoryReplayCache({ clock, maxEntries: 0 })).toThrow(TypeError);
    await expect(replay.remember('k', Number.NaN)).rejects.toThrow(TypeError);
  });
});
