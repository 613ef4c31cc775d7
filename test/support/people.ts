/**
 * People over HTTP for tests of the /auth routes, as in production: an account enrolled through
 * a one-time link (password and passkey), more devices signed in with password then passkey,
 * step-ups with the passkey. Each device holds its own DPoP key and session tokens.
 *
 * Each device calls from its own network address, as people do: the public routes' per-network
 * budgets (api/rate-limits.ts) then do not run out in a test that signs in many times.
 *
 * A step-up may hand out rotated tokens (the old ones then stop working): whenever a response
 * carries tokens, the device takes them (adoptTokens), so tests hold whichever are current.
 */
import { expect } from 'vitest';
import { randomId, systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import type { Role } from '../../src/store/index.js';
import { clearForAccess } from './hygiene.js';
import { SoftAuthenticator } from './soft-authenticator.js';
import { principalRow } from './store-fixtures.js';
import { PUBLIC_URL, type VaultFixture, type Who } from './vault-fixture.js';

export const RP = { origin: PUBLIC_URL, rpId: new URL(PUBLIC_URL).hostname };
export const PASSWORD = 'kaasschaaf-fietsbel-zonnebloem-5';

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly sessionId: string;
}

/** One browser or CLI: a device key, the network it calls from, and the session tokens it holds now. */
export interface Device {
  readonly key: DpopKey;
  readonly ip: string;
  tokens: Tokens;
}

export interface Person {
  readonly principalId: string;
  readonly username: string;
  readonly displayName: string;
  readonly authenticator: SoftAuthenticator;
  /** The device that enrolled. */
  readonly device: Device;
}

export interface Reply {
  readonly status: number;
  readonly body: any;
  readonly text: string;
}

type Method = 'GET' | 'POST' | 'DELETE';

/**
 * Takes the tokens a response carries, at its top level or under `tokens` (a rotated pair after
 * a step-up); a response without any leaves the device as it was.
 */
export function adoptTokens(device: Device, body: unknown): void {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const t = (typeof b.tokens === 'object' && b.tokens !== null ? b.tokens : b) as Record<string, unknown>;
  if (typeof t.accessToken !== 'string') return;
  device.tokens = {
    accessToken: t.accessToken,
    refreshToken: typeof t.refreshToken === 'string' ? t.refreshToken : device.tokens.refreshToken,
    sessionId: typeof t.sessionId === 'string' ? t.sessionId : device.tokens.sessionId,
  };
}

