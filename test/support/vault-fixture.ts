/**
 * A whole labkluis (composition root, real store, real keyring, real audit log) for API and
 * vault tests, on SQLite or on the real PostgreSQL. Principals for every role are created
 * through the same code the CLI uses. rawSql() reaches under the vault for tests that tamper
 * with the database or break it, as an attacker or a failing disk would.
 */
import type { DrillPolicy } from '../../src/backup/index.js';
import Database from 'better-sqlite3';
import pg from 'pg';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createApp, createLogger, type App } from '../../src/app.js';
import { createPrincipal, issueApiToken, localImporter } from '../../src/auth/index.js';
import { createLocalKeyring, type Kms } from '../../src/crypto/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import type { StoreConfig } from '../../src/config/index.js';
import type { SentinelPolicyInput } from '../../src/sentinel/index.js';
import type { AlertDeliveryConfigInput } from '../../src/sentinel/delivery/index.js';
import { AGB_SYSTEM, HTEST, ORGANIZATION_KIND_SYSTEM } from '../../src/domain/index.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { createTempDir, type TempDir } from './tmp.js';

export type Backend = 'sqlite' | 'postgres';
/** Where the fixture's server says it lives: the WebAuthn origin and the base of DPoP htu values. */
export const PUBLIC_URL = 'https://labkluis.test';
export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];
/** Sentinel limits far above anything a functional test does (test/sentinel uses the real ones). */
export const FUNCTIONAL_SENTINEL: SentinelPolicyInput = Object.freeze({
  windows: Object.freeze([Object.freeze({ seconds: 600, patients: 1_000_000, bytes: null })]),
  baseline: Object.freeze({ enabled: false }),
  archive: Object.freeze({ windows: Object.freeze([Object.freeze({ seconds: 3_600, patients: 1_000_000, bytes: null })]) }),
  work: Object.freeze({ windows: Object.freeze([Object.freeze({ seconds: 600, patients: 1_000_000, bytes: null })]) }),
});

/**
 * The real defaults, but without usual working hours: off-hours makes the limits stricter, and a
 * test's outcome must not depend on the hour it runs at (the signal has tests of its own).
 */
export const DEFAULT_SENTINEL_AT_ANY_HOUR: SentinelPolicyInput = Object.freeze({ signals: Object.freeze({ workingHours: null }) });

export type Who =
  | 'registrar' | 'analyst' | 'validator1' | 'validator2' | 'requesterA' | 'requesterB'
  | 'instrument' | 'securityOfficer' | 'admin';

export interface VaultFixture {
  readonly backend: Backend;
  readonly app: App;
  readonly server: FastifyInstance;
  readonly kms: Kms;
  /** Where the keyring file is (beside the data directory): for a second node in its own process. */
  readonly keyringPath: string;
  readonly dataDir: string;
  readonly storeConfig: StoreConfig;
  readonly origin: string;
  readonly tenants: { readonly a: string; readonly b: string };
  /** Each principal's API token, bound to keys[who]: send it with credential(who, …). */
  readonly tokens: Readonly<Record<Who, string>>;
  readonly keys: Readonly<Record<Who, DpopKey>>;
  readonly principalIds: Readonly<Record<Who, string>>;
  readonly instrumentDevice: string;
  /** Authorization and DPoP headers for one request by `who` (path as sent, e.g. '/fhir/Patient?x=1'). */
  credential(who: Who, method: string, path: string): Promise<Record<string, string>>;
  /** Runs SQL directly against the database, bypassing the vault. */
  rawSql(sql: string): Promise<unknown[]>;
  cleanup(): Promise<void>;
}

