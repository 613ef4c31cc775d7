/**
 * Device-bound sessions on both stores: a stolen access or refresh token is refused and ends
 * its session with a security event; timeouts and revocation take effect on the next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, isLabkluisError, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, MemoryReplayCache, Sessions, StoreReplayCache, type DpopKey, type SessionEvent, type TokenPair } from '../../src/sessions/index.js';
import { jwkThumbprint } from '../../src/sessions/index.js';
import { principalRow } from '../support/store-fixtures.js';
import { createStoreEnv, type StoreEnv } from '../support/store-env.js';
import { BACKENDS } from '../support/vault-fixture.js';

const API = 'https://lab.example/fhir/DiagnosticReport/abc';
const TOKEN_URL = 'https://lab.example/auth/token';

describe.each(BACKENDS)('device-bound sessions (%s)', (backend) => {
  let env: StoreEnv;
  const clock = new ManualClock('2026-11-22T08:00:00Z');
  let sessions: Sessions;
  const events: SessionEvent[] = [];

  beforeAll(async () => {
    env = await createStoreEnv(backend, clock);
    sessions = new Sessions({
      store: env.store, keys: env.keys, clock, random: systemRandom, replay: new MemoryReplayCache({ clock }), events: async (e) => { events.push(e); },
    });
  }, 60_000);
  afterAll(() => env.cleanup());

  const person = async () => {
    const p = principalRow({ kind: 'human', role: 'registrar', tenants: ['*'] });
    await env.store.insertPrincipal(p);
    return p;
  };
  const signIn = async (principalId: string, key: DpopKey): Promise<TokenPair> =>
    sessions.open({ principalId, jkt: await jwkThumbprint(key.publicJwk), authMethod: 'passkey', ip: '127.0.0.1', userAgent: 'labkluis-test/1' });
  const request = async (key: DpopKey | null, accessToken: string, opts: { method?: string; url?: string } = {}) => ({
    dpop: key ? await createDpopProof(key, { method: opts.method ?? 'GET', url: opts.url ?? API, accessToken, clock, random: systemRandom }) : undefined,
    method: opts.method ?? 'GET', url: opts.url ?? API, ip: '127.0.0.1', userAgent: 'labkluis-test/1',
  });
  const refreshRequest = async (key: DpopKey) => ({
    dpop: await createDpopProof(key, { method: 'POST', url: TOKEN_URL, clock, random: systemRandom }), method: 'POST', url: TOKEN_URL, ip: null, userAgent: null,
  });
  const refused = async (p: Promise<unknown>) => {
    const e = await p.then(() => null, (x: unknown) => x);
    expect(isLabkluisError(e, 'ERR_UNAUTHENTICATED')).toBe(true);
    return e as Error;
  };
  const revokedReason = async (sessionId: string) => (await env.store.accounts.getSession(sessionId))!.revokedReason;

  it('accepts the access token with a fresh proof from the session key, as the signed-in person', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    expect(pair.tokenType).toBe('DPoP');
    expect(pair.expiresIn).toBeLessThanOrEqual(300);
    const principal = await sessions.authenticate(`DPoP ${pair.accessToken}`, await request(key, pair.accessToken));
    expect(principal).toMatchObject({ id: p.id, role: 'registrar', authMethod: 'session', credentialId: pair.sessionId });
    expect(principal.authenticatedAt).toBe(clock.now().toISOString());
    expect(events.some((e) => e.kind === 'session-opened' && e.sessionId === pair.sessionId)).toBe(true);
  });

  it('refuses the token as a bearer token, ends the session and raises a security event', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    await refused(sessions.authenticate(`Bearer ${pair.accessToken}`, await request(key, pair.accessToken)));
    expect(await revokedReason(pair.sessionId)).toMatch(/^token-replay/);
    expect(events.some((e) => e.kind === 'token-replay' && e.sessionId === pair.sessionId)).toBe(true);
    // The legitimate device is out too: a copied token must not be usable after the theft was seen.
    await refused(sessions.authenticate(`DPoP ${pair.accessToken}`, await request(key, pair.accessToken)));
  });

  it('refuses the token without a proof, and with a proof from another key, ending the session', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const thief = await generateDpopKey();
    const a = await signIn(p.id, key);
    await refused(sessions.authenticate(`DPoP ${a.accessToken}`, await request(null, a.accessToken)));
    expect(await revokedReason(a.sessionId)).toBe('token-replay:missing');
    const b = await signIn(p.id, key);
    await refused(sessions.authenticate(`DPoP ${b.accessToken}`, await request(thief, b.accessToken)));
    expect(await revokedReason(b.sessionId)).toBe('token-replay:key-mismatch');
  });

  it('refuses a replayed proof and ends the session', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    const req = await request(key, pair.accessToken);
    await sessions.authenticate(`DPoP ${pair.accessToken}`, req);
    await refused(sessions.authenticate(`DPoP ${pair.accessToken}`, req));
    expect(await revokedReason(pair.sessionId)).toBe('token-replay:jti-replay');
  });

  it('refuses a proof made for another URL or method', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    await refused(sessions.authenticate(`DPoP ${pair.accessToken}`, { ...(await request(key, pair.accessToken, { url: 'https://lab.example/fhir/Patient' })), url: API }));
    expect(await revokedReason(pair.sessionId)).toBe('token-replay:htu');
  });

  it('access tokens expire after five minutes; refresh rotates them', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    clock.advance(301_000);
    await refused(sessions.authenticate(`DPoP ${pair.accessToken}`, await request(key, pair.accessToken)));
    expect(await revokedReason(pair.sessionId)).toBeNull(); // an expired token is not a theft
    const next = await sessions.refresh(pair.refreshToken, await refreshRequest(key));
    expect(next.sessionId).toBe(pair.sessionId);
    expect(next.refreshToken).not.toBe(pair.refreshToken);
    const principal = await sessions.authenticate(`DPoP ${next.accessToken}`, await request(key, next.accessToken));
    expect(principal.id).toBe(p.id);
  });

  it('a refresh token used twice ends the whole family', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const first = await signIn(p.id, key);
    const second = await sessions.refresh(first.refreshToken, await refreshRequest(key));
    await refused(sessions.refresh(first.refreshToken, await refreshRequest(key)));
    expect(await revokedReason(first.sessionId)).toBe('refresh-reuse');
    expect(events.some((e) => e.kind === 'refresh-reuse' && e.sessionId === first.sessionId)).toBe(true);
    await refused(sessions.refresh(second.refreshToken, await refreshRequest(key)));
    await refused(sessions.authenticate(`DPoP ${second.accessToken}`, await request(key, second.accessToken)));
  });

  it('a renewal (step-up) replaces the session: every token held before is refused at once, the new pair works on the same key', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const first = await signIn(p.id, key);
    clock.advance(60_000);
    const second = await sessions.refresh(first.refreshToken, await refreshRequest(key)); // first.refreshToken is now spent
    clock.advance(60_000);
    const at = clock.now().toISOString();
    const renewed = await sessions.renew(first.sessionId, { reason: 'step-up', authenticatedAt: at, authMethod: 'passkey' }, { ip: '127.0.0.2', userAgent: 'labkluis-test/2' });
    expect(renewed.sessionId).not.toBe(first.sessionId);
    const [oldRow, newRow] = [(await env.store.accounts.getSession(first.sessionId))!, (await env.store.accounts.getSession(renewed.sessionId))!];
    expect(oldRow.revokedReason).toBe('replaced-at-step-up');
    expect(newRow).toMatchObject({ principalId: p.id, jkt: oldRow.jkt, absoluteExpiresAt: oldRow.absoluteExpiresAt, authenticatedAt: at, revokedAt: null, ip: '127.0.0.2' });
    expect(events.filter((e) => e.sessionId === first.sessionId || e.sessionId === renewed.sessionId).map((e) => `${e.kind}:${e.reason}`).slice(-2))
      .toEqual(['session-revoked:replaced-at-step-up', 'session-opened:step-up']);

    // Both access tokens minted before (not only the last) are refused; so are both refresh tokens,
    // the unspent one and the spent one, and none of that touches the new session.
    for (const old of [first, second]) await refused(sessions.authenticate(`DPoP ${old.accessToken}`, await request(key, old.accessToken)));
    await refused(sessions.refresh(second.refreshToken, await refreshRequest(key)));
    await refused(sessions.refresh(first.refreshToken, await refreshRequest(key)));
    expect(events.at(-1)).toMatchObject({ kind: 'refresh-reuse', sessionId: first.sessionId }); // the reuse is still reported, against the old family
    expect(await revokedReason(renewed.sessionId)).toBeNull();
    const principal = await sessions.authenticate(`DPoP ${renewed.accessToken}`, await request(key, renewed.accessToken));
    expect(principal).toMatchObject({ id: p.id, credentialId: renewed.sessionId, authenticatedAt: at });
    const next = await sessions.refresh(renewed.refreshToken, await refreshRequest(key));
    expect(next.sessionId).toBe(renewed.sessionId);
    // The new pair is bound to the same key: another key's proof is a theft, as always.
    await refused(sessions.authenticate(`DPoP ${next.accessToken}`, await request(await generateDpopKey(), next.accessToken)));
    expect(await revokedReason(renewed.sessionId)).toBe('token-replay:key-mismatch');
  });

  it('renewing an ended session is refused and opens nothing; of two racing renewals only one succeeds', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const how = { reason: 'step-up', authenticatedAt: clock.now().toISOString(), authMethod: 'passkey' } as const;
    const ended = await signIn(p.id, key);
    await sessions.revoke(ended.sessionId, 'signed-out', { ip: null, userAgent: null });
    await refused(sessions.renew(ended.sessionId, how, { ip: null, userAgent: null }));
    expect(await revokedReason(ended.sessionId)).toBe('signed-out');
    clock.advance(1_000);
    const live = await signIn(p.id, key);
    clock.advance(1_000);
    const raced = await Promise.allSettled([sessions.renew(live.sessionId, how, { ip: null, userAgent: null }), sessions.renew(live.sessionId, how, { ip: null, userAgent: null })]);
    expect(raced.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const won = raced.find((r) => r.status === 'fulfilled')!.value;
    expect((await sessions.list(p.id)).map((s) => [s.id, s.live])).toEqual([[ended.sessionId, false], [live.sessionId, false], [won.sessionId, true]]);
  });

  it('a refresh token presented with another key is refused and ends the session', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    await refused(sessions.refresh(pair.refreshToken, await refreshRequest(await generateDpopKey())));
    expect(await revokedReason(pair.sessionId)).toBe('token-replay:key-mismatch');
  });

  it('a refresh with a stale proof keeps the token; one without any proof ends the session', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    const stale = await refreshRequest(key);
    clock.advance(120_000);
    await refused(sessions.refresh(pair.refreshToken, stale)); // iat too old: a clock problem, not a theft
    expect(await revokedReason(pair.sessionId)).toBeNull();
    const next = await sessions.refresh(pair.refreshToken, await refreshRequest(key)); // the token still works
    await refused(sessions.refresh(next.refreshToken, { ...(await refreshRequest(key)), dpop: undefined }));
    expect(await revokedReason(pair.sessionId)).toBe('token-replay:missing');
  });

  it('ends a session idle for 15 minutes', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    clock.advance(14 * 60_000);
    const next = await sessions.refresh(pair.refreshToken, await refreshRequest(key));
    clock.advance(15 * 60_000);
    await refused(sessions.refresh(next.refreshToken, await refreshRequest(key)));
    expect(await revokedReason(pair.sessionId)).toBe('idle-timeout');
  });

  it('ends a session 12 hours after sign-in, however active', async () => {
    const p = await person();
    const key = await generateDpopKey();
    let pair = await signIn(p.id, key);
    const started = clock.now().getTime();
    let refusedAt: number | null = null;
    for (let i = 0; i < 80 && refusedAt === null; i++) {
      clock.advance(10 * 60_000);
      try {
        pair = await sessions.refresh(pair.refreshToken, await refreshRequest(key));
      } catch {
        refusedAt = clock.now().getTime();
      }
    }
    expect(refusedAt).not.toBeNull();
    expect(refusedAt! - started).toBeGreaterThanOrEqual(12 * 3_600_000);
    expect(refusedAt! - started).toBeLessThan(12 * 3_600_000 + 10 * 60_000 + 1);
    expect(await revokedReason(pair.sessionId)).toBe('absolute-timeout');
  });

  it('disabling the account ends its sessions on the next request', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    await env.store.setPrincipalDisabled(p.id, true);
    await refused(sessions.authenticate(`DPoP ${pair.accessToken}`, await request(key, pair.accessToken)));
    expect(await revokedReason(pair.sessionId)).toBe('account-disabled');
  });

  it('a person lists their sessions; revoking all ends every one at once', async () => {
    const p = await person();
    const laptop = await generateDpopKey();
    const desktop = await generateDpopKey();
    const a = await signIn(p.id, laptop);
    clock.advance(1_000);
    const b = await signIn(p.id, desktop);
    expect((await sessions.list(p.id)).map((s) => [s.id, s.live])).toEqual([[a.sessionId, true], [b.sessionId, true]]);
    expect(await sessions.revoke(a.sessionId, 'signed-out', { ip: null, userAgent: null })).toBe(true);
    await refused(sessions.authenticate(`DPoP ${a.accessToken}`, await request(laptop, a.accessToken)));
    expect(await sessions.revokeAllOf(p.id, 'security-officer', { ip: null, userAgent: null })).toBe(1);
    await refused(sessions.authenticate(`DPoP ${b.accessToken}`, await request(desktop, b.accessToken)));
    expect((await sessions.list(p.id)).every((s) => !s.live)).toBe(true);
  });

  it('a sign-in past the session limit ends the oldest live session, and only that one', async () => {
    const p = await person();
    const keys = await Promise.all(Array.from({ length: 6 }, () => generateDpopKey()));
    const pairs: TokenPair[] = [];
    for (const key of keys) {
      pairs.push(await signIn(p.id, key));
      clock.advance(1_000);
    }
    expect(sessions.policy.maxSessions).toBe(5);
    expect(await revokedReason(pairs[0]!.sessionId)).toBe('session-limit');
    await refused(sessions.authenticate(`DPoP ${pairs[0]!.accessToken}`, await request(keys[0]!, pairs[0]!.accessToken)));
    for (const [i, pair] of pairs.entries()) {
      if (i === 0) continue;
      expect(await revokedReason(pair.sessionId), `session ${i}`).toBeNull();
    }
    expect((await sessions.list(p.id)).filter((s) => s.live)).toHaveLength(5);
    expect(events.some((e) => e.kind === 'session-revoked' && e.sessionId === pairs[0]!.sessionId && e.reason === 'session-limit')).toBe(true);
    // Another person's sessions do not count.
    const other = await person();
    await signIn(other.id, keys[0]!);
    expect(await revokedReason(pairs[1]!.sessionId)).toBeNull();
  });

  it('refuses garbage and foreign tokens without ending anything, and never echoes tokens', async () => {
    const p = await person();
    const key = await generateDpopKey();
    const pair = await signIn(p.id, key);
    const forged = `${pair.accessToken.slice(0, -4)}AAAA`;
    const e = await refused(sessions.authenticate(`DPoP ${forged}`, await request(key, forged)));
    expect(e.message).not.toContain(pair.accessToken.slice(0, 20));
    await refused(sessions.authenticate('DPoP not-a-token', await request(key, 'not-a-token')));
    await refused(sessions.authenticate(undefined, await request(key, pair.accessToken)));
    await refused(sessions.refresh('lkr_nope', await refreshRequest(key)));
    expect(await revokedReason(pair.sessionId)).toBeNull();
    for (const ev of events) expect(JSON.stringify(ev)).not.toContain(pair.accessToken.slice(-20));
  });

  it('refuses a session policy with access tokens longer than five minutes', () => {
    expect(() => new Sessions({
      store: env.store, keys: env.keys, clock, random: systemRandom, replay: new MemoryReplayCache({ clock }), events: async () => {}, policy: { accessSeconds: 600 },
    })).toThrow(/access tokens/);
    expect(() => new Sessions({
      store: env.store, keys: env.keys, clock, random: systemRandom, replay: new MemoryReplayCache({ clock }), events: async () => {}, policy: { maxSessions: 0 },
    })).toThrow(/live sessions/);
  });
});

describe('a proof replayed to another node of the same PostgreSQL database', () => {
  it('is refused there too: the replay cache lives in the database', async () => {
    const clock = new ManualClock('2026-11-22T08:00:00Z');
    const env = await createStoreEnv('postgres', clock);
    try {
      const events: SessionEvent[] = [];
      // Two nodes: two Sessions, each with its own store-backed cache over the one database.
      const node = () => new Sessions({ store: env.store, keys: env.keys, clock, random: systemRandom, replay: new StoreReplayCache({ store: env.store, clock }), events: async (e) => { events.push(e); } });
      const a = node();
      const b = node();
      const p = principalRow({ kind: 'human', role: 'registrar', tenants: ['*'] });
      await env.store.insertPrincipal(p);
      const key = await generateDpopKey();
      const pair = await a.open({ principalId: p.id, jkt: key.jkt, authMethod: 'passkey', ip: null, userAgent: null });
      const url = 'https://lab.example/fhir/Patient/x';
      const req = { dpop: await createDpopProof(key, { method: 'GET', url, accessToken: pair.accessToken, clock, random: systemRandom }), method: 'GET', url, ip: null, userAgent: null };
      await a.authenticate(`DPoP ${pair.accessToken}`, req);
      await expect(b.authenticate(`DPoP ${pair.accessToken}`, req)).rejects.toMatchObject({ code: 'ERR_UNAUTHENTICATED' });
      expect((await env.store.accounts.getSession(pair.sessionId))!.revokedReason).toBe('token-replay:jti-replay');
    } finally {
      await env.cleanup();
    }
  }, 60_000);
});