export function people(f: VaultFixture) {
  let networks = 0;
  /** A network address no other device of this fixture uses (172.16.0.0/12). */
  const nextIp = () => {
    networks += 1;
    return `172.${16 + ((networks >> 16) & 15)}.${(networks >> 8) & 255}.${networks & 255}`;
  };

  /** A request as `device` (its token and a fresh proof, from its network), or without a session (`key` only signs the proof). */
  const call = async (method: Method, path: string, body?: unknown, o: { device?: Device; key?: DpopKey; ip?: string } = {}): Promise<Reply> => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    const key = o.device?.key ?? o.key;
    const accessToken = o.device?.tokens.accessToken;
    if (key) headers.dpop = await createDpopProof(key, { method, url: `${PUBLIC_URL}${path}`, ...(accessToken ? { accessToken } : {}), clock: systemClock, random: systemRandom });
    if (accessToken) headers.authorization = `DPoP ${accessToken}`;
    const ip = o.ip ?? o.device?.ip;
    const res = await f.server.inject({ method, url: path, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }), ...(ip ? { remoteAddress: ip } : {}) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, text: res.body };
  };

  /** The same request from a service with an API token (never a person). */
  const asService = async (who: Who, method: Method, path: string, body: unknown = {}): Promise<Reply> => {
    const res = await f.server.inject({
      method, url: path, payload: JSON.stringify(body), headers: { ...(await f.credential(who, method, path)), 'content-type': 'application/json' },
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, text: res.body };
  };

  /** A person enrolled through a one-time link, as in production: password, passkey, first session. */
  const enrol = async (o: { role?: Role; username?: string; displayName?: string; totpAllowed?: boolean; password?: string } = {}): Promise<Person> => {
    const role = o.role ?? 'registrar';
    const displayName = o.displayName ?? `Test ${role}`;
    const row = principalRow({ id: randomId(systemRandom), kind: 'human', role, tenants: ['*'], displayName });
    const username = o.username ?? `${role.slice(0, 3)}-${row.id.slice(0, 10).toLowerCase()}`;
    await f.app.store.accounts.insertAccount(row, {
      principalId: row.id, username, passwordHash: null, passwordChangedAt: null, totpAllowed: o.totpAllowed ?? false, createdAt: row.createdAt,
    });
    await clearForAccess(f.app.store, row);
    const link = await f.app.signIn.createEnrolmentLink({ principalId: row.id, purpose: 'invite', createdBy: null, ttlSeconds: 600 });
    const key = await generateDpopKey();
    const ip = nextIp();
    const authenticator = new SoftAuthenticator(RP);
    const start = await call('POST', '/auth/enrol/start', { secret: link.secret }, { ip });
    expect(start.status, start.text).toBe(200);
    const finish = await call('POST', '/auth/enrol/finish', {
      secret: link.secret, challengeId: start.body.challengeId, password: o.password ?? PASSWORD,
      credential: authenticator.createResponse(start.body.options), passkeyName: 'first key',
    }, { key, ip });
    expect(finish.status, finish.text).toBe(200);
    return { principalId: row.id, username, displayName, authenticator, device: { key, ip, tokens: finish.body } };
  };

  /** Sign-in with password then passkey on a new device (its own network); the reply of the step that answered last. */
  const trySignIn = async (p: Person, password: string): Promise<{ reply: Reply; device: Device | null }> => {
    const ip = nextIp();
    const first = await call('POST', '/auth/sign-in', { username: p.username, password }, { ip });
    if (first.status !== 200) return { reply: first, device: null };
    const key = await generateDpopKey();
    const second = await call('POST', '/auth/sign-in/passkey', { challengeId: first.body.challengeId, credential: p.authenticator.getResponse(first.body.options) }, { key, ip });
    return { reply: second, device: second.status === 200 ? { key, ip, tokens: second.body } : null };
  };

  /** Another device of p's, signed in with password and passkey. */
  const signIn = async (p: Person, password = PASSWORD): Promise<Device> => {
    const { reply, device } = await trySignIn(p, password);
    expect(reply.status, reply.text).toBe(200);
    return device!;
  };

  /** A fresh passkey assertion in `device`'s session; rotated tokens, if any, are taken. */
  const stepUp = async (p: Person, device: Device = p.device): Promise<void> => {
    const start = await call('POST', '/auth/step-up/start', {}, { device });
    expect(start.status, start.text).toBe(200);
    const finish = await call('POST', '/auth/step-up/finish', { challengeId: start.body.challengeId, credential: p.authenticator.getResponse(start.body.options) }, { device });
    expect(finish.status, finish.text).toBe(200);
    adoptTokens(device, finish.body);
  };

  /** Makes the device's last passkey assertion six minutes old: too old for a step-up. */
  const stale = (device: Device) =>
    f.app.store.accounts.setSessionAuthenticated(device.tokens.sessionId, new Date(Date.now() - 6 * 60_000).toISOString());

  /** Whether the device's session still answers (GET /auth/sessions: 200, or 401 once it has ended). */
  const works = async (device: Device): Promise<boolean> => {
    const r = await call('GET', '/auth/sessions', undefined, { device });
    expect([200, 401], r.text).toContain(r.status);
    return r.status === 200;
  };

  return { call, asService, enrol, trySignIn, signIn, stepUp, stale, works, nextIp };
}