export async function createVaultFixture(
  backend: Backend,
  options: {
    checkpointEvery?: { entries: number; ms: number };
    logger?: Logger;
    /** The app's public URL (WebAuthn origin, DPoP htu base); default PUBLIC_URL. A browser test uses http://localhost:<port>. */
    publicUrl?: string;
    /**
     * The sentinel's limits. Default: FUNCTIONAL_SENTINEL, limits no functional test reaches, so
     * that only test/sentinel (which passes the real defaults) meets containment.
     */
    sentinelPolicy?: SentinelPolicyInput;
    /** Alert channels (webhook, syslog); default none. */
    alertDelivery?: AlertDeliveryConfigInput;
    /** Restore drills: the drill key production takes reports from, the allowed age (default: none, not watched). */
    drillPolicy?: DrillPolicy;
  } = {},
): Promise<VaultFixture> {
  const tmp: TempDir = await createTempDir('labkluis-vault-');
  const dataDir = join(tmp.path, 'data');
  const keyringPath = join(tmp.path, 'keys', 'keyring.json');
  let db: TestDatabase | null = null;
  let storeConfig: StoreConfig;
  if (backend === 'postgres') {
    db = await createTestDatabase();
    storeConfig = { kind: 'postgres', url: db.connectionString };
  } else {
    storeConfig = { kind: 'sqlite', file: 'labkluis.sqlite' };
  }
  const origin = 'test.labkluis.local/audit';
  const kms = createLocalKeyring({ path: keyringPath, dataDir, signerName: origin, random: systemRandom });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dataDir, { recursive: true });
  const app = await createApp({
    dataDir, storeConfig, kms, origin, publicUrl: options.publicUrl ?? PUBLIC_URL, clock: systemClock, random: systemRandom, logger: options.logger ?? createLogger('silent'),
    sentinelPolicy: options.sentinelPolicy ?? FUNCTIONAL_SENTINEL,
    ...(options.alertDelivery ? { alertDelivery: options.alertDelivery } : {}),
    ...(options.drillPolicy ? { drillPolicy: options.drillPolicy } : {}),
    ...(options.checkpointEvery ? { checkpointEvery: options.checkpointEvery } : {}),
  });
  const server = app.server();

  const importer = localImporter('fixture');
  const tenantA = await app.vault.createTenant(importer, { ip: 'local' }, organization('Huisartsenpraktijk Synthetisch A'));
  const tenantB = await app.vault.createTenant(importer, { ip: 'local' }, organization('Ziekenhuis Synthetisch B'));
  const tenants = { a: tenantA.id, b: tenantB.id };
  const instrumentDevice = 'analyser-1';
  const deps = { store: app.store, clock: systemClock, random: systemRandom };
  const spec: Record<Who, { role: string; tenants: string[]; instrument?: string }> = {
    registrar: { role: 'registrar', tenants: ['*'] },
    analyst: { role: 'analyst', tenants: ['*'] },
    validator1: { role: 'validator', tenants: ['*'] },
    validator2: { role: 'validator', tenants: ['*'] },
    requesterA: { role: 'requester', tenants: [tenants.a] },
    requesterB: { role: 'requester', tenants: [tenants.b] },
    instrument: { role: 'instrument', tenants: [tenants.a], instrument: instrumentDevice },
    securityOfficer: { role: 'security-officer', tenants: ['*'] },
    admin: { role: 'admin', tenants: ['*'] },
  };
  const tokens = {} as Record<Who, string>;
  const keys = {} as Record<Who, DpopKey>;
  const principalIds = {} as Record<Who, string>;
  for (const [who, s] of Object.entries(spec) as [Who, (typeof spec)[Who]][]) {
    const p = await createPrincipal(deps, { role: s.role, tenants: s.tenants, displayName: who.toLowerCase(), instrument: s.instrument ?? null, kind: 'service' });
    keys[who] = await generateDpopKey();
    tokens[who] = (await issueApiToken(deps, p.id, 1, keys[who].jkt)).token;
    principalIds[who] = p.id;
  }
  const base = options.publicUrl ?? PUBLIC_URL;
  const credential = async (who: Who, method: string, path: string): Promise<Record<string, string>> => ({
    authorization: `DPoP ${tokens[who]}`,
    dpop: await createDpopProof(keys[who], { method, url: new URL(path, base).href, accessToken: tokens[who], clock: systemClock, random: systemRandom }),
  });

  let sqlite: Database.Database | null = null;
  let pgClient: pg.Client | null = null;
  const rawSql = async (sql: string): Promise<unknown[]> => {
    if (backend === 'sqlite') {
      sqlite ??= new Database(join(dataDir, 'labkluis.sqlite'));
      const stmt = sqlite.prepare(sql);
      return stmt.reader ? stmt.all() : (stmt.run(), []);
    }
    if (!pgClient) {
      pgClient = new pg.Client({ connectionString: db!.connectionString });
      await pgClient.connect();
    }
    return (await pgClient.query(sql)).rows;
  };

  return {
    backend, app, server, kms, keyringPath, dataDir, storeConfig, origin, tenants, tokens, keys, credential, principalIds, instrumentDevice, rawSql,
    cleanup: async () => {
      await server.close();
      await app.close().catch(() => {});
      sqlite?.close();
      await pgClient?.end();
      await db?.drop();
      await tmp.cleanup();
    },
  };
}

let agb = 99_000_000;
function organization(name: string) {
  agb += 1 + Math.floor(Math.random() * 1000);
  return {
    resourceType: 'Organization', name, meta: { security: [{ ...HTEST }] },
    identifier: [{ system: AGB_SYSTEM, value: String(agb) }],
    type: [{ coding: [{ system: ORGANIZATION_KIND_SYSTEM, code: 'gp-practice' }] }],
  };
}
