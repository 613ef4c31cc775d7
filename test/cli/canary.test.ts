/**
 * `labkluis canary seed` and `canary list`, and the demo's canaries, run as the real command on
 * both stores: the demo seeds three canaries per tenant among its episodes and does not count
 * them in its summary; the operator lists and seeds more; bad input is refused with one line and
 * exit code 2, changing nothing; each command is an operator action in the audit log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createLogger, type App } from '../../src/app.js';
import type { AuditEntry } from '../../src/audit/index.js';
import { readConfig } from '../../src/config/index.js';
import { loadLocalKeyring } from '../../src/crypto/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { createTempDir, type TempDir } from '../support/tmp.js';
import { BACKENDS } from '../support/vault-fixture.js';

describe.each(BACKENDS)('labkluis canary (%s)', (backend) => {
  let tmp: TempDir;
  let db: TestDatabase | null = null;
  let data: string;
  let keyring: string;
  let env: Record<string, string>;
  let tenants: string[];
  let demoOut: string;
  const cli = (...args: string[]) => runCli(['--data', data, '--keyring', keyring, ...args], env);
  const oneLine = (s: string) => expect(s.trim().split('\n')).toHaveLength(1);
  /** The pseudonyms `canary list` prints (the lines after its header). */
  const list = async (tenant: string): Promise<string[]> => {
    const r = await cli('canary', 'list', '--tenant', tenant);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PSEUDONYM\s+CREATED\s+BY$/);
    return lines.slice(1).map((l) => l.split(/\s+/)[0]!);
  };
  /** Opens the vault in-process (after the commands ran) to look at what they left. */
  const withApp = async <T>(work: (app: App) => Promise<T>): Promise<T> => {
    const config = readConfig(data);
    const app = await createApp({
      dataDir: data, storeConfig: config.store, postgresUrl: db?.connectionString, kms: loadLocalKeyring({ path: keyring, dataDir: data, random: systemRandom }),
      origin: config.origin, clock: systemClock, random: systemRandom, logger: createLogger('silent'),
    });
    try {
      return await work(app);
    } finally {
      await app.close();
    }
  };

  beforeAll(async () => {
    tmp = await createTempDir('labkluis-canary-');
    data = join(tmp.path, 'vault');
    keyring = join(tmp.path, 'keys', 'keyring.json');
    env = {};
    if (backend === 'postgres') {
      db = await createTestDatabase();
      env = { LABKLUIS_PG_URL: db.connectionString };
    }
    const init = await cli('init', '--store', backend);
    expect(init.code, init.stderr).toBe(0);
    const demo = await cli('demo', '--patients', '4');
    expect(demo.code, demo.stderr).toBe(0);
    demoOut = demo.stdout;
    const tokens = JSON.parse(readFileSync(join(tmp.path, 'demo-tokens.json'), 'utf8')) as { requester: { tenant: string }[] };
    tenants = tokens.requester.map((t) => t.tenant);
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
    await tmp?.cleanup();
  });

  it('the demo seeds three canaries per tenant among its episodes and leaves them out of its count', async () => {
    expect(demoOut).toMatch(/demo loaded: 3 tenants, 12 synthetic patients, /);
    expect(demoOut).toMatch(/canary patients: 3 per tenant among them, not counted above/);
    for (const t of tenants) expect(await list(t)).toHaveLength(3);
    // The vault holds them all the same: 4 episodes and 3 canaries per tenant.
    await withApp(async (app) => {
      for (const t of tenants) {
        const subjects = new Set((await app.store.searchResources({ tenant: t, type: 'Specimen', limit: 1000 })).map((r) => r.pseudonym));
        expect(subjects.size).toBe(7);
        for (const c of await app.store.sentinel.listCanaries(t)) expect(subjects.has(c.pseudonym)).toBe(true);
      }
    });
  });

  it('seeds more on the operator\'s command, and lists them', async () => {
    const t = tenants[2]!;
    const before = await list(t);
    const r = await cli('canary', 'seed', '--tenant', t, '--count', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^seeded 2 canary patient\\(s\\) in tenant ${t}: [a-z2-7]{26} [a-z2-7]{26}\\n$`));
    const after = await list(t);
    expect(after).toHaveLength(before.length + 2);
    expect(after).toEqual(expect.arrayContaining(before));
  });

  it.each([
    ['a count of 0', ['--count', '0'], null],
    ['a count of 51', ['--count', '51'], null],
    ['a count that is no number', ['--count', 'three'], null],
    ['a tenant that does not exist', ['--count', '1'], 'nosuchtenant'],
    ['a malformed tenant', ['--count', '1'], 'Not A Tenant'],
  ])('refuses %s with one line and exit 2, changing nothing', async (_what, args, tenant) => {
    const t = tenant ?? tenants[0]!;
    const before = await list(tenants[0]!);
    const r = await cli('canary', 'seed', '--tenant', t, ...args);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/^labkluis: /);
    expect(await list(tenants[0]!)).toEqual(before);
  });

  it('records each command as an operator action, a refused one as denied', async () => {
    const log = await withApp(async (app) => (await app.store.readAudit(0, 1_000_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry));
    const seeds = log.filter((e) => e.operation === 'canary-seed' && e.outcome === 'success');
    expect(seeds.length).toBe(3 * 3 + 1); // one per demo canary, and the seeding of two
    expect(seeds.every((e) => e.principal?.id.startsWith('local-'))).toBe(true);
    expect(seeds.at(-1)!.objects.filter((o) => o.type === 'Canary' && o.id)).toHaveLength(2);
    expect(log.some((e) => e.operation === 'canary-list' && e.outcome === 'success')).toBe(true);
    expect(log.some((e) => e.operation === 'canary-seed' && e.outcome === 'denied')).toBe(true);
  });
});
