/**
 * The backup benchmark's demo vault: a SQLite data directory of a chosen size (default 1 GiB),
 * built through the real composition root (createApp) from the demo's synthetic episodes
 * (src/demo: every record HTEST, names `Test-…`, BSNs from the synthetic range), written as
 * `labkluis import` and `demo` write them: app.vault.transactions with the local importer, 64
 * episodes per call. Then the changes a backup sees between two nights: new episodes (a lab's
 * nightly delta) and corrected results (new versions of existing Observations, by a validator).
 *
 * Building a gigabyte takes minutes, so the built vault (data directory, keyring, and what the
 * delta needs: the tenants and the BSNs in use per tenant) is kept under a stable path, keyed
 * by the code that decides what is stored: the demo generator, the SQLite schema and the
 * vault's record encoding. A run copies it to a temp dir and works on the copy.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createApp, createLogger, type App } from '../../src/app.js';
import { createPrincipal, localImporter, principalFromRow } from '../../src/auth/index.js';
import { writeNewConfig, type StoreConfig } from '../../src/config/index.js';
import { createLocalKeyring, loadLocalKeyring, type Kms } from '../../src/crypto/index.js';
import type { Bundle, Organization } from '../../src/domain/index.js';
import { generateDemo } from '../../src/demo/index.js';
import { Prng } from '../../src/demo/prng.js';
import { screeningEpisode } from '../../src/demo/screening.js';
import { stiEpisode } from '../../src/demo/sti.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';

/** Bumped when the way this file builds the vault changes (a new cache entry then). */
const BUILD_FORMAT = 1;
/** What decides the stored bytes: a change here builds the vault again. */
const KEY_SOURCES = ['src/demo', 'src/store/sqlite/sqlite-schema.ts', 'src/vault/records.ts'];
/** Synthetic BSNs come from ~90,000 valid numbers: a tenant takes at most this many patients. */
const PATIENTS_PER_TENANT = 20_000;
const SLICE = 64;
/** Resources in a demo episode, on average (bench/README.md: ~6.7). */
const EPISODE_RESOURCES = 6.7;

export const STORE_CONFIG: StoreConfig = Object.freeze({ kind: 'sqlite', file: 'labkluis.sqlite' }) as StoreConfig;
const ORIGIN = 'backup-bench.labkluis.local/audit';
const FACTS = Object.freeze({ ip: 'local', userAgent: 'labkluis-backup-bench' });

type Kind = 'gp-practice' | 'hospital' | 'screening';

export interface VaultMeta {
  readonly format: number;
  readonly key: string;
  readonly sizeMiB: number;
  readonly origin: string;
  readonly tenants: { id: string; kind: Kind }[];
  /** BSNs in use per tenant: new episodes draw others (a BSN is unique within a tenant). */
  readonly bsns: Record<string, string[]>;
  serial: number;
  readonly episodes: number;
  readonly resources: number;
  /** Bytes of the data directory once built and closed. */
  readonly dataBytes: number;
  readonly buildSeconds: number;
  readonly builtAt: string;
}

/** A vault to work on: a copy of the cached one, in a directory of the run. */
export interface RunVault {
  readonly dataDir: string;
  readonly kms: Kms;
  readonly meta: VaultMeta;
  /** How it came to be: reused from the cache, or built by this run. */
  readonly source: 'cache' | 'built';
  readonly cacheDir: string;
}

export function cacheKey(root: string, sizeMiB: number): string {
  const h = createHash('sha256').update(`format ${BUILD_FORMAT}\n`);
  const files: string[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const f of readdirSync(p).sort()) walk(join(p, f));
    else files.push(p);
  };
  for (const s of KEY_SOURCES) walk(join(root, s));
  for (const f of files) h.update(`${f.slice(root.length)}\n`).update(readFileSync(f));
  return `${h.digest('hex').slice(0, 16)}-${sizeMiB}mib`;
}

