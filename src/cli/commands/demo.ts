import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Bundle } from 'fhir/r4.js';
import { dirname, join } from 'node:path';
import { generateDemo } from '../../demo/index.js';
import { ORGANIZATION_KINDS } from '../../domain/index.js';
import { configPath } from '../../config/index.js';
import { systemClock, systemRandom } from '../../kernel/index.js';
import { openApp } from '../open-app.js';
import { operator } from '../operator.js';
import type { Paths } from '../paths.js';
import { progress } from '../progress.js';
import { init } from './init.js';
import { serve } from './serve.js';
import { tokenCreate } from './token.js';
import { canarySeed } from './canary.js';

export interface DemoOptions {
  readonly patients: number;
  readonly serve?: boolean;
  readonly host: string;
  readonly port: number;
}

interface DemoToken { readonly handle: string; readonly tenant: string; readonly token: string; readonly key?: string }
type DemoTokens = Record<string, DemoToken[]>;

/** Episodes handed to the vault at a time (the progress bar moves per slice). */
const DEMO_SLICE = 64;
/** Canary patients per demo tenant (issue 4), seeded at random places among its episodes. */
const DEMO_CANARIES = 3;

/**
 * Loads the synthetic demo into a vault (initialising one on SQLite if there is none), once.
 * Demo tokens go to demo-tokens.json beside the data directory, never inside it, and each
 * token's DPoP key to demo-keys/<handle>.json (mode 0600): a token works only with its key.
 */
export async function demo(paths: Paths, o: DemoOptions, out: (line: string) => void): Promise<void> {
  if (!existsSync(configPath(paths.dataDir))) await init(paths, { store: 'sqlite' }, out);
  const tokenFile = join(dirname(paths.dataDir), 'demo-tokens.json');
  const keyDir = join(dirname(paths.dataDir), 'demo-keys');
  const app = await openApp(paths, { logLevel: o.serve ? 'info' : 'warn' });
  try {
    if ((await app.store.listTenants()).length === 0) {
      const started = Date.now();
      const data = generateDemo({ random: systemRandom, clock: systemClock, tenants: 3, patientsPerTenant: o.patients });
      const importer = operator();
      for (const org of data.organizations) {
        const code = org.type?.[0]?.coding?.[0]?.code;
        const kind = code && (ORGANIZATION_KINDS as readonly string[]).includes(code) ? code : 'client';
        await app.vault.createTenant(importer, { ip: 'local', userAgent: 'labkluis-cli demo' }, org, kind);
      }
      // Per tenant, in slices: each episode is its own atomic transaction; the vault lets
      // consecutive ones share durable commits.
      const byTenant = new Map<string, Bundle[]>();
      data.bundles.forEach((bundle, i) => {
        const tenant = data.tenantOf[i]!;
        byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), bundle]);
      });
      const bar = progress('demo', data.bundles.length);
      let resources = 0;
      for (const [tenant, bundles] of byTenant) {
        const ctx = app.vault.context(importer, { tenant, ip: 'local', userAgent: 'labkluis-cli demo' });
        // Canaries go in between the episodes, so they sit among them in the store's order too;
        // they are not counted in the summary below.
        const canaryAt = Array.from({ length: DEMO_CANARIES }, () => systemRandom.bytes(4).readUInt32BE(0) % (bundles.length + 1)).sort((a, b) => a - b);
        for (let i = 0, next = 0; ;) {
          for (; next < canaryAt.length && canaryAt[next] === i; next++) await canarySeed(app, { tenant, count: 1 }, () => {}, { ip: 'local', userAgent: 'labkluis-cli demo' });
          if (i === bundles.length) break;
          const slice = bundles.slice(i, Math.min(i + DEMO_SLICE, canaryAt[next] ?? bundles.length));
          const outcome = await app.vault.transactions(ctx, slice);
          if (outcome.refused) throw outcome.refused.error;
          resources += slice.reduce((n, b) => n + (b.entry?.length ?? 0), 0);
          bar.advance(slice.length);
          i += slice.length;
        }
      }
      bar.stop();
      rmSync(keyDir, { recursive: true, force: true }); // keys of an earlier demo vault bind nothing here
      mkdirSync(keyDir, { recursive: true, mode: 0o700 });
      const tokens = await demoTokens(app, keyDir, data.organizations.map((org) => org.id!));
      writeFileSync(tokenFile, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
      out(`demo loaded: ${data.organizations.length} tenants, ${data.bundles.length} synthetic patients, ${resources} resources in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      out(`canary patients: ${DEMO_CANARIES} per tenant among them, not counted above (labkluis canary list --tenant <id>)`);
    } else {
      out('the vault already holds data; the demo is not loaded again');
    }
    if (existsSync(tokenFile)) {
      const tokens = JSON.parse(readFileSync(tokenFile, 'utf8')) as DemoTokens;
      out(`demo API tokens (synthetic vault only; also in ${tokenFile}):`);
      for (const [role, list] of Object.entries(tokens)) {
        for (const t of list) out(`  ${role.padEnd(16)} ${t.handle.padEnd(20)} tenant ${t.tenant.padEnd(26)} ${t.token}`);
      }
      if (Object.values(tokens).flat().some((t) => t.key === undefined)) {
        out('  these tokens predate key binding and open nothing: remove .labkluis and run again for a fresh demo');
      } else {
        out(`  send: Authorization: DPoP <token> and DPoP: $(labkluis proof --key ${keyDir}/<handle>.json --token <token> <METHOD> <URL>)`);
        out('  lab staff act for several tenants: add X-Labkluis-Tenant: <tenant>');
      }
    }
  } catch (e) {
    await app.close();
    throw e;
  }
  if (o.serve) await serve(app, { host: o.host, port: o.port }, out);
  else await app.close();
}

async function demoTokens(app: Awaited<ReturnType<typeof openApp>>, keyDir: string, tenants: string[]): Promise<DemoTokens> {
  const out: DemoTokens = {};
  const add = async (role: string, handle: string, tenant: string, instrument?: string) => {
    const key = join(keyDir, `${handle}.json`);
    const t = await tokenCreate(app, { role, tenant: [tenant], name: handle, ttlDays: 30, newKey: key, ...(instrument ? { instrument } : {}) });
    (out[role] ??= []).push({ handle, tenant, token: t.token, key });
  };
  for (const role of ['registrar', 'analyst', 'validator', 'security-officer', 'admin']) await add(role, `demo-${role}`, '*');
  await add('validator', 'demo-validator-2', '*');
  for (const [i, tenant] of tenants.entries()) await add('requester', `demo-requester-${i + 1}`, tenant);
  await add('instrument', 'demo-analyser-1', tenants[0]!, 'demo-analyser-1');
  return out;
}
