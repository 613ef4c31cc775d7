/**
 * `npm run bench`: the vault benchmark (a benchmark, not a test; it asserts nothing).
 *
 *   1. ingest of transaction Bundles through app.vault.transaction, on SQLite and PostgreSQL,
 *      one demo episode per transaction ("small") and 50 episodes merged ("large");
 *   2. encryption overhead: the same SQLite ingest with the null cipher, interleaved transaction
 *      by transaction (AES, null, null, AES, ...), reported as 8 consecutive rounds;
 *   3. single-report read latency over HTTP with 16 concurrent keep-alive clients;
 *   4. where a target is missed, a CPU profile of that phase folded into cost centres.
 *
 * Writes bench/results/<date>-vault.json and the results block of bench/README.md.
 * Flags: --quick (small counts; writes nothing unless --write, then <date>-vault-quick.json only),
 * --no-write (print only), --no-postgres, --no-profile, --aa (calibration: both vaults on AES),
 * --profile (profile every phase), --no-experiment (skip the group-commit what-if, which runs
 * only when reads under load get about one audit entry per durable append).
 */
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../src/app.js';
import { localImporter } from '../src/auth/index.js';
import type { AccessContext } from '../src/vault/index.js';
import { Cleanup, openBenchApp, postgresAvailable, type BenchApp } from './lib/fixtures.js';
import { createTenants, ingest, ingestGrouped, ingestPaired, Workload, type IngestResult, type ReportIds } from './lib/ingest.js';
import { cipherMicro, type CipherMicro } from './lib/crypto-micro.js';
import { fsyncProbe, machineInfo } from './lib/machine.js';
import { countPgQueries } from './lib/pg-count.js';
import { profiled, summariseProfile, type ProfileSummary } from './lib/profile.js';
import { ReadSession, type ReadPhase } from './lib/read-load.js';
import { renderReadme } from './lib/report.js';
import { writeResultsAndReadme } from './lib/readme-block.js';
import { round } from './lib/stats.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const CONFIG = Object.freeze({
  quick: QUICK,
  resourcesPerConfiguration: QUICK ? 3_000 : 20_000,
  encryptionRounds: QUICK ? 2 : 8,
  warmupResources: QUICK ? 400 : 1_000,
  largeBundleEpisodes: 50,
  groupedSlice: 64,
  readConcurrency: 16,
  readWarmupRequests: QUICK ? 300 : 1_000,
  readRequests: QUICK ? 2_000 : 10_000,
  readSweepConcurrency: [1, 4] as readonly number[],
  readSweepRequests: QUICK ? 300 : 600,
  readOpenLoopRates: [200, 400] as readonly number[],
  readOpenLoopRequests: QUICK ? 400 : 1_500,
  profileIngestResources: QUICK ? 800 : 2_500,
  profileReadRequests: QUICK ? 500 : 1_000,
  experimentChunkRequests: QUICK ? 200 : 500,
  experimentPairs: 3,
  sentinelChunkRequests: QUICK ? 300 : 1_000,
  sentinelPairs: QUICK ? 2 : 4,
  /** Ingest with the sentinel on and off: small bundles per side, in this many interleaved chunks. */
  sentinelIngestResources: QUICK ? 1_000 : 4_000,
  sentinelIngestChunks: 4,
  postgres: !args.has('--no-postgres'),
  profile: args.has('--no-profile') ? 'never' : args.has('--profile') ? 'always' : 'on-miss',
  experiment: !args.has('--no-experiment'),
});

const TARGETS = Object.freeze({ ingestPerSecond: 10_000, readP99Ms: 5, encryptionOverheadPercent: 20 });

const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stdout.write(`${line}\n`);

type Shape = 'small' | 'large';
interface ShapeResult extends IngestResult {
  /** 'grouped': small bundles handed over in slices, as import and demo do (see ingestGrouped). */
  readonly shape: Shape | 'grouped';
  readonly episodesPerTransaction: number;
  readonly resourcesPerTransaction: number;
  /** CPU time of this process per resource: insensitive to other load, blind to fsync waits. */
  readonly cpuMsPerResource: number;
}

