/**
 * Limits on what anyone can send before signing in (ASVS 5.0 V2.4.1): a request budget per
 * client network on the public /auth routes, a small body limit on the JSON /auth routes, and
 * a hard cap on the in-memory DPoP replay cache. Each rule is shown refusing, changing nothing,
 * and not reaching further than it should (other networks, other route groups, FHIR traffic).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomeOf } from '../../src/api/index.js';
import { AUTH_BODY_LIMIT_BYTES, DEFAULT_RATE_LIMITS, PublicRateLimiter, publicRouteGroup } from '../../src/api/rate-limits.js';
import { ManualClock, RateLimitedError, isLabkluisError, systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, isDpopError, MemoryReplayCache, verifyDpopProof } from '../../src/sessions/index.js';
import { episode, type Episode } from '../support/api.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';

const SIGN_IN_LIMIT = DEFAULT_RATE_LIMITS.limits['sign-in'];

describe.each(BACKENDS)('limits on the public /auth routes over HTTP (%s)', (backend) => {
  let f: VaultFixture;
  let ep: Episode;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    ep = await episode(f, f.tenants.a);
  }, 120_000);
  afterAll(() => f.cleanup());

  const post = (url: string, payload: string, ip: string, headers: Record<string, string> = {}) =>
    f.server.inject({ method: 'POST', url, payload, remoteAddress: ip, headers: { 'content-type': 'application/json', ...headers } });
  const auditRows = async () => (await f.app.store.readAudit(0, 1_000_000)).length;
  const challengeRows = async () => Number(((await f.rawSql(`SELECT count(*) AS n FROM ${backend === 'sqlite' ? 'core_passkey_challenges' : 'core.passkey_challenges'}`))[0] as { n: number | string }).n);
  // A sign-in without a password: refused as bad input before any account lookup or throttle count.
  const incomplete = JSON.stringify({ username: 'nobody' });

  it(`answers the ${SIGN_IN_LIMIT + 1}st sign-in request from one address with 429 and Retry-After; another address still gets through`, async () => {
    const ip = '198.51.100.7';
    for (let i = 0; i < SIGN_IN_LIMIT; i++) expect((await post('/auth/sign-in', incomplete, ip)).statusCode).toBe(400);
    const audit = await auditRows();
    const refused = await post('/auth/sign-in', incomplete, ip);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(refused.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled', diagnostics: expect.stringMatching(/^too many requests from this network: try again in \d+ s$/) }] });
    // The whole sign-in group shares the budget; a refusal is not audited and changes nothing.
    expect((await post('/auth/sign-in/passkey', '{}', ip)).statusCode).toBe(429);
    expect((await post('/auth/sign-in/code', '{}', ip)).statusCode).toBe(429);
    expect(await auditRows()).toBe(audit);
    // Another address, and another route group from the same address, still get through.
    expect((await post('/auth/sign-in', incomplete, '198.51.100.8')).statusCode).toBe(400);
    expect((await post('/auth/token', JSON.stringify({ refreshToken: 'not-a-refresh-token' }), ip)).statusCode).toBe(401);
  });

  it('counts IPv6 clients per /64: another address in the same /64 is refused, the next /64 is not', async () => {
    for (let i = 0; i < SIGN_IN_LIMIT; i++) expect((await post('/auth/sign-in', incomplete, `2001:db8:7:1::${(i + 1).toString(16)}`)).statusCode).toBe(400);
    expect((await post('/auth/sign-in', incomplete, '2001:db8:7:1:ffff:ffff:ffff:fffe')).statusCode).toBe(429);
    expect((await post('/auth/sign-in', incomplete, '2001:0db8:0007:0001::abcd')).statusCode).toBe(429);
    expect((await post('/auth/sign-in', incomplete, '2001:db8:7:2::1')).statusCode).toBe(400);
  });

  it('limits the device grant and enrolment routes too, each as its own group', async () => {
    const ip = '198.51.100.20';
    for (let i = 0; i < DEFAULT_RATE_LIMITS.limits.device; i++) expect((await post('/auth/device', '{}', ip)).statusCode).toBe(401); // no DPoP proof
    expect((await post('/auth/device/token', '{}', ip)).statusCode).toBe(429);
    for (let i = 0; i < DEFAULT_RATE_LIMITS.limits.enrol; i++) expect((await post('/auth/enrol/start', '{}', ip)).statusCode).toBe(400);
    const refused = await post('/auth/enrol/finish', '{}', ip);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
  });

  it('does not limit authenticated FHIR traffic from an address whose /auth budget is spent', async () => {
    const ip = '198.51.100.7'; // spent in the first test
    expect((await post('/auth/sign-in', incomplete, ip)).statusCode).toBe(429);
    const path = `/fhir/${ep.patient}`;
    for (let i = 0; i < SIGN_IN_LIMIT + 10; i++) {
      const headers = { ...(await f.credential('registrar', 'GET', path)), 'x-labkluis-tenant': f.tenants.a };
      expect((await f.server.inject({ method: 'GET', url: path, headers, remoteAddress: ip })).statusCode).toBe(200);
    }
  });

  it('refuses a 1 MB body to /auth/sign-in with 413 before it is read: no audit entry, no challenge, no throttle count', async () => {
    const ip = '198.51.100.30';
    const huge = JSON.stringify({ username: 'lab-admin', password: 'x'.repeat(1024 * 1024) });
    const [audit, challenges] = [await auditRows(), await challengeRows()];
    // More than the sign-in throttle's free attempts per address (20): had they been counted, the next would be held back.
    for (let i = 0; i < 22; i++) {
      const r = await post('/auth/sign-in', huge, ip);
      expect(r.statusCode).toBe(413);
      expect(r.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'invalid', diagnostics: 'the request body is too large' }] });
    }
    expect(await auditRows()).toBe(audit);
    expect(await challengeRows()).toBe(challenges);
    expect((await post('/auth/sign-in', JSON.stringify({ username: 'nobody-here', password: 'not-the-password-at-all' }), ip)).statusCode).toBe(401);
  });

  it('takes a real enrolment (password and passkey attestation) well within the /auth body limit; FHIR routes keep their own limit', async () => {
    const first = await f.app.accounts.firstAdmin('lab-admin', { ip: 'local', userAgent: null });
    const ip = '198.51.100.40';
    const start = await post('/auth/enrol/start', JSON.stringify({ secret: first.secret }), ip);
    expect(start.statusCode, start.body).toBe(200);
    const authenticator = new SoftAuthenticator({ origin: PUBLIC_URL, rpId: new URL(PUBLIC_URL).hostname });
    const finish = {
      secret: first.secret, challengeId: start.json().challengeId, password: 'zonnebloem-fietsbel-kaasschaaf-7',
      credential: authenticator.createResponse(start.json().options), passkeyName: 'test key',
    };
    const body = JSON.stringify(finish);
    expect(body.length).toBeLessThan(AUTH_BODY_LIMIT_BYTES / 4);
    // The same request padded past the limit is refused and spends nothing (the link still works).
    const padded = JSON.stringify({ ...finish, padding: 'x'.repeat(AUTH_BODY_LIMIT_BYTES) });
    const key = await generateDpopKey();
    const dpop = async () => createDpopProof(key, { method: 'POST', url: `${PUBLIC_URL}/auth/enrol/finish`, clock: systemClock, random: systemRandom });
    expect((await post('/auth/enrol/finish', padded, ip, { dpop: await dpop() })).statusCode).toBe(413);
    const done = await post('/auth/enrol/finish', body, ip, { dpop: await dpop() });
    expect(done.statusCode, done.body).toBe(200);
    // A FHIR body larger than the /auth limit is read (and judged on its content, not its size).
    const path = '/fhir/Patient';
    const headers = { ...(await f.credential('registrar', 'POST', path)), 'x-labkluis-tenant': f.tenants.a, 'content-type': 'application/fhir+json' };
    const big = await f.server.inject({ method: 'POST', url: path, headers, payload: JSON.stringify({ resourceType: 'Patient', text: { status: 'generated', div: 'x'.repeat(2 * AUTH_BODY_LIMIT_BYTES) } }) });
    expect(big.statusCode).not.toBe(413);
  });
});

describe('PublicRateLimiter (injected clock)', () => {
  it('lets the limit through at once, then one per window/limit; Retry-After says when', () => {
    const clock = new ManualClock();
    const limiter = new PublicRateLimiter({ clock, limits: { 'sign-in': 3 }, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) limiter.take('sign-in', '192.0.2.1');
    const refused = (() => {
      try {
        limiter.take('sign-in', '192.0.2.1');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(isLabkluisError(refused, 'ERR_RATE_LIMITED')).toBe(true);
    expect((refused as RateLimitedError).retryAfterSeconds).toBe(20);
    expect(outcomeOf(refused).status).toBe(429);
    clock.advance(19_999);
    expect(() => limiter.take('sign-in', '192.0.2.1')).toThrow(RateLimitedError);
    clock.advance(1);
    limiter.take('sign-in', '192.0.2.1'); // one more after window/limit
    expect(() => limiter.take('sign-in', '192.0.2.1')).toThrow(RateLimitedError);
    clock.advance(60_000); // a whole window later the whole budget is back
    for (let i = 0; i < 3; i++) limiter.take('sign-in', '192.0.2.1');
    expect(() => limiter.take('sign-in', '192.0.2.1')).toThrow(RateLimitedError);
  });

  it('does not count refused requests, so a client that keeps hammering gets in at the steady rate', () => {
    const clock = new ManualClock();
    const limiter = new PublicRateLimiter({ clock, limits: { token: 2 }, windowSeconds: 10 });
    limiter.take('token', '192.0.2.9');
    limiter.take('token', '192.0.2.9');
    for (let i = 0; i < 100; i++) expect(() => limiter.take('token', '192.0.2.9')).toThrow(RateLimitedError);
    clock.advance(5_000);
    limiter.take('token', '192.0.2.9');
  });

  it('keeps budgets per group and per network (IPv4 address, IPv6 /64)', () => {
    const clock = new ManualClock();
    const limiter = new PublicRateLimiter({ clock, limits: { enrol: 1, device: 1 } });
    limiter.take('enrol', '2001:db8::1');
    expect(() => limiter.take('enrol', '2001:db8:0:0:ffff::2')).toThrow(RateLimitedError);
    limiter.take('enrol', '2001:db8:0:1::1');
    limiter.take('device', '2001:db8::1');
    limiter.take('enrol', '192.0.2.1');
    limiter.take('enrol', '192.0.2.2');
  });

  it('stays within maxTracked, forgetting budgets that are whole again first, then the least recently seen', () => {
    const clock = new ManualClock();
    const limiter = new PublicRateLimiter({ clock, limits: { 'sign-in': 1 }, windowSeconds: 60, maxTracked: 3 });
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) limiter.take('sign-in', ip);
    expect(limiter.size).toBe(3);
    expect(() => limiter.take('sign-in', '192.0.2.4')).toThrow(RateLimitedError); // the newest is still counted
    limiter.take('sign-in', '192.0.2.1'); // the oldest was forgotten
    clock.advance(60_000);
    limiter.take('sign-in', '192.0.2.9');
    expect(limiter.size).toBe(1);
  });

  it('groups the public routes by path; an unknown public /auth route gets the catch-all budget', () => {
    expect(['/auth/enrol/start', '/auth/enrol/finish'].map(publicRouteGroup)).toEqual(['enrol', 'enrol']);
    expect(['/auth/sign-in', '/auth/sign-in/passkey', '/auth/sign-in/code'].map(publicRouteGroup)).toEqual(['sign-in', 'sign-in', 'sign-in']);
    expect(['/auth/token', '/auth/device', '/auth/device/token', '/auth/sign-inx', '/auth/other'].map(publicRouteGroup)).toEqual(['token', 'device', 'device', 'auth', 'auth']);
  });

  it('rejects nonsensical options', () => {
    const clock = new ManualClock();
    expect(() => new PublicRateLimiter({ clock, limits: { 'sign-in': 0 } })).toThrow(TypeError);
    expect(() => new PublicRateLimiter({ clock, limits: { token: 1.5 } })).toThrow(TypeError);
    expect(() => new PublicRateLimiter({ clock, windowSeconds: 0 })).toThrow(TypeError);
    expect(() => new PublicRateLimiter({ clock, maxTracked: -1 })).toThrow(TypeError);
    expect(new PublicRateLimiter({ clock }).rules).toEqual(DEFAULT_RATE_LIMITS);
  });
});

describe('the DPoP replay cache cap (injected clock)', () => {
  const HTU = `${PUBLIC_URL}/auth/device`;

  it('refuses new proofs when full (429, not a DpopError), never grows past its cap, and takes proofs again once entries expire', async () => {
    const clock = new ManualClock();
    const replay = new MemoryReplayCache({ clock, maxEntries: 3 });
    const key = await generateDpopKey();
    const proof = () => createDpopProof(key, { method: 'POST', url: HTU, clock, random: systemRandom });
    const verify = async (p: string) => verifyDpopProof({ proof: p, method: 'POST', url: HTU }, { clock, replay });
    for (let i = 0; i < 3; i++) await verify(await proof());
    clock.advance(10_000);
    const err = await verify(await proof()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(isDpopError(err)).toBe(false); // the proof is not at fault: no replay alarm, no session ended
    expect(outcomeOf(err).status).toBe(429);
    expect((err as RateLimitedError).retryAfterSeconds).toBe(51); // the first entries expire 60 s after their iat
    expect(replay.size).toBe(3);
    // A refused proof was not remembered; a replay of a remembered one is still a replay.
    clock.advance(49_999); // the last millisecond the first entries count
    await expect(verify(await proof())).rejects.toBeInstanceOf(RateLimitedError);
    clock.advance(2);
    const fresh = await proof();
    await verify(fresh);
    expect(replay.size).toBe(1);
    const again = await verify(fresh).catch((e: unknown) => e);
    expect(isDpopError(again, 'jti-replay')).toBe(true);
  });
});
