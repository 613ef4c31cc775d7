/**
 * A person's own passkeys over HTTP, on both stores: the list shows only one's own and no key
 * material; adding and removing need a fresh step-up; the last passkey stays (409); another
 * account's passkey is 404, like an unknown one; a removal is audited and the removed passkey
 * signs in no more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { randomId, systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import { clearForAccess } from '../support/hygiene.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { principalRow } from '../support/store-fixtures.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';

const RP = { origin: PUBLIC_URL, rpId: new URL(PUBLIC_URL).hostname };
const PASSWORD = 'fietsbel-kaasschaaf-zonnebloem-3';

interface Person {
  readonly principalId: string;
  readonly username: string;
  readonly key: DpopKey;
  readonly authenticator: SoftAuthenticator;
  readonly accessToken: string;
  readonly sessionId: string;
}

describe.each(BACKENDS)('own passkeys over HTTP (%s)', (backend) => {
  let f: VaultFixture;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
  }, 60_000);
  afterAll(() => f.cleanup());

  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, o: { key?: DpopKey; accessToken?: string } = {}) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (o.key) headers.dpop = await createDpopProof(o.key, { method, url: `${PUBLIC_URL}${path}`, ...(o.accessToken ? { accessToken: o.accessToken } : {}), clock: systemClock, random: systemRandom });
    if (o.accessToken) headers.authorization = `DPoP ${o.accessToken}`;
    const res = await f.server.inject({ method, url: path, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, text: res.body };
  };
  const as = (p: Person) => ({ key: p.key, accessToken: p.accessToken });

  /** A registrar enrolled through a one-time link, as in production: password, passkey, session. */
  const person = async (): Promise<Person> => {
    const row = principalRow({ id: randomId(systemRandom), kind: 'human', role: 'registrar', tenants: ['*'], displayName: 'registrar-passkeys' });
    const username = `reg-${row.id.slice(0, 10).toLowerCase()}`;
    await f.app.store.accounts.insertAccount(row, { principalId: row.id, username, passwordHash: null, passwordChangedAt: null, totpAllowed: false, createdAt: row.createdAt });
    await clearForAccess(f.app.store, row);
    const link = await f.app.signIn.createEnrolmentLink({ principalId: row.id, purpose: 'invite', createdBy: null, ttlSeconds: 600 });
    const key = await generateDpopKey();
    const authenticator = new SoftAuthenticator(RP);
    const start = await call('POST', '/auth/enrol/start', { secret: link.secret });
    expect(start.status, start.text).toBe(200);
    const finish = await call('POST', '/auth/enrol/finish', {
      secret: link.secret, challengeId: start.body.challengeId, password: PASSWORD,
      credential: authenticator.createResponse(start.body.options), passkeyName: 'first key',
    }, { key });
    expect(finish.status, finish.text).toBe(200);
    return { principalId: row.id, username, key, authenticator, accessToken: finish.body.accessToken, sessionId: finish.body.sessionId };
  };
  /** Registers a second passkey for p (p's session is fresh from its enrolment or a step-up). */
  const addPasskey = async (p: Person, name = 'second key'): Promise<{ authenticator: SoftAuthenticator; id: string }> => {
    const authenticator = new SoftAuthenticator({ ...RP, synced: true });
    const start = await call('POST', '/auth/factors/passkeys/start', {}, as(p));
    expect(start.status, start.text).toBe(200);
    const finish = await call('POST', '/auth/factors/passkeys/finish', { challengeId: start.body.challengeId, credential: authenticator.createResponse(start.body.options), name }, as(p));
    expect(finish.status, finish.text).toBe(201);
    return { authenticator, id: finish.body.passkey.id };
  };
  const list = async (p: Person) => {
    const r = await call('GET', '/auth/factors/passkeys', undefined, as(p));
    expect(r.status, r.text).toBe(200);
    return r.body.passkeys as { id: string; name: string; createdAt: string; lastUsedAt: string | null; transports: string[]; synced: boolean; backedUp: boolean }[];
  };
  const remove = (p: Person, id: string) => call('DELETE', `/auth/factors/passkeys/${id}`, undefined, as(p));
  const stale = (p: Person) => f.app.store.accounts.setSessionAuthenticated(p.sessionId, new Date(Date.now() - 6 * 60_000).toISOString());
  const signInWith = async (p: Person, authenticator: SoftAuthenticator) => {
    const first = await call('POST', '/auth/sign-in', { username: p.username, password: PASSWORD });
    expect(first.status, first.text).toBe(200);
    return call('POST', '/auth/sign-in/passkey', { challengeId: first.body.challengeId, credential: authenticator.getResponse(first.body.options) }, { key: await generateDpopKey() });
  };
  const entries = async (): Promise<AuditEntry[]> => (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);

  it("lists only the caller's own passkeys, and no key material", async () => {
    const a = await person();
    const b = await person();
    await addPasskey(a);
    const mine = await list(a);
    const theirs = await list(b);
    expect(mine.map((p) => p.name)).toEqual(['first key', 'second key']);
    expect(theirs).toHaveLength(1);
    expect(mine.map((p) => p.id)).not.toContain(theirs[0]!.id);
    for (const p of mine) {
      expect(Object.keys(p).sort()).toEqual(['backedUp', 'createdAt', 'id', 'lastUsedAt', 'name', 'synced', 'transports']);
      expect(p.id).toMatch(/^[a-z2-7]{26}$/);
    }
    expect(mine[1]).toMatchObject({ synced: true, backedUp: true });
    const raw = JSON.stringify(mine);
    for (const row of await f.app.store.passkeys.listCredentials(a.principalId)) {
      expect(raw).not.toContain(row.credentialId); // not even the credential id leaves the server
      expect(raw).not.toContain(row.publicKey.toString('base64url'));
      expect(raw).not.toContain(row.publicKey.toString('base64'));
    }
    // An API token (a service) has no passkeys to list.
    const service = await f.server.inject({ method: 'GET', url: '/auth/factors/passkeys', headers: await f.credential('registrar', 'GET', '/auth/factors/passkeys') });
    expect(service.statusCode).toBe(403);
  });

  it('adding a passkey needs a fresh step-up; the added one signs in', async () => {
    const p = await person();
    await stale(p);
    expect((await call('POST', '/auth/factors/passkeys/start', {}, as(p))).status).toBe(403);
    await f.app.store.accounts.setSessionAuthenticated(p.sessionId, new Date().toISOString());
    const start = await call('POST', '/auth/factors/passkeys/start', {}, as(p));
    expect(start.status).toBe(200);
    // The step-up goes stale between the two steps: the finish is refused and nothing is stored.
    await stale(p);
    const late = new SoftAuthenticator(RP);
    expect((await call('POST', '/auth/factors/passkeys/finish', { challengeId: start.body.challengeId, credential: late.createResponse(start.body.options), name: 'late' }, as(p))).status).toBe(403);
    expect(await f.app.store.passkeys.listCredentials(p.principalId)).toHaveLength(1);
    await f.app.store.accounts.setSessionAuthenticated(p.sessionId, new Date().toISOString());
    const added = await addPasskey(p, 'phone');
    expect((await signInWith(p, added.authenticator)).status).toBe(200);
    expect((await list(p)).find((k) => k.id === added.id)?.lastUsedAt).not.toBeNull();
    expect((await entries()).some((e) => e.operation === 'factor-added:passkey' && e.principal?.id === p.principalId
      && e.objects.some((o) => o.type === 'Passkey' && o.id === added.id))).toBe(true);
  });

  it('removing without a fresh step-up is refused (403) and removes nothing', async () => {
    const p = await person();
    const second = await addPasskey(p);
    await stale(p);
    const r = await remove(p, second.id);
    expect(r.status).toBe(403);
    expect(r.text).toMatch(/step-up/);
    expect(await list(p)).toHaveLength(2);
    // An API token never qualifies, whatever it names.
    const path = `/auth/factors/passkeys/${second.id}`;
    const service = await f.server.inject({ method: 'DELETE', url: path, headers: await f.credential('admin', 'DELETE', path) });
    expect(service.statusCode).toBe(403);
    expect(await list(p)).toHaveLength(2);
  });

  it('the last passkey cannot be removed (409), and still signs in', async () => {
    const p = await person();
    const [only] = await list(p);
    const r = await remove(p, only!.id);
    expect(r.status, r.text).toBe(409);
    expect(r.body.issue[0].code).toBe('conflict');
    expect(r.body.issue[0].diagnostics).toMatch(/last passkey/);
    expect(await list(p)).toHaveLength(1);
    expect((await signInWith(p, p.authenticator)).status).toBe(200);
    expect((await entries()).some((e) => e.operation === 'factor-removed:passkey' && e.principal?.id === p.principalId
      && e.outcome === 'denied' && e.errorCode === 'ERR_CONFLICT')).toBe(true);
  });

  it("another account's passkey is 404, the same as an unknown id, and stays", async () => {
    const a = await person();
    await addPasskey(a); // a has two: only ownership can stop the removal below
    const b = await person();
    const bSecond = await addPasskey(b);
    const foreign = await remove(a, bSecond.id);
    const unknown = await remove(a, 'abcdefghijklmnopqrstuvwxyz');
    const malformed = await remove(a, 'not-a-passkey-id');
    for (const r of [foreign, unknown, malformed]) expect(r.status).toBe(404);
    expect(foreign.body).toEqual(unknown.body);
    expect(await list(b)).toHaveLength(2);
    expect(await list(a)).toHaveLength(2);
    expect((await signInWith(b, bSecond.authenticator)).status).toBe(200);
  });

  it('a removal is audited, and the removed passkey signs in no more', async () => {
    const p = await person();
    const second = await addPasskey(p);
    const [first] = await list(p);
    const r = await remove(p, first!.id);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ removed: true, remaining: 1 });
    expect((await list(p)).map((k) => k.id)).toEqual([second.id]);
    const removal = (await entries()).find((e) => e.operation === 'factor-removed:passkey' && e.outcome === 'success' && e.principal?.id === p.principalId);
    expect(removal).toBeDefined();
    expect(removal!.objects).toEqual(expect.arrayContaining([{ type: 'Session', id: p.sessionId }, { type: 'Passkey', id: first!.id }]));
    expect((await signInWith(p, p.authenticator)).status).toBe(401);
    expect((await signInWith(p, second.authenticator)).status).toBe(200);
    // Removed twice: the second time there is nothing to remove.
    expect((await remove(p, first!.id)).status).toBe(404);
  });
});