export interface EncryptionResult {
  readonly shape: Shape;
  readonly aes: ShapeResult;
  readonly null: ShapeResult;
  /** AES throughput / null throughput, over all rounds. */
  readonly ratio: number;
  /** Extra time per resource with AES: null/AES throughput - 1, in percent. */
  readonly overheadPercent: number;
  /** Median of the per-round overheads: less sensitive to one disturbed round. */
  readonly medianRoundOverheadPercent: number;
  /** The same comparison on this process's CPU time per resource instead of wall time. */
  readonly cpuOverheadPercent: number;
  readonly rounds: readonly {
    readonly order: string; readonly aesPerSecond: number; readonly nullPerSecond: number; readonly overheadPercent: number;
    /** Other processes' load (cores) during the AES and the null part of the round. */
    readonly otherCores: readonly [number, number];
  }[];
}

export interface BenchResults {
  readonly schema: 'labkluis-bench/vault/1';
  readonly machine: ReturnType<typeof machineInfo>;
  readonly config: typeof CONFIG;
  readonly targets: typeof TARGETS;
  postgres: { available: boolean; version?: string; reason?: string };
  ingest: { sqlite?: Record<Shape, ShapeResult>; postgres?: Record<Shape, ShapeResult> };
  /** Small bundles through vault.transactions() in slices, as `labkluis import` and `demo` send them. */
  ingestGrouped: { sqlite?: ShapeResult; postgres?: ShapeResult };
  encryption: EncryptionResult[];
  /** Seal/open alone, AES vs null, per resource; and what share of ingest CPU the difference is. */
  cipherMicro?: CipherMicro & { sealDeltaShareOfIngestCpuPercent: Record<string, number> };
  reads: { sqlite?: ReadPhase; postgres?: ReadPhase };
  /** The same reads at lower concurrency: where the p99 target would hold. */
  readSweep: { backend: string; phase: ReadPhase }[];
  experiments: { label: string; backend: string; phase: ReadPhase }[];
  /** Reads with the sentinel on and off, alternating in one stretch of time (on/off ratios). */
  sentinelCost: { backend: string; on: ReadPhase; off: ReadPhase; throughputRatio: number; p50Ratio: number; p99Ratio: number }[];
  /** Ingest (the bench's: small bundles as the local importer) with the sentinel on and off, interleaved. */
  sentinelIngestCost: { backend: string; onResourcesPerSecond: number; offResourcesPerSecond: number; throughputRatio: number; chunkRatios: number[] }[];
  /** 4 KiB write + fdatasync in the temp dir, taken again before each section: the disk moves too. */
  fsyncProbes: { before: string; p50: number; mean: number }[];
  profiles: ProfileSummary[];
  verdicts: { target: string; measured: string; met: boolean }[];
  /**
   * Per-transaction fixed cost, modelled from the two shapes: small-bundle time per
   * transaction minus its resources at the large-bundle cost per resource.
   */
  perTransaction: { backend: string; fixedMs: number; fixedCpuMs: number; fixedWaitMs: number; shareOfSmallPercent: number }[];
  durationSeconds?: number;
  loadAvgAtEnd?: number[];
  cleanupFailures?: string[];
}

const cleanup = new Cleanup();
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  log('\ninterrupted: cleaning up');
  void cleanup.runAll().finally(() => process.exit(130));
});

