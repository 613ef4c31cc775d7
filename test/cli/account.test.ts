/**
 * `labkluis account reset` and `account list`, run as the real command against a vault made by
 * `labkluis init`, on both stores, while an in-process server on the same data directory plays
 * the browser side: the reset ends the admin's sessions at once, takes the old passkey and
 * recovery codes away, voids earlier links, and prints a link that enrols anew. Unknown,
 * malformed and disabled accounts are refused with one line and exit code 2. Both outcomes are
 * in the audit log as operator actions.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createLogger, type App } from '../../src/app.js';
import type { AuditEntry } from '../../src/audit/index.js';
import { readConfig } from '../../src/config/index.js';
import { loadLocalKeyring } from '../../src/crypto/index.js';
import { randomId, systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { principalRow } from '../support/store-fixtures.js';
import { createTempDir, type TempDir } from '../support/tmp.js';
import { BACKENDS } from '../support/vault-fixture.js';

const PUBLIC_URL = 'http://localhost:8080';
const RP = { origin: PUBLIC_URL, rpId: 'localhost' };
const PASSWORD = 'zonnebloem-kaasschaaf-fietsbel-5';
const LINK = /^http:\/\/localhost:8080\/enrol#([A-Za-z0-9_-]{43})$/m;

describe.each(BACKENDS)('labkluis account (%s)', (backend) => {
  let tmp: TempDir;
  let db: TestDatabase | null = null;
  let data: string;
  let keyring: string;
  let env: Record<string, string>;
  let app: App;
  let call: (method: 'GET' | 'POST', path: string, body?: unknown, o?: { key?: DpopKey; accessToken?: string }) => Promise<{ status: number; body: any; text: string }>;
  const cli = (...args: string[]) => runCli(['--data', data, '--keyring', keyring, ...args], env);
  const oneLine = (s: string) => expect(s.trim().split('\n')).toHaveLength(1);
  const entries = async (): Promise<AuditEntry[]> => (await app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);

  const enrol = async (secret: string, authenticator: SoftAuthenticator) => {
    const key = await generateDpopKey();
    const start = await call('POST', '/auth/enrol/start', { secret });
    if (start.status !== 200) return { status: start.status, key, tokens: null };
    const finish = await call('POST', '/auth/enrol/finish', {
      secret, challengeId: start.body.challengeId, password: PASSWORD, credential: authenticator.createResponse(start.body.options), passkeyName: 'laptop',
    }, { key });
    return { status: finish.status, key, tokens: finish.body as { accessToken: string; sessionId: string } };
  };
  const signInWith = async (authenticator: SoftAuthenticator) => {
    const first = await call('POST', '/auth/sign-in', { username: 'root', password: PASSWORD });
    if (first.status !== 200) return first.status;
    return (await call('POST', '/auth/sign-in/passkey', { challengeId: first.body.challengeId, credential: authenticator.getResponse(first.body.options) }, { key: await generateDpopKey() })).status;
  };

  beforeAll(async () => {
    tmp = await createTempDir('labkluis-account-');
    data = join(tmp.path, 'vault');
    keyring = join(tmp.path, 'keys', 'keyring.json');
    env = {};
    if (backend === 'postgres') {
      db = await createTestDatabase();
      env = { LABKLUIS_PG_URL: db.connectionString };
    }
    const init = await cli('init', '--store', backend, '--admin', 'root', '--public-url', PUBLIC_URL);
    expect(init.code, init.stderr).toBe(0);
    const config = readConfig(data);
    app = await createApp({
      dataDir: data, storeConfig: config.store, postgresUrl: db?.connectionString, kms: loadLocalKeyring({ path: keyring, dataDir: data, random: systemRandom }),
      origin: config.origin, publicUrl: PUBLIC_URL, clock: systemClock, random: systemRandom, logger: createLogger('silent'),
    });
    const server = app.server();
    call = async (method, path, body, o = {}) => {
      const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
      if (o.key) headers.dpop = await createDpopProof(o.key, { method, url: `${PUBLIC_URL}${path}`, ...(o.accessToken ? { accessToken: o.accessToken } : {}), clock: systemClock, random: systemRandom });
      if (o.accessToken) headers.authorization = `DPoP ${o.accessToken}`;
      const res = await server.inject({ method, url: path, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, text: res.body };
    };
    // The first admin enrols through init's link: a passkey, a session, ten recovery codes.
    const first = await enrol(/\/enrol#([A-Za-z0-9_-]{43})$/m.exec(init.stdout)![1]!, new SoftAuthenticator(RP));
    expect(first.status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await tmp?.cleanup();
  });

  it('resets an admin: sessions end at once, old factors and links stop working, the new link enrols', async () => {
    const root = (await app.store.accounts.findAccountByUsername('root'))!;
    const oldKey = new SoftAuthenticator(RP);
    const setup = await app.signIn.createEnrolmentLink({ principalId: root.principalId, purpose: 'reset', createdBy: null, ttlSeconds: 3600 });
    const before = await enrol(setup.secret, oldKey);
    expect(before.status).toBe(200);
    const me = { key: before.key, accessToken: before.tokens!.accessToken };
    const codes = (await call('POST', '/auth/factors/recovery-codes', {}, me)).body.codes as string[];
    expect(codes).toHaveLength(10);
    expect((await call('GET', '/auth/sessions', undefined, me)).status).toBe(200);
    // An earlier link, issued and never used: the reset must void it.
    const pending = await app.signIn.createEnrolmentLink({ principalId: root.principalId, purpose: 'reset', createdBy: null, ttlSeconds: 3600 });

    const r = await cli('account', 'reset', 'root');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/account root \(admin\) reset: 1 session\(s\) ended, 1 passkey\(s\)/);
    expect(r.stdout).toMatch(/valid until \d{4}-\d\d-\d\dT/);
    const secret = LINK.exec(r.stdout)![1]!;
    const link = await app.store.accounts.getEnrolmentLink(createHash('sha256').update(Buffer.from(secret, 'base64url')).digest());
    expect(Date.parse(link!.expiresAt) - Date.parse(link!.createdAt)).toBe(24 * 3600 * 1000);

    // Sessions ended at once: the next request with the old token fails.
    expect((await call('GET', '/auth/sessions', undefined, me)).status).toBe(401);
    const sessions = await app.store.accounts.listSessions(root.principalId);
    expect(sessions.every((s) => s.revokedAt !== null)).toBe(true);
    expect(sessions.some((s) => s.revokedReason === 'reset-by-operator')).toBe(true);
    // Every old factor is gone: no passkey, no recovery code; the password alone opens nothing.
    expect(await app.store.passkeys.listCredentials(root.principalId)).toEqual([]);
    expect(await app.store.safeguards.countRecoveryCodes(root.principalId)).toBe(0);
    expect(await signInWith(oldKey)).toBe(401);
    // The earlier link is void; the printed one enrols, once.
    expect((await call('POST', '/auth/enrol/start', { secret: pending.secret })).status).toBe(401);
    const newKey = new SoftAuthenticator(RP);
    expect((await enrol(secret, newKey)).status).toBe(200);
    expect((await enrol(secret, new SoftAuthenticator(RP))).status).toBe(401);
    // The new passkey signs in; the old one does not, even with the new password.
    expect(await signInWith(newKey)).toBe(200);
    expect(await signInWith(oldKey)).toBe(401);
    const challenge = await call('POST', '/auth/sign-in', { username: 'root', password: PASSWORD });
    const viaCode = await call('POST', '/auth/sign-in/code', { challengeId: challenge.body.challengeId, method: 'recovery-code', code: codes[0] }, { key: await generateDpopKey() });
    expect(viaCode.status).toBe(401);

    const audit = await entries();
    const reset = audit.filter((e) => e.operation === 'account-reset' && e.outcome === 'success');
    expect(reset).toHaveLength(1);
    expect(reset[0]!.principal?.id).toMatch(/^local-/);
    expect(reset[0]!.objects).toEqual([{ type: 'Account', id: root.principalId }]);
    expect(audit.some((e) => e.operation === 'factors-reset:operator-reset' && e.principal?.id === root.principalId)).toBe(true);
    expect(r.stdout).not.toContain(root.principalId); // the username is the handle the operator knows
  });

  it('refuses an unknown, a malformed or a disabled account with one line and exit code 2, audited', async () => {
    const unknown = await cli('account', 'reset', 'nobody-here');
    expect(unknown.code).toBe(2);
    oneLine(unknown.stderr);
    expect(unknown.stderr).toMatch(/^labkluis: no account named nobody-here/);
    expect(unknown.stdout).toBe('');
    const malformed = await cli('account', 'reset', 'Root; rm -rf /');
    expect(malformed.code).toBe(2);
    oneLine(malformed.stderr);
    expect(malformed.stderr).not.toContain('rm -rf');

    const row = principalRow({ id: randomId(systemRandom), kind: 'human', role: 'security-officer', tenants: ['*'], displayName: 'Sabine Officer', disabled: true });
    await app.store.accounts.insertAccount(row, { principalId: row.id, username: 'so-disabled', passwordHash: null, passwordChangedAt: null, totpAllowed: false, createdAt: row.createdAt });
    const disabled = await cli('account', 'reset', 'so-disabled');
    expect(disabled.code).toBe(2);
    oneLine(disabled.stderr);
    expect(disabled.stderr).toMatch(/disabled/);
    expect(disabled.stdout).not.toMatch(LINK);

    const refused = (await entries()).filter((e) => e.operation === 'account-reset' && e.outcome === 'denied');
    expect(refused.map((e) => e.errorCode)).toEqual(['ERR_NOT_FOUND', 'ERR_INVALID_INPUT', 'ERR_CONFLICT']);
  });

  it('lists accounts with role, status and factor counts, and audits the listing', async () => {
    const r = await cli('account', 'list');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^USERNAME\s+ROLE\s+STATUS\s+PASSKEYS\s+TOTP\s+RECOVERY-CODES$/);
    expect(lines.find((l) => l.startsWith('root '))).toMatch(/^root\s+admin\s+active\s+1\s+no\s+0$/);
    expect(lines.find((l) => l.startsWith('so-disabled '))).toMatch(/^so-disabled\s+security-officer\s+disabled\s+0\s+no\s+0$/);
    expect(r.stdout).not.toContain('Sabine'); // the display name is not shown
    expect((await entries()).some((e) => e.operation === 'account-list' && e.outcome === 'success')).toBe(true);
  });
});