/** Bytes of the files under a directory (apparent sizes, as `du -sb` counts them). */
export function dirBytes(path: string): number {
  let n = 0;
  if (!existsSync(path)) return 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

export function openVaultApp(dataDir: string, kms: Kms, origin: string): Promise<App> {
  return createApp({
    dataDir, storeConfig: STORE_CONFIG, kms, origin, clock: systemClock, random: systemRandom, logger: createLogger('silent'),
    // The bench's validator corrects results across the whole lab in seconds; this measures backups, not containment.
    sentinelPolicy: { enabled: false },
  });
}

/**
 * The cached vault for this code and size (built now when there is none, or when `reuse` is
 * false), copied into `runDir`. `onBuilt` hears the cache directory as soon as a build starts,
 * so an interrupted build can be removed.
 */
export async function prepareVault(
  o: { root: string; cacheRoot: string; sizeMiB: number; reuse: boolean; runDir: string; log: (s: string) => void; building: (dir: string | null) => void },
): Promise<RunVault> {
  const key = cacheKey(o.root, o.sizeMiB);
  const cacheDir = join(o.cacheRoot, key);
  let source: 'cache' | 'built' = 'cache';
  let meta: VaultMeta | null = null;
  if (o.reuse && existsSync(join(cacheDir, 'meta.json'))) {
    try {
      meta = JSON.parse(readFileSync(join(cacheDir, 'meta.json'), 'utf8')) as VaultMeta;
      if (meta.key !== key) meta = null;
    } catch {
      meta = null;
    }
  }
  if (meta === null) {
    source = 'built';
    // Other builds of other code are stale: a gigabyte each.
    if (existsSync(o.cacheRoot)) {
      const code = key.split('-')[0]!;
      for (const d of readdirSync(o.cacheRoot)) if (!d.startsWith(code)) rmSync(join(o.cacheRoot, d), { recursive: true, force: true });
    }
    rmSync(cacheDir, { recursive: true, force: true });
    const partial = `${cacheDir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    o.building(partial);
    meta = await buildVault(partial, key, o.sizeMiB, o.log);
    renameSync(partial, cacheDir);
    o.building(null);
  } else {
    o.log(`reusing the cached vault ${cacheDir} (${mib(meta.dataBytes)} MiB, ${meta.resources.toLocaleString('en')} resources, built ${meta.builtAt}; --no-reuse builds it again)`);
  }
  const dataDir = join(o.runDir, 'data');
  const keyring = join(o.runDir, 'keyring');
  cpSync(join(cacheDir, 'data'), dataDir, { recursive: true });
  cpSync(join(cacheDir, 'keyring'), keyring, { recursive: true });
  const kms = loadLocalKeyring({ path: join(keyring, 'keyring.json'), dataDir, random: systemRandom });
  return { dataDir, kms, meta, source, cacheDir };
}

const mib = (n: number) => (n / 1048576).toFixed(1);

/** SQLite commits synchronously: without this, a long write loop never lets Ctrl-C's handler run. */
const turnOfTheLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The demo's organisations: a GP practice, a hospital, the screening organisation, then again with a number. */
function organizations(n: number): Organization[] {
  return generateDemo({ random: systemRandom, clock: systemClock, tenants: n, patientsPerTenant: 0 }).organizations;
}

const kindOf = (o: Organization): Kind => (o.type?.[0]?.coding?.[0]?.code ?? 'gp-practice') as Kind;

function episode(prng: Prng, tenant: { id: string; kind: Kind }, bsns: Set<string>, serial: number): Bundle {
  const ctx = { prng, nowMs: Date.now(), requester: `Organization/${tenant.id}`, bsns, serial };
  return tenant.kind === 'screening' ? screeningEpisode(ctx) : stiEpisode(ctx, tenant.kind === 'hospital' ? 0.4 : 0.2);
}

async function buildVault(dir: string, key: string, sizeMiB: number, log: (s: string) => void): Promise<VaultMeta> {
  const started = performance.now();
  const dataDir = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  writeNewConfig(dataDir, { format: 'labkluis-config/1', origin: ORIGIN, store: STORE_CONFIG, createdAt: systemClock.now().toISOString() });
  const kms = createLocalKeyring({ path: join(dir, 'keyring', 'keyring.json'), dataDir, signerName: ORIGIN, random: systemRandom });
  const app = await openVaultApp(dataDir, kms, ORIGIN);
  const target = sizeMiB * 1048576;
  log(`building a ${sizeMiB} MiB demo vault in ${dir} (once per code version; later runs reuse it)`);
  let episodes = 0;
  let resources = 0;
  const tenants: { id: string; kind: Kind }[] = [];
  const bsns = new Map<string, Set<string>>();
  let probe: Database.Database | null = null;
  try {
    // What the backup key's MAC key would be on the first `labkluis backup`: made now, so a run's first backup writes nothing to the store.
    await app.keys.current('*', 'backup-mac');
    const importer = localImporter('backup-bench');
    // Three tenants (GP practice, hospital, screening), three more whenever all have PATIENTS_PER_TENANT patients.
    const addTenants = async () => {
      const orgs = organizations(tenants.length + 3).slice(tenants.length);
      for (const org of orgs) {
        await app.vault.createTenant(importer, FACTS, org, 'client');
        tenants.push({ id: org.id!, kind: kindOf(org) });
        bsns.set(org.id!, new Set());
      }
    };
    await addTenants();
    const prng = Prng.from(systemRandom);
    // The database's size as committed (WAL frames included), from a read-only connection: the
    // -wal file itself keeps its high-water mark and would overstate it.
    probe = new Database(join(dataDir, STORE_CONFIG.kind === 'sqlite' ? STORE_CONFIG.file : ''), { readonly: true, fileMustExist: true });
    const size = () => Number(probe!.pragma('page_count', { simple: true })) * Number(probe!.pragma('page_size', { simple: true }));
    let known = 0;
    let lastLog = performance.now();
    let turn = 0;
    while (known < target) {
      // One slice per tenant in turn, as an import of the lab's clients' files would.
      const open = tenants.filter((t) => bsns.get(t.id)!.size < PATIENTS_PER_TENANT);
      if (open.length === 0) {
        await addTenants();
        continue;
      }
      const t = open[turn++ % open.length]!;
      const set = bsns.get(t.id)!;
      const bundles = Array.from({ length: SLICE }, () => episode(prng, t, set, episodes++));
      resources += bundles.reduce((s, b) => s + (b.entry?.length ?? 0), 0);
      const outcome = await app.vault.transactions(app.vault.context(importer, { tenant: t.id, ...FACTS }), bundles);
      if (outcome.refused) throw outcome.refused.error;
      await turnOfTheLoop();
      if (turn % 8 === 0) known = size();
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`  ${mib(known)} of ${sizeMiB} MiB, ${episodes.toLocaleString('en')} episodes, ${resources.toLocaleString('en')} resources, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    }
    await app.audit.checkpoint();
  } finally {
    probe?.close();
    await app.close();
  }
  const meta: VaultMeta = {
    format: BUILD_FORMAT, key, sizeMiB, origin: ORIGIN, tenants,
    bsns: Object.fromEntries([...bsns].map(([t, s]) => [t, [...s]])),
    serial: episodes, episodes, resources, dataBytes: dirBytes(dataDir),
    buildSeconds: Math.round((performance.now() - started) / 1000), builtAt: new Date().toISOString(),
  };
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta)}\n`);
  log(`built: ${mib(meta.dataBytes)} MiB, ${episodes.toLocaleString('en')} episodes, ${resources.toLocaleString('en')} resources in ${meta.buildSeconds} s`);
  return meta;
}

export interface ChangeResult {
  readonly resources: number;
  readonly transactions: number;
  readonly seconds: number;
}

/**
 * A nightly delta: new episodes, spread over the tenants as the vault's are, until at least
 * `resources` new resources are in (each tenant's slices through vault.transactions, as import).
 */
export async function appendEpisodes(app: App, meta: VaultMeta, resources: number): Promise<ChangeResult> {
  const started = performance.now();
  const importer = localImporter('backup-bench');
  const prng = Prng.from(systemRandom);
  const sets = new Map(meta.tenants.map((t) => [t.id, new Set(meta.bsns[t.id] ?? [])]));
  // Every tenant gets its part of the night's work: slices small enough to go round them all.
  const slice = Math.max(1, Math.min(SLICE, Math.ceil(resources / EPISODE_RESOURCES / meta.tenants.length)));
  let [written, transactions, turn] = [0, 0, 0];
  while (written < resources) {
    const t = meta.tenants[turn++ % meta.tenants.length]!;
    const set = sets.get(t.id)!;
    const bundles: Bundle[] = [];
    let n = 0;
    // A slice, or what is left to write (at least one episode).
    while (bundles.length < slice && (bundles.length === 0 || written + n < resources)) {
      const b = episode(prng, t, set, meta.serial++);
      bundles.push(b);
      n += b.entry?.length ?? 0;
    }
    const outcome = await app.vault.transactions(app.vault.context(importer, { tenant: t.id, ...FACTS }), bundles);
    if (outcome.refused) throw outcome.refused.error;
    await turnOfTheLoop();
    written += n;
    transactions += bundles.length;
  }
  for (const [t, s] of sets) meta.bsns[t] = [...s];
  return { resources: written, transactions, seconds: (performance.now() - started) / 1000 };
}

/**
 * Corrections, as a lab makes them: a validator reopens an authorised report (back to
 * `preliminary`), corrects one of its results (`corrected`), and a second validator (four eyes)
 * authorises it again as `amended`. Reports drawn at random from the whole vault, `reports` of
 * them: two resources each get new versions (three versions in all), and the versions they
 * replace stop being current. Scattered updates, where a nightly delta only appends.
 */
export async function correctResults(app: App, dataDir: string, reports: number): Promise<ChangeResult & { versions: number }> {
  const started = performance.now();
  const deps = { store: app.store, clock: systemClock, random: systemRandom };
  const validator = async (name: string) => principalFromRow(
    await createPrincipal(deps, { role: 'validator', tenants: ['*'], displayName: name, kind: 'service' }), 'backup-bench');
  const [first, second] = [await validator('backup-bench-corrector'), await validator('backup-bench-authoriser')];
  let [resources, versions] = [0, 0];
  for (const p of pickReports(join(dataDir, STORE_CONFIG.kind === 'sqlite' ? STORE_CONFIG.file : ''), reports)) {
    const a = app.vault.context(first, { tenant: p.tenant, ...FACTS });
    const report = await app.vault.read(a, 'DiagnosticReport', p.id) as { result?: { reference?: string }[] };
    const result = report.result?.[0]?.reference?.split('/')[1];
    if (result === undefined) continue;
    await app.vault.update(a, 'DiagnosticReport', p.id, { ...report, status: 'preliminary' });
    const obs = await app.vault.read(a, 'Observation', result);
    await app.vault.update(a, 'Observation', result, { ...obs, status: 'corrected' });
    const b = app.vault.context(second, { tenant: p.tenant, ...FACTS });
    const reopened = await app.vault.read(b, 'DiagnosticReport', p.id);
    await app.vault.update(b, 'DiagnosticReport', p.id, { ...reopened, status: 'amended' });
    resources += 2;
    versions += 3;
  }
  return { resources, versions, transactions: versions, seconds: (performance.now() - started) / 1000 };
}

/** Random current, authorised reports (the harness picks; the vault reads and writes). */
function pickReports(sqliteFile: string, count: number): { tenant: string; id: string }[] {
  const db = new Database(sqliteFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT tenant, id FROM clinical_resources WHERE type = 'DiagnosticReport' AND is_current = 1 AND status = 'final'
      ORDER BY random() LIMIT ?`).all(count) as { tenant: string; id: string }[];
  } finally {
    db.close();
  }
}