async function main(): Promise<void> {
  const started = performance.now();
  log(`labkluis vault benchmark${QUICK ? ' (quick)' : ''}`);
  const machine = machineInfo();
  log(`machine: ${machine.nproc} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, tmp on ${machine.tmpFilesystem}, 4 KiB fdatasync p50 ${machine.fdatasync4kMs.p50} ms, load ${machine.loadAvgAtStart.join(' ')}`);
  const results: BenchResults = {
    schema: 'labkluis-bench/vault/1', machine, config: CONFIG, targets: TARGETS,
    postgres: { available: false }, ingest: {}, ingestGrouped: {}, encryption: [], reads: {}, readSweep: [], experiments: [], sentinelCost: [], sentinelIngestCost: [], fsyncProbes: [], perTransaction: [], profiles: [], verdicts: [],
  };
  try {
    await sqliteSection(results);
    if (CONFIG.postgres) {
      const pg = await postgresAvailable();
      results.postgres = pg.ok ? { available: true, version: pg.version } : { available: false, reason: pg.reason };
      if (pg.ok) await postgresSection(results);
      else log(`PostgreSQL skipped: ${pg.reason}`);
    } else {
      results.postgres = { available: false, reason: 'skipped (--no-postgres)' };
    }
  } finally {
    const failures = await cleanup.runAll();
    if (failures.length > 0) log(`cleanup failures: ${failures.join('; ')}`);
    results.cleanupFailures = failures;
  }
  results.verdicts = verdicts(results);
  results.perTransaction = perTransactionModel(results);
  results.durationSeconds = round((performance.now() - started) / 1000, 1);
  results.loadAvgAtEnd = loadavg().map((l) => round(l, 2));
  log('');
  for (const v of results.verdicts) log(`${v.met ? 'met   ' : 'MISSED'}  ${v.target}: ${v.measured}`);
  log(`done in ${results.durationSeconds} s`);
  if ((!QUICK || args.has('--write')) && !args.has('--no-write')) writeResults(results);
}

/** SQLite: AES and null-cipher vaults side by side, ingest in interleaved rounds, then reads. */
async function sqliteSection(results: BenchResults): Promise<void> {
  log('\n== SQLite ==');
  const perConfig = CONFIG.resourcesPerConfiguration;
  const reserve = CONFIG.profileIngestResources * 2 + CONFIG.warmupResources * 2 + 2_000;
  const apps = {} as Record<'aes' | 'null', { bench: BenchApp; workload: Workload; contexts: Map<string, AccessContext> }>;
  for (const cipher of ['aes', 'null'] as const) {
    // --aa: calibration run, both vaults on AES; the "overhead" then shows the noise floor.
    const real = cipher === 'aes' || args.has('--aa') ? 'aes-256-gcm' : 'null';
    const bench = await openBenchApp(cleanup, 'sqlite', real, `sqlite-${cipher}`);
    const workload = Workload.generate(perConfig * 3 + reserve + CONFIG.sentinelIngestResources * 2);
    const contexts = await createTenants(bench.app, workload);
    apps[cipher] = { bench, workload, contexts };
  }
  const reports: ReportIds = new Map();
  probe(results, 'sqlite ingest');
  for (const cipher of ['aes', 'null'] as const) {
    const { bench, workload, contexts } = apps[cipher];
    await ingest(bench.app, contexts, workload.small(CONFIG.warmupResources), cipher === 'aes' ? reports : undefined);
    await ingest(bench.app, contexts, workload.large(CONFIG.warmupResources, CONFIG.largeBundleEpisodes), cipher === 'aes' ? reports : undefined);
  }
  log(`warm-up done (${CONFIG.warmupResources} resources small + large per vault)`);

  const sqlite = {} as Record<Shape, ShapeResult>;
  for (const shape of ['small', 'large'] as const) {
    const enc = await interleavedRounds(shape, apps, reports);
    results.encryption.push(enc);
    sqlite[shape] = enc.aes;
    log(`sqlite ${shape}: AES ${fmt(enc.aes.resourcesPerSecond)} res/s, null ${fmt(enc.null.resourcesPerSecond)} res/s, AES/null ${enc.ratio}, overhead ${enc.overheadPercent}% (per round: ${enc.rounds.map((x) => `${x.overheadPercent}%`).join(', ')}; median ${enc.medianRoundOverheadPercent}%), on CPU time ${enc.cpuOverheadPercent}%; other load ${enc.aes.cpu.otherCores} cores`);
  }
  results.ingest.sqlite = sqlite;
  await apps.null.bench.close();
  await sentinelIngestCost(results, 'sqlite', apps.aes.bench, apps.aes.workload, apps.aes.contexts, reports);
  {
    const { bench, workload, contexts } = apps.aes;
    const grouped = shapeResult('grouped', await ingestGrouped(bench.app, contexts, workload.small(perConfig), CONFIG.groupedSlice, reports));
    results.ingestGrouped.sqlite = grouped;
    log(`sqlite grouped (small bundles via vault.transactions, ${CONFIG.groupedSlice} per call, as import/demo): ${fmt(grouped.resourcesPerSecond)} res/s, CPU ${grouped.cpuMsPerResource} ms/resource; other load ${grouped.cpu.otherCores} cores`);
  }
  const micro = cipherMicro();
  const delta = micro.sealUs.aes - micro.sealUs.null;
  results.cipherMicro = {
    ...micro,
    sealDeltaShareOfIngestCpuPercent: {
      small: round((delta / (sqlite.small.cpuMsPerResource * 1000)) * 100, 2),
      large: round((delta / (sqlite.large.cpuMsPerResource * 1000)) * 100, 2),
    },
  };
  log(`cipher alone (${micro.resources} demo resources, ${micro.meanPlaintextBytes} B mean): seal AES ${micro.sealUs.aes} µs vs null ${micro.sealUs.null} µs, open AES ${micro.openUs.aes} µs vs null ${micro.openUs.null} µs; `
    + `the seal difference is ${results.cipherMicro.sealDeltaShareOfIngestCpuPercent.small}% / ${results.cipherMicro.sealDeltaShareOfIngestCpuPercent.large}% of ingest CPU per resource (small / large)`);

  const aes = apps.aes;
  results.reads.sqlite = await readSection(results, 'sqlite', aes.bench, reports);
  await ingestProfiles(results, 'sqlite', aes.bench.app, aes.workload, aes.contexts, sqlite);
  await aes.bench.close();
}

