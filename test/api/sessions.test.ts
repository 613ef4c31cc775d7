/**
 * Signed-in people over HTTP: a session's access token works only as 'DPoP <token>' with a
 * fresh proof from the session's device key. Sent as a bearer token or with another key's
 * proof it is refused, the session ends, and the audit log records the theft.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { randomId, systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey, type TokenPair } from '../../src/sessions/index.js';
import { apiClient, episode, type Episode } from '../support/api.js';
import { principalRow } from '../support/store-fixtures.js';
import { clearForAccess } from '../support/hygiene.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';
import { issueApiToken } from '../../src/auth/index.js';

const BASE = 'https://labkluis.test';

describe.each(BACKENDS)('session tokens over HTTP (%s)', (backend) => {
  let f: VaultFixture;
  let ep: Episode;
  let personId: string;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    ep = await episode(f, f.tenants.a);
    // A server-style id (base32): the audit log keeps it as it is.
    const p = principalRow({ id: randomId(systemRandom), kind: 'human', role: 'registrar', tenants: ['*'], displayName: 'registrar-session-test' });
    await f.app.store.accounts.insertAccount(p, {
      principalId: p.id, username: `reg-${p.id.slice(-8)}`.toLowerCase(), passwordHash: null, passwordChangedAt: null, totpAllowed: false, createdAt: p.createdAt,
    });
    await clearForAccess(f.app.store, p);
    personId = p.id;
  }, 60_000);
  afterAll(() => f.cleanup());

  const signIn = async (key: DpopKey): Promise<TokenPair> =>
    f.app.sessions.open({ principalId: personId, jkt: key.jkt, authMethod: 'passkey', ip: '127.0.0.1', userAgent: 'labkluis-test/1' });
  const get = async (path: string, authorization: string, dpop?: string) =>
    f.server.inject({ method: 'GET', url: path, headers: { authorization, 'x-labkluis-tenant': f.tenants.a, ...(dpop ? { dpop } : {}) } });
  const proof = (key: DpopKey, path: string, accessToken: string) =>
    createDpopProof(key, { method: 'GET', url: `${BASE}${path}`, accessToken, clock: systemClock, random: systemRandom });
  const entries = async (): Promise<AuditEntry[]> => (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);

  it('reads with the session token and a proof from its key, audited under the person', async () => {
    const key = await generateDpopKey();
    const pair = await signIn(key);
    const path = `/fhir/${ep.patient}`;
    const res = await get(path, `DPoP ${pair.accessToken}`, await proof(key, path, pair.accessToken));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).id).toBe(ep.pseudonym);
    const read = (await entries()).filter((e) => e.action === 'R' && e.principal?.id === personId);
    expect(read.at(-1)?.patients).toEqual([ep.pseudonym]);
  });

  it('refuses the token as a bearer token, ends the session and records the theft', async () => {
    const key = await generateDpopKey();
    const pair = await signIn(key);
    const path = `/fhir/${ep.patient}`;
    const stolen = await get(path, `Bearer ${pair.accessToken}`);
    expect(stolen.statusCode).toBe(401);
    expect(stolen.body).not.toContain(pair.accessToken);
    expect((await f.app.store.accounts.getSession(pair.sessionId))!.revokedReason).toBe('token-replay:missing');
    const theft = (await entries()).filter((e) => e.operation === 'token-replay:missing' && e.principal?.id === personId);
    expect(theft).toHaveLength(1);
    expect(theft[0]!.outcome).toBe('denied');
    expect(theft[0]!.objects).toEqual([{ type: 'Session', id: pair.sessionId }]);
    // The owner's device is out too until it signs in again.
    const after = await get(path, `DPoP ${pair.accessToken}`, await proof(key, path, pair.accessToken));
    expect(after.statusCode).toBe(401);
  });

  it("refuses the token with another device's proof and ends the session", async () => {
    const key = await generateDpopKey();
    const pair = await signIn(key);
    const path = `/fhir/${ep.patient}`;
    const res = await get(path, `DPoP ${pair.accessToken}`, await proof(await generateDpopKey(), path, pair.accessToken));
    expect(res.statusCode).toBe(401);
    expect((await f.app.store.accounts.getSession(pair.sessionId))!.revokedReason).toBe('token-replay:key-mismatch');
  });

  it('refuses a proof made for another path: it cannot be replayed elsewhere', async () => {
    const key = await generateDpopKey();
    const pair = await signIn(key);
    const res = await get(`/fhir/${ep.patient}`, `DPoP ${pair.accessToken}`, await proof(key, '/fhir/Patient', pair.accessToken));
    expect(res.statusCode).toBe(401);
    expect((await f.app.store.accounts.getSession(pair.sessionId))!.revokedAt).not.toBeNull();
  });

  it('a disabled account is refused on its next request', async () => {
    const key = await generateDpopKey();
    const pair = await signIn(key);
    const path = `/fhir/${ep.patient}`;
    expect((await get(path, `DPoP ${pair.accessToken}`, await proof(key, path, pair.accessToken))).statusCode).toBe(200);
    await f.app.store.setPrincipalDisabled(personId, true);
    try {
      expect((await get(path, `DPoP ${pair.accessToken}`, await proof(key, path, pair.accessToken))).statusCode).toBe(401);
    } finally {
      await f.app.store.setPrincipalDisabled(personId, false);
    }
    expect((await f.app.store.accounts.getSession(pair.sessionId))!.revokedReason).toBe('account-disabled');
  });

  it('service principals read with their DPoP-bound API tokens', async () => {
    const res = await apiClient(f).get('registrar', `/fhir/${ep.patient}`, { tenant: f.tenants.a });
    expect(res.status).toBe(200);
  });
});

describe.each(BACKENDS)('API tokens bound to a service key (%s)', (backend) => {
  let f: VaultFixture;
  let ep: Episode;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    ep = await episode(f, f.tenants.a);
  }, 60_000);
  afterAll(() => f.cleanup());

  const bound = async () => {
    const key = await generateDpopKey();
    const issued = await issueApiToken({ store: f.app.store, clock: systemClock, random: systemRandom }, f.principalIds.registrar, 1, key.jkt);
    return { key, token: issued.token, id: issued.id };
  };
  const get = async (authorization: string, dpop?: string) =>
    f.server.inject({ method: 'GET', url: `/fhir/${ep.patient}`, headers: { authorization, 'x-labkluis-tenant': f.tenants.a, ...(dpop ? { dpop } : {}) } });
  const proofFor = (key: DpopKey, token: string) =>
    createDpopProof(key, { method: 'GET', url: `${PUBLIC_URL}/fhir/${ep.patient}`, accessToken: token, clock: systemClock, random: systemRandom });

  it('works as DPoP with a proof from the registered key', async () => {
    const t = await bound();
    expect((await get(`DPoP ${t.token}`, await proofFor(t.key, t.token))).statusCode).toBe(200);
  });

  it('sent as a bearer token it is refused and revoked, and the theft is recorded', async () => {
    const t = await bound();
    expect((await get(`Bearer ${t.token}`)).statusCode).toBe(401);
    expect((await f.app.store.getApiToken(t.id))!.revokedAt).not.toBeNull();
    expect((await get(`DPoP ${t.token}`, await proofFor(t.key, t.token))).statusCode).toBe(401);
    const log = (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
    expect(log.some((e) => e.operation === 'token-replay:api-token-missing')).toBe(true);
  });

  it("with another key's proof it is refused and revoked", async () => {
    const t = await bound();
    expect((await get(`DPoP ${t.token}`, await proofFor(await generateDpopKey(), t.token))).statusCode).toBe(401);
    expect((await f.app.store.getApiToken(t.id))!.revokedAt).not.toBeNull();
  });

  it('a proof for another request (method or URL) is refused and revokes the token', async () => {
    const t = await bound();
    const elsewhere = await createDpopProof(t.key, { method: 'GET', url: `${PUBLIC_URL}/fhir/Patient`, accessToken: t.token, clock: systemClock, random: systemRandom });
    expect((await get(`DPoP ${t.token}`, elsewhere)).statusCode).toBe(401);
    expect((await f.app.store.getApiToken(t.id))!.revokedAt).not.toBeNull();
  });

  it('a proof for another token (ath) does not open this one', async () => {
    const t = await bound();
    const other = await bound();
    const forOther = await createDpopProof(t.key, { method: 'GET', url: `${PUBLIC_URL}/fhir/${ep.patient}`, accessToken: other.token, clock: systemClock, random: systemRandom });
    expect((await get(`DPoP ${t.token}`, forOther)).statusCode).toBe(401);
  });
});