/** PostgreSQL: one AES vault on a fresh database; small then large, then reads. */
async function postgresSection(results: BenchResults): Promise<void> {
  log('\n== PostgreSQL ==');
  countPgQueries();
  const perConfig = CONFIG.resourcesPerConfiguration;
  const bench = await openBenchApp(cleanup, 'postgres', 'aes-256-gcm', 'postgres-aes');
  const workload = Workload.generate(perConfig * 3 + CONFIG.profileIngestResources * 2 + CONFIG.warmupResources * 2 + 2_000 + CONFIG.sentinelIngestResources * 2);
  const contexts = await createTenants(bench.app, workload);
  const reports: ReportIds = new Map();
  probe(results, 'postgres ingest');
  await ingest(bench.app, contexts, workload.small(CONFIG.warmupResources), reports);
  await ingest(bench.app, contexts, workload.large(CONFIG.warmupResources, CONFIG.largeBundleEpisodes), reports);
  const pg = {} as Record<Shape, ShapeResult>;
  for (const shape of ['small', 'large'] as const) {
    const items = shape === 'small' ? workload.small(perConfig) : workload.large(perConfig, CONFIG.largeBundleEpisodes);
    pg[shape] = shapeResult(shape, await ingest(bench.app, contexts, items, reports));
    log(`postgres ${shape}: ${fmt(pg[shape].resourcesPerSecond)} res/s (${pg[shape].transactions} transactions, ${pg[shape].seconds.toFixed(1)} s; other processes incl. the PostgreSQL server ${pg[shape].cpu.otherCores} cores; ${pg[shape].pgRoundTripsPerTransaction} round trips per transaction)`);
  }
  results.ingest.postgres = pg;
  const grouped = shapeResult('grouped', await ingestGrouped(bench.app, contexts, workload.small(perConfig), CONFIG.groupedSlice, reports));
  results.ingestGrouped.postgres = grouped;
  await sentinelIngestCost(results, 'postgres', bench, workload, contexts, reports);
  log(`postgres grouped (small bundles via vault.transactions, ${CONFIG.groupedSlice} per call): ${fmt(grouped.resourcesPerSecond)} res/s (${grouped.pgRoundTripsPerTransaction} round trips per bundle)`);
  results.reads.postgres = await readSection(results, 'postgres', bench, reports);
  await ingestProfiles(results, 'postgres', bench.app, workload, contexts, pg);
  await bench.close();
}

async function interleavedRounds(
  shape: Shape,
  apps: Record<'aes' | 'null', { bench: BenchApp; workload: Workload; contexts: Map<string, AccessContext> }>,
  reports: ReportIds,
): Promise<EncryptionResult> {
  const n = CONFIG.resourcesPerConfiguration;
  const take = (w: Workload) => (shape === 'small' ? w.small(n) : w.large(n, CONFIG.largeBundleEpisodes));
  const chunks = await ingestPaired(
    { app: apps.aes.bench.app, contexts: apps.aes.contexts, items: take(apps.aes.workload), reports },
    { app: apps.null.bench.app, contexts: apps.null.contexts, items: take(apps.null.workload) },
    CONFIG.encryptionRounds,
  );
  const totals = { aes: emptyTotals(), null: emptyTotals() };
  const rounds: EncryptionResult['rounds'][number][] = [];
  for (const c of chunks) {
    add(totals.aes, c.a);
    add(totals.null, c.b);
    rounds.push({
      order: 'alternating per transaction',
      aesPerSecond: round(c.a.resourcesPerSecond, 0), nullPerSecond: round(c.b.resourcesPerSecond, 0),
      overheadPercent: round((c.b.resourcesPerSecond / c.a.resourcesPerSecond - 1) * 100, 1),
      otherCores: [c.otherCores, c.otherCores],
    });
  }
  const aes = shapeResult(shape, finish(totals.aes));
  const nul = shapeResult(shape, finish(totals.null));
  return {
    shape, aes, null: nul,
    ratio: round(aes.resourcesPerSecond / nul.resourcesPerSecond, 3),
    overheadPercent: round((nul.resourcesPerSecond / aes.resourcesPerSecond - 1) * 100, 1),
    medianRoundOverheadPercent: median(rounds.map((x) => x.overheadPercent)),
    cpuOverheadPercent: round((aes.cpuMsPerResource / nul.cpuMsPerResource - 1) * 100, 1),
    rounds,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return round(s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, 1);
}

interface Totals { resources: number; transactions: number; seconds: number; own: number; other: number; steal: number }
function emptyTotals(): Totals {
  return { resources: 0, transactions: 0, seconds: 0, own: 0, other: 0, steal: 0 };
}
function add(t: Totals, r: IngestResult): void {
  t.resources += r.resources;
  t.transactions += r.transactions;
  t.seconds += r.seconds;
  t.own += r.cpu.ownCpuSeconds;
  t.other += r.cpu.otherCores * r.seconds;
  t.steal += r.cpu.stealCores * r.seconds;
}
function finish(t: Totals): IngestResult {
  return {
    resources: t.resources, transactions: t.transactions, seconds: t.seconds, resourcesPerSecond: t.resources / t.seconds,
    cpu: { ownCpuSeconds: round(t.own, 3), otherCores: round(t.other / t.seconds, 2), stealCores: round(t.steal / t.seconds, 2) },
  };
}
function shapeResult(shape: Shape | 'grouped', r: IngestResult): ShapeResult {
  return {
    shape,
    episodesPerTransaction: shape === 'large' ? CONFIG.largeBundleEpisodes : 1,
    resources: r.resources,
    transactions: r.transactions,
    seconds: round(r.seconds, 3),
    resourcesPerSecond: round(r.resourcesPerSecond, 0),
    resourcesPerTransaction: round(r.resources / r.transactions, 1),
    cpuMsPerResource: round((r.cpu.ownCpuSeconds * 1000) / r.resources, 4),
    cpu: r.cpu,
    ...(r.pgRoundTripsPerTransaction !== undefined ? { pgRoundTripsPerTransaction: r.pgRoundTripsPerTransaction } : {}),
  };
}

/** Reads over HTTP from the tenant with the most final reports; then a profile and the what-if, when due. */
async function readSection(results: BenchResults, backend: 'sqlite' | 'postgres', bench: BenchApp, reports: ReportIds): Promise<ReadPhase> {
  const app = bench.app;
  const [tenant, ids] = [...reports].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
  if (!tenant || !ids) throw new Error('no final reports were ingested');
  probe(results, `${backend} reads`);
  const session = await ReadSession.start(app, tenant, ids, CONFIG.readConcurrency);
  try {
    await session.run(CONFIG.readWarmupRequests);
    const phase = await session.run(CONFIG.readRequests);
    log(`${backend} reads (${ids.length} final reports of one tenant, ${CONFIG.readConcurrency} clients): ${fmt(phase.requestsPerSecond)} req/s, p50 ${phase.latencyMs.p50} ms, p90 ${phase.latencyMs.p90} ms, p99 ${phase.latencyMs.p99} ms, max ${phase.latencyMs.max} ms; ${phase.auditAppends.entriesPerAppend} audit entries per durable append${phase.pgRoundTripsPerRequest !== undefined ? `; ${phase.pgRoundTripsPerRequest} PostgreSQL round trips per request` : ''}; statuses ${JSON.stringify(phase.statuses)}`);
    await sentinelCost(results, backend, bench, session, tenant, ids);
    for (const c of CONFIG.readSweepConcurrency) {
      const p = await session.run(CONFIG.readSweepRequests, c);
      results.readSweep.push({ backend, phase: p });
      log(`${backend} reads, ${c} client${c === 1 ? '' : 's'}: ${fmt(p.requestsPerSecond)} req/s, p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms`);
    }
    for (const rate of CONFIG.readOpenLoopRates) {
      const p = await session.runOpen(CONFIG.readOpenLoopRequests, rate);
      results.readSweep.push({ backend, phase: p });
      log(`${backend} reads, open loop at ${rate} req/s: achieved ${fmt(p.requestsPerSecond)} req/s, p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms`);
    }
    if (due(phase.latencyMs.p99 > TARGETS.readP99Ms)) {
      const { result, profile, wallMs } = await profiled(() => session.run(CONFIG.profileReadRequests));
      results.profiles.push(summariseProfile(profile, `${backend} reads over HTTP (server thread)`, wallMs, result.requests, 'request'));
      log(`profiled ${backend} reads (${result.requests} requests)`);
    }
    // Only when group commit is not grouping (about one entry per durable append under load).
    if (CONFIG.experiment && phase.latencyMs.p99 > TARGETS.readP99Ms && phase.auditAppends.entriesPerAppend < 1.5) {
      const ab = await session.alternate(CONFIG.experimentChunkRequests, CONFIG.experimentPairs);
      for (const [mode, p] of Object.entries(ab)) {
        const label = mode === 'as-is' ? 'what-if baseline: as is, in alternation with the row below' : 'what-if: yield one macrotask before each durable audit append (bench-only wrapper)';
        results.experiments.push({ label, backend, phase: p });
        log(`${backend} ${mode}: ${fmt(p.requestsPerSecond)} req/s, p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms; ${p.auditAppends.entriesPerAppend} entries per append`);
      }
    }
    return phase;
  } finally {
    await session.close();
  }
}

/**
 * The sentinel's cost on reads: the same store served by a second app with the sentinel off,
 * both read in alternating chunks (ABBA) in one stretch of time, so the ratio is measured in
 * one run on one machine's noise.
 */
async function sentinelCost(results: BenchResults, backend: 'sqlite' | 'postgres', bench: BenchApp, on: ReadSession, tenant: string, ids: readonly string[]): Promise<void> {
  const offApp = await bench.withoutSentinel();
  const off = await ReadSession.start(offApp, tenant, ids, CONFIG.readConcurrency);
  try {
    await off.run(CONFIG.readWarmupRequests);
    const ab = await ReadSession.alternateSessions(on, off, CONFIG.sentinelChunkRequests, CONFIG.sentinelPairs);
    const cost = {
      backend, on: ab.a, off: ab.b,
      throughputRatio: round(ab.a.requestsPerSecond / ab.b.requestsPerSecond, 3),
      p50Ratio: round(ab.a.latencyMs.p50 / ab.b.latencyMs.p50, 3),
      p99Ratio: round(ab.a.latencyMs.p99 / ab.b.latencyMs.p99, 3),
    };
    results.sentinelCost.push(cost);
    log(`${backend} sentinel on/off (alternating chunks of ${CONFIG.sentinelChunkRequests}, ${CONFIG.sentinelPairs} pairs): on ${fmt(ab.a.requestsPerSecond)} req/s p50 ${ab.a.latencyMs.p50} ms p99 ${ab.a.latencyMs.p99} ms; `
      + `off ${fmt(ab.b.requestsPerSecond)} req/s p50 ${ab.b.latencyMs.p50} ms p99 ${ab.b.latencyMs.p99} ms; throughput on/off ${cost.throughputRatio}, p50 ${cost.p50Ratio}, p99 ${cost.p99Ratio}`
      + `${ab.a.pgRoundTripsPerRequest !== undefined ? `; round trips per read ${ab.a.pgRoundTripsPerRequest} vs ${ab.b.pgRoundTripsPerRequest}` : ''}`);
  } finally {
    await off.close();
  }
}

/**
 * The sentinel's cost on the bench's ingest: the same small bundles, one by one, alternating
 * between the app with the sentinel on and a second app on the same store with it off (in
 * chunks, each pair in turn order ABBA), so the ratio comes from one stretch of time. The
 * bench's ingest is the local importer's (as `labkluis import` and `demo`), which the sentinel
 * does not watch; a write through the API passes admit(), which makes no store call.
 */
async function sentinelIngestCost(
  results: BenchResults, backend: 'sqlite' | 'postgres', bench: BenchApp, workload: Workload, contexts: Map<string, AccessContext>, reports: ReportIds,
): Promise<void> {
  const offApp = await bench.withoutSentinel();
  const importer = localImporter('bench');
  const offContexts = new Map([...contexts.keys()].map((t) => [t, offApp.vault.context(importer, { tenant: t, ip: 'local', userAgent: 'labkluis-bench' })]));
  const n = CONFIG.sentinelIngestResources;
  const chunks = await ingestPaired(
    { app: bench.app, contexts, items: workload.small(n), reports },
    { app: offApp, contexts: offContexts, items: workload.small(n) },
    CONFIG.sentinelIngestChunks,
  );
  const rate = (side: 'a' | 'b') => {
    const resources = chunks.reduce((s, c) => s + c[side].resources, 0);
    return resources / chunks.reduce((s, c) => s + c[side].seconds, 0);
  };
  const cost = {
    backend, onResourcesPerSecond: round(rate('a'), 0), offResourcesPerSecond: round(rate('b'), 0), throughputRatio: round(rate('a') / rate('b'), 3),
    chunkRatios: chunks.map((c) => round(c.a.resourcesPerSecond / c.b.resourcesPerSecond, 3)),
  };
  results.sentinelIngestCost.push(cost);
  log(`${backend} ingest, sentinel on/off (${n} resources each side, ${chunks.length} interleaved chunks): on ${fmt(cost.onResourcesPerSecond)} res/s, off ${fmt(cost.offResourcesPerSecond)} res/s, on/off ${cost.throughputRatio} (per chunk ${cost.chunkRatios.join(', ')})`);
}

async function ingestProfiles(
  results: BenchResults, backend: 'sqlite' | 'postgres', app: App, workload: Workload,
  contexts: Map<string, AccessContext>, measured: Record<Shape, ShapeResult>,
): Promise<void> {
  for (const shape of ['small', 'large'] as const) {
    // The ingest target is set for SQLite; PostgreSQL is profiled alongside when it misses too.
    if (!due(measured[shape].resourcesPerSecond < TARGETS.ingestPerSecond)) continue;
    const items = shape === 'small' ? workload.small(CONFIG.profileIngestResources) : workload.large(CONFIG.profileIngestResources, CONFIG.largeBundleEpisodes);
    const { result, profile, wallMs } = await profiled(() => ingest(app, contexts, items));
    results.profiles.push(summariseProfile(profile, `${backend} ingest, ${shape} bundles (AES)`, wallMs, result.resources, 'resource'));
    log(`profiled ${backend} ingest ${shape} (${result.resources} resources, ${fmt(result.resourcesPerSecond)} res/s under the profiler)`);
  }
}

function probe(results: BenchResults, before: string): void {
  const p = fsyncProbe();
  results.fsyncProbes.push({ before, ...p });
  log(`[${before}] 4 KiB fdatasync p50 ${p.p50} ms, mean ${p.mean} ms; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

function due(missed: boolean): boolean {
  return CONFIG.profile === 'always' || (CONFIG.profile === 'on-miss' && missed);
}

function perTransactionModel(r: BenchResults): BenchResults['perTransaction'] {
  const out: BenchResults['perTransaction'] = [];
  for (const backend of ['sqlite', 'postgres'] as const) {
    const x = r.ingest[backend];
    if (!x) continue;
    const smallTxMs = (x.small.seconds * 1000) / x.small.transactions;
    const smallTxCpuMs = (x.small.cpu.ownCpuSeconds * 1000) / x.small.transactions;
    const perResMs = (x.large.seconds * 1000) / x.large.resources;
    const fixedMs = smallTxMs - x.small.resourcesPerTransaction * perResMs;
    const fixedCpuMs = smallTxCpuMs - x.small.resourcesPerTransaction * x.large.cpuMsPerResource;
    out.push({
      backend, fixedMs: round(fixedMs, 2), fixedCpuMs: round(fixedCpuMs, 2), fixedWaitMs: round(fixedMs - fixedCpuMs, 2),
      shareOfSmallPercent: round((fixedMs / smallTxMs) * 100, 0),
    });
  }
  return out;
}

function verdicts(r: BenchResults): BenchResults['verdicts'] {
  const out: BenchResults['verdicts'] = [];
  for (const c of r.sentinelCost) {
    out.push({
      target: `the sentinel adds ≤ 10% to read latency (${c.backend}, p50 on/off in one run)`,
      measured: `p50 ×${c.p50Ratio}, p99 ×${c.p99Ratio}, throughput ×${c.throughputRatio}`,
      met: c.p50Ratio <= 1.1,
    });
  }
  for (const c of r.sentinelIngestCost) {
    out.push({
      target: `the sentinel takes ≤ 10% off ingest throughput (${c.backend}, on/off in one run)`,
      measured: `throughput ×${c.throughputRatio} (${fmt(c.onResourcesPerSecond)} vs ${fmt(c.offResourcesPerSecond)} resources/s)`,
      met: c.throughputRatio >= 0.9,
    });
  }
  for (const shape of ['small', 'large'] as const) {
    const s = r.ingest.sqlite?.[shape];
    if (s) out.push({ target: `SQLite ingest ≥ ${fmt(TARGETS.ingestPerSecond)} resources/s (${shape} bundles)`, measured: `${fmt(s.resourcesPerSecond)} resources/s`, met: s.resourcesPerSecond >= TARGETS.ingestPerSecond });
  }
  const g = r.ingestGrouped.sqlite;
  if (g) out.push({ target: `SQLite ingest ≥ ${fmt(TARGETS.ingestPerSecond)} resources/s (small bundles grouped, as import/demo send them)`, measured: `${fmt(g.resourcesPerSecond)} resources/s`, met: g.resourcesPerSecond >= TARGETS.ingestPerSecond });
  for (const backend of ['sqlite', 'postgres'] as const) {
    const p = r.reads[backend];
    if (p) out.push({ target: `read p99 ≤ ${TARGETS.readP99Ms} ms (${backend}, ${p.concurrency} clients)`, measured: `p99 ${p.latencyMs.p99} ms`, met: p.latencyMs.p99 <= TARGETS.readP99Ms });
  }
  for (const e of r.encryption) {
    out.push({ target: `encryption overhead ≤ ${TARGETS.encryptionOverheadPercent}% (SQLite, ${e.shape} bundles)`, measured: `${e.overheadPercent}% (AES/null throughput ${e.ratio}; on CPU time ${e.cpuOverheadPercent}%)`, met: e.overheadPercent <= TARGETS.encryptionOverheadPercent });
  }
  return out;
}

function writeResults(results: BenchResults): void {
  // Quick runs leave README.md alone.
  const render = QUICK ? undefined : (readme: string, resultsFile: string) => renderReadme(readme, results, resultsFile);
  const { file, readmePath } = writeResultsAndReadme(here, `${results.machine.date.slice(0, 10)}-vault${QUICK ? '-quick' : ''}.json`, results, render);
  log(readmePath === null ? `wrote ${file} (quick runs leave README.md alone)` : `wrote ${file} and the results block of ${readmePath}`);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

main().catch(async (e: unknown) => {
  if (interrupted) return;
  process.stderr.write(`benchmark failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  const failures = await cleanup.runAll();
  if (failures.length > 0) process.stderr.write(`cleanup failures: ${failures.join('; ')}\n`);
  process.exit(1);
});
