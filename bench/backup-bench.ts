/**
 * `npm run bench:backup` (issue 5, deliverable 8): labkluis's backups beside restic, on one
 * demo vault of at least 1 GiB (SQLite), in one run. A benchmark, not a test: it asserts
 * nothing and exits 0 unless something breaks; the targets are checked and reported.
 *
 *   1. the demo vault (bench/backup/vault.ts): built once through createApp and cached under
 *      /tmp/labkluis-bench-backup-vault/ (keyed by the code that decides its bytes), copied
 *      into the run's temp dir;
 *   2. full backups, labkluis to a fresh dir: target and restic to a fresh repository, of the
 *      same quiescent data directory, in alternating order over --rounds rounds (best of each);
 *   3. a nightly delta (new episodes, ~1% of the vault's resources), then an incremental
 *      backup by each; then corrections (~0.1% of the results get a new version), and again;
 *   4. verify with every object read (restic check --read-data beside it);
 *   5. restore of the newest snapshot into an empty SQLite store (and PostgreSQL when it
 *      answers), restic restore beside it;
 *   6. when our full backup is slower than restic's, a CPU profile of one more full backup.
 *
 * Flags: --size-mib <n> (1024), --quick (48 MiB, one round, writes nothing), --no-reuse (build
 * the vault again), --rounds <n> (3), --no-restic, --no-install (never apt-get restic),
 * --no-postgres, --no-corrections, --profile / --no-profile, --no-write, --cache-dir <path>.
 * Writes bench/results/<date>-backup.json and the block between the backup-bench markers in
 * bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { openStore } from '../src/app.js';
import type { Manifest } from '../src/backup/index.js';
import type { Store } from '../src/store/index.js';
import { Cleanup, createBenchDatabase, postgresAvailable } from './lib/fixtures.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { profiled, summariseProfile, type ProfileSummary } from './lib/profile.js';
import { round } from './lib/stats.js';
import { BACKUP_RULES } from './backup/profile-rules.js';
import { backupKeyOf, chunksPerTable, newestManifest, ourBackup, ourRestore, ourVerify, timer, type OurBackup, type OurRestore, type OurVerify, type TableChunks, type Timed } from './backup/ours.js';
import { renderBackupSection } from './backup/report.js';
import { writeResultsAndReadme } from './lib/readme-block.js';
import { CLK_TCK, ensureRestic, Restic, type ResticBackup, type ResticInfo } from './backup/restic.js';
import { appendEpisodes, correctResults, dirBytes, openVaultApp, prepareVault, STORE_CONFIG, type ChangeResult } from './backup/vault.js';
import { DirTarget } from '../src/backup/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Options {
  sizeMiB: number;
  quick: boolean;
  reuse: boolean;
  rounds: number;
  restic: boolean;
  install: boolean;
  postgres: boolean;
  corrections: boolean;
  profile: 'always' | 'never' | 'on-miss';
  write: boolean;
  cacheDir: string;
  /** Share of the vault's resources the nightly delta adds, and the corrections change. */
  deltaShare: number;
  correctionShare: number;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    sizeMiB: 1024, quick: false, reuse: true, rounds: 3, restic: true, install: true, postgres: true, corrections: true,
    profile: 'on-miss', write: true, cacheDir: join(tmpdir(), 'labkluis-bench-backup-vault'), deltaShare: 0.01, correctionShare: 0.001,
  };
  let size: number | null = null;
  let rounds: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (min: number, max: number) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${a} takes a whole number from ${min} to ${max}`);
      return v;
    };
    if (a === '--size-mib') size = num(4, 65_536);
    else if (a === '--quick') o.quick = true;
    else if (a === '--reuse') o.reuse = true;
    else if (a === '--no-reuse') o.reuse = false;
    else if (a === '--rounds') rounds = num(1, 5);
    else if (a === '--no-restic') o.restic = false;
    else if (a === '--no-install') o.install = false;
    else if (a === '--no-postgres') o.postgres = false;
    else if (a === '--no-corrections') o.corrections = false;
    else if (a === '--profile') o.profile = 'always';
    else if (a === '--no-profile') o.profile = 'never';
    else if (a === '--no-write') o.write = false;
    else if (a === '--cache-dir') o.cacheDir = String(argv[++i] ?? '');
    else throw new Error(`unknown option ${a} (see the comment at the top of bench/backup-bench.ts)`);
  }
  if (o.quick) {
    o.sizeMiB = 48;
    o.rounds = 1;
    o.write = false;
  }
  if (size !== null) o.sizeMiB = size;
  if (rounds !== null) o.rounds = rounds;
  if (o.cacheDir === '') throw new Error('--cache-dir takes a path');
  return o;
}

/** One full backup round: each tool once, to a fresh target / repository. */
export interface FullRound {
  readonly round: number;
  readonly order: string;
  readonly ours: OurBackup;
  readonly restic?: ResticBackup;
  /** Other processes' CPU (cores) over the round: the machine is shared. */
  readonly otherCores: number;
}

export interface Incremental {
  readonly label: string;
  readonly change: ChangeResult & { share: number };
  readonly ours: OurBackup & { percentOfFull: number };
  readonly restic?: ResticBackup & { percentOfFull: number };
  readonly tables: readonly TableChunks[];
}

export interface BackupResults {
  readonly schema: 'labkluis-bench/backup/1';
  readonly machine: MachineInfo;
  readonly options: Options;
  readonly targets: { readonly fullThroughputVsRestic: number; readonly incrementalPercentOfFull: number; readonly restoreSecondsPerGiB: number };
  vault?: {
    readonly source: 'cache' | 'built';
    readonly cacheDir: string;
    readonly sizeMiB: number;
    readonly dataBytes: number;
    readonly episodes: number;
    readonly resources: number;
    readonly tenants: number;
    readonly buildSeconds: number;
    readonly counts: Readonly<Record<string, number>>;
  };
  restic: ResticInfo & { repository?: string };
  postgres: { available: boolean; version?: string; reason?: string };
  full: FullRound[];
  /** Best (shortest) of the rounds per tool; throughput is the data directory's size over the wall time. */
  best?: {
    readonly ours: OurBackup & { mibPerSecond: number; snapshotMibPerSecond: number };
    readonly restic?: ResticBackup & { mibPerSecond: number };
    /** Ours / restic throughput (restic's wall time / ours). */
    readonly ratio?: number;
  };
  incrementals: Incremental[];
  verify?: {
    readonly ours: OurVerify & { mibPerSecond: number };
    readonly restic?: Timed & { repoBytes: number; mibPerSecond: number };
  };
  restore: {
    sqlite?: OurRestore & { totalSeconds: number; mibPerSecond: number; secondsPerGiB: number; restoredBytes: number };
    postgres?: OurRestore & { totalSeconds: number; mibPerSecond: number; secondsPerGiB: number };
    restic?: Timed & { restoredBytes: number; mibPerSecond: number };
  };
  /** CPU profiles (main thread) of one more full backup and one more restore, when they miss their targets (or --profile). */
  profiles: ProfileSummary[];
  verdicts: { target: string; measured: string; met: boolean | null }[];
  notes: string[];
  durationSeconds?: number;
  loadAvgAtEnd?: number[];
  cleanupFailures?: string[];
}

const TARGETS = Object.freeze({ fullThroughputVsRestic: 1, incrementalPercentOfFull: 5, restoreSecondsPerGiB: 120 });
const GiB = 2 ** 30;
const MiB = 2 ** 20;

const cleanup = new Cleanup();
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  log('\ninterrupted: cleaning up');
  void cleanup.runAll().finally(() => process.exit(130));
});

/**
 * Before each timed backup: what the last step wrote (the vault's copy, the other tool's
 * repository) is flushed to disk first, so neither tool's time includes the kernel writing
 * back the other's gigabyte while it fsyncs its own.
 */
function settle(): void {
  execFileSync('sync');
}

/** Other processes' CPU, in cores, over a stretch (from /proc/stat; 0 where there is none), less this process's and the CPU seconds of its children given. */
function otherLoad(): (childCpuSeconds: number) => number {
  const read = () => {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
      return (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0);
    } catch {
      return 0;
    }
  };
  const [t0, b0, c0] = [performance.now(), read(), process.cpuUsage()];
  return (children) => {
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const own = (c.user + c.system) / 1e6;
    return round(Math.max(0, (read() - b0) / CLK_TCK - own - children) / Math.max(wall, 1e-9), 2);
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = performance.now();
  log(`labkluis backup benchmark: ${o.sizeMiB} MiB vault${o.quick ? ' (quick: writes nothing)' : ''}`);
  const machine = machineInfo();
  log(`machine: ${machine.nproc} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, tmp on ${machine.tmpFilesystem}, 4 KiB fdatasync p50 ${machine.fdatasync4kMs.p50} ms, load ${machine.loadAvgAtStart.join(' ')}, code ${machine.source.commit}`);
  const restic: BackupResults['restic'] = o.restic ? ensureRestic(log, o.install) : { available: false, note: 'skipped (--no-restic)' };
  if (restic.available) log(`restic: ${restic.version}`);
  const r: BackupResults = {
    schema: 'labkluis-bench/backup/1', machine, options: o, targets: TARGETS, restic, postgres: { available: false },
    full: [], incrementals: [], restore: {}, profiles: [], verdicts: [], notes: [],
  };
  try {
    await run(o, r);
  } finally {
    const failures = await cleanup.runAll();
    if (failures.length > 0) log(`cleanup failures: ${failures.join('; ')}`);
    r.cleanupFailures = failures;
  }
  r.verdicts = verdicts(r);
  r.durationSeconds = round((performance.now() - started) / 1000, 1);
  r.loadAvgAtEnd = loadavg().map((l) => round(l, 2));
  log('');
  log(summaryTable(r));
  log('');
  for (const v of r.verdicts) log(`${v.met === null ? 'n/a   ' : v.met ? 'met   ' : 'MISSED'}  ${v.target}: ${v.measured}`);
  log(`done in ${r.durationSeconds} s`);
  if (o.write) writeResults(r);
}

async function run(o: Options, r: BackupResults): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'labkluis-backup-bench-'));
  cleanup.add(`remove ${runDir}`, () => rmSync(runDir, { recursive: true, force: true }));
  let building: string | null = null;
  cleanup.add('remove a half-built vault', () => {
    if (building !== null) rmSync(building, { recursive: true, force: true });
  });
  const vault = await prepareVault({ root, cacheRoot: o.cacheDir, sizeMiB: o.sizeMiB, reuse: o.reuse, runDir, log, building: (d) => (building = d) });
  const { dataDir, kms, meta } = vault;
  const open = () => openVaultApp(dataDir, kms, meta.origin);
  // Opened once before anything is measured: migrations of newer code run now, not inside a timed backup.
  await (await open()).close();
  const dataBytes = dirBytes(dataDir);
  const identity = await generateX25519Identity();
  const recipients = [await identityToRecipient(identity)];
  const key = backupKeyOf(kms);
  log(`vault: ${mib(dataBytes)} MiB data directory (${vault.source === 'cache' ? 'from the cache' : 'built now'}), ${meta.resources.toLocaleString('en')} resources`);

  // Ours: open the app, back up (timed inside), close, so the data directory is quiescent for restic.
  const ours = async (targetDir: string) => {
    const app = await open();
    try {
      return await ourBackup(app, kms, targetDir, recipients);
    } finally {
      await app.close();
    }
  };
  const resticAt = (name: string) => new Restic(join(runDir, name), join(runDir, 'restic-cache'));
  const restic = r.restic;

  // 2. Full backups, alternating which goes first.
  const chain = { target: join(runDir, 'target-1'), restic: resticAt('restic-1') };
  let fullManifest: Manifest | null = null;
  for (let round_ = 1; round_ <= o.rounds; round_++) {
    const resticFirst = round_ % 2 === 1;
    const target = round_ === 1 ? chain.target : join(runDir, `target-${round_}`);
    const repo = round_ === 1 ? chain.restic : resticAt(`restic-${round_}`);
    const load = otherLoad();
    let mine: OurBackup | null = null;
    let theirs: ResticBackup | undefined;
    for (const who of resticFirst ? ['restic', 'ours'] : ['ours', 'restic']) {
      if (who === 'restic' && restic.available) {
        const repoNote = await repo.init();
        r.restic.repository ??= repoNote;
        settle();
        theirs = await repo.backup(dataDir);
        log(`full ${round_}: restic ${theirs.seconds} s, ${mib(theirs.repoGrowth)} MiB written`);
      } else if (who === 'ours') {
        settle();
        const b = await ours(target);
        mine = b.result;
        if (round_ === 1) fullManifest = b.summary.manifest;
        log(`full ${round_}: labkluis ${mine.seconds} s (CPU ${mine.cpuSeconds} s), ${mib(mine.bytesRead)} MiB read, ${mib(mine.bytesWritten)} MiB written`);
      }
    }
    r.full.push({ round: round_, order: resticFirst && restic.available ? 'restic, then labkluis' : 'labkluis, then restic', ours: mine!, ...(theirs ? { restic: theirs } : {}), otherCores: load(theirs?.cpuSeconds ?? 0) });
    if (round_ > 1) {
      rmSync(target, { recursive: true, force: true });
      rmSync(repo.repo, { recursive: true, force: true });
    }
  }
  const counts = fullManifest!.counts;
  const resources = (counts.clinical_resources ?? 0) + (counts.identity_persons ?? 0);
  r.vault = {
    source: vault.source, cacheDir: vault.cacheDir, sizeMiB: o.sizeMiB, dataBytes, episodes: meta.episodes, resources,
    tenants: meta.tenants.length, buildSeconds: meta.buildSeconds, counts,
  };
  const bestOurs = r.full.map((f) => f.ours).reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const resticRuns = r.full.flatMap((f) => (f.restic ? [f.restic] : []));
  const bestRestic = resticRuns.length > 0 ? resticRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a)) : undefined;
  r.best = {
    ours: { ...bestOurs, mibPerSecond: round(dataBytes / MiB / bestOurs.seconds, 1), snapshotMibPerSecond: round(bestOurs.bytesRead / MiB / bestOurs.seconds, 1) },
    ...(bestRestic ? { restic: { ...bestRestic, mibPerSecond: round(dataBytes / MiB / bestRestic.seconds, 1) }, ratio: round(bestRestic.seconds / bestOurs.seconds, 3) } : {}),
  };
  const fullOurs = r.full[0]!.ours;
  const fullRestic = r.full[0]!.restic;

  // 3. Incrementals: the nightly delta, then corrections.
  const changes: { label: string; share: number; apply: () => Promise<ChangeResult> }[] = [
    {
      label: 'nightly delta: new episodes', share: o.deltaShare,
      apply: async () => {
        const app = await open();
        try {
          return await appendEpisodes(app, meta, Math.max(1, Math.round(resources * o.deltaShare)));
        } finally {
          await app.close();
        }
      },
    },
  ];
  if (o.corrections) {
    changes.push({
      label: 'corrections: reports reopened, a result corrected, authorised again', share: o.correctionShare,
      apply: async () => {
        const app = await open();
        try {
          // Two resources per corrected report get new versions.
          return await correctResults(app, dataDir, Math.max(1, Math.round((resources * o.correctionShare) / 2)));
        } finally {
          await app.close();
        }
      },
    });
  }
  for (const c of changes) {
    const change = await c.apply();
    log(`${c.label}: ${change.resources.toLocaleString('en')} resources in ${change.seconds.toFixed(1)} s`);
    const previous = (await newestManifest(new DirTarget(chain.target), key))!.manifest;
    let theirs: ResticBackup | undefined;
    if (restic.available) {
      settle();
      theirs = await chain.restic.backup(dataDir);
    }
    settle();
    const mine = await ours(chain.target);
    const tables = await chunksPerTable(chain.target, mine.summary.manifest, previous, identity);
    const inc: Incremental = {
      label: c.label, change: { ...change, share: c.share },
      ours: { ...mine.result, percentOfFull: round((mine.result.bytesWritten / fullOurs.bytesWritten) * 100, 2) },
      ...(theirs && fullRestic ? { restic: { ...theirs, percentOfFull: round((theirs.repoGrowth / fullRestic.repoGrowth) * 100, 2) } } : {}),
      tables,
    };
    r.incrementals.push(inc);
    log(`  incremental: labkluis ${mib(inc.ours.bytesWritten)} MiB (${inc.ours.percentOfFull}% of its full) in ${inc.ours.seconds} s`
      + (inc.restic ? `; restic ${mib(inc.restic.repoGrowth)} MiB (${inc.restic.percentOfFull}%) in ${inc.restic.seconds} s` : ''));
    const top = [...tables].filter((t) => t.newBytes > 0).sort((a, b) => b.newBytes - a.newBytes).slice(0, 4);
    log(`  new chunks by table: ${top.map((t) => `${t.table} ${t.newChunks}/${t.chunks} (${mib(t.newBytes)} MiB)`).join(', ')}`);
  }

  // 4. Verify, every object read.
  {
    const v = await ourVerify(chain.target, key);
    const verify: NonNullable<BackupResults['verify']> = { ours: { ...v, mibPerSecond: round(v.bytesRead / MiB / v.seconds, 1) } };
    if (!v.ok) r.notes.push('labkluis backup verify reported problems: the figures stand, the backup does not');
    log(`verify: labkluis ${v.seconds} s for ${mib(v.bytesRead)} MiB (${v.manifests} snapshots)`);
    if (restic.available) {
      const repoBytes = dirBytes(chain.restic.repo);
      const c = await chain.restic.run(['check', '--read-data']);
      (verify as { restic?: unknown }).restic = { seconds: c.seconds, cpuSeconds: c.cpuSeconds, repoBytes, mibPerSecond: round(repoBytes / MiB / c.seconds, 1) };
      log(`verify: restic check --read-data ${c.seconds} s for ${mib(repoBytes)} MiB`);
    }
    r.verify = verify;
  }

  // 5. Restore the newest snapshot.
  const newest = (await newestManifest(new DirTarget(chain.target), key))!.manifest;
  // A restore into an empty store, timed from opening it to closing it (the WAL checkpoint at close included).
  const timedRestore = async (store: Store): Promise<{ result: OurRestore; total: ReturnType<ReturnType<typeof timer>> }> => {
    const t = timer();
    let result: OurRestore;
    try {
      await store.migrate();
      result = await ourRestore(chain.target, newest, identity, store);
    } finally {
      await store.close();
    }
    return { result, total: t() };
  };
  {
    const dir = join(runDir, 'restore-sqlite');
    mkdirSync(dir);
    const { result, total } = await timedRestore(openStore(dir, STORE_CONFIG));
    const restoredBytes = dirBytes(dir);
    r.restore.sqlite = { ...result, totalSeconds: total.seconds, mibPerSecond: round(dataBytes / MiB / total.seconds, 1), secondsPerGiB: round((total.seconds * GiB) / dataBytes, 1), restoredBytes };
    log(`restore into SQLite: ${total.seconds} s (restoreFromTarget ${result.seconds} s), rows match the manifest: ${result.rowsMatch}, ${mib(restoredBytes)} MiB`);
    rmSync(dir, { recursive: true, force: true });
  }
  if (restic.available) {
    const dir = join(runDir, 'restic-restore');
    const c = await chain.restic.run(['restore', 'latest', '--target', dir]);
    const restoredBytes = dirBytes(dir);
    r.restore.restic = { seconds: c.seconds, cpuSeconds: c.cpuSeconds, restoredBytes, mibPerSecond: round(restoredBytes / MiB / c.seconds, 1) };
    log(`restore: restic ${c.seconds} s, ${mib(restoredBytes)} MiB`);
    rmSync(dir, { recursive: true, force: true });
  }
  if (o.postgres) {
    const pg = await postgresAvailable();
    r.postgres = pg.ok ? { available: true, version: pg.version } : { available: false, reason: pg.reason };
    if (pg.ok) {
      const db = await createBenchDatabase();
      cleanup.add(`drop database ${db.name}`, () => db.drop());
      const dir = join(runDir, 'restore-postgres');
      mkdirSync(dir);
      const { result, total } = await timedRestore(openStore(dir, { kind: 'postgres', url: db.connectionString }));
      r.restore.postgres = { ...result, totalSeconds: total.seconds, mibPerSecond: round(dataBytes / MiB / total.seconds, 1), secondsPerGiB: round((total.seconds * GiB) / dataBytes, 1) };
      log(`restore into PostgreSQL: ${total.seconds} s (restoreFromTarget ${result.seconds} s), rows match: ${result.rowsMatch}`);
      await db.drop();
    } else {
      log(`PostgreSQL skipped: ${pg.reason}`);
    }
  } else {
    r.postgres = { available: false, reason: 'skipped (--no-postgres)' };
  }

  // 6. Where the time goes, for what misses its target (or everything, with --profile): one more
  // full backup to a fresh target, one more restore into a fresh SQLite store, under the profiler.
  const missedBackup = r.best.ratio !== undefined && r.best.ratio < TARGETS.fullThroughputVsRestic;
  if (o.profile === 'always' || (o.profile === 'on-miss' && missedBackup)) {
    const target = join(runDir, 'target-profile');
    const app = await open();
    try {
      const p = await profiled(() => ourBackup(app, kms, target, recipients));
      const summary = summariseProfile(p.profile, 'labkluis full backup (main thread)', p.wallMs, Math.max(1, p.result.result.bytesRead / MiB), 'MiB', BACKUP_RULES);
      r.profiles.push(summary);
      log(`profiled one more full backup: ${(p.wallMs / 1000).toFixed(1)} s under the profiler; ${summary.centres.slice(0, 6).map((c) => `${c.centre} ${c.percent}%`).join(', ')}`);
    } finally {
      await app.close();
      rmSync(target, { recursive: true, force: true });
    }
  }
  const missedRestore = r.restore.sqlite !== undefined && r.restore.sqlite.secondsPerGiB >= TARGETS.restoreSecondsPerGiB;
  if (o.profile === 'always' || (o.profile === 'on-miss' && missedRestore)) {
    const dir = join(runDir, 'restore-profile');
    mkdirSync(dir);
    const store = openStore(dir, STORE_CONFIG);
    try {
      await store.migrate();
      const p = await profiled(() => ourRestore(chain.target, newest, identity, store));
      const summary = summariseProfile(p.profile, 'labkluis restore into SQLite (main thread)', p.wallMs, Math.max(1, p.result.bytes / MiB), 'MiB', BACKUP_RULES);
      r.profiles.push(summary);
      log(`profiled one more restore: ${(p.wallMs / 1000).toFixed(1)} s under the profiler; ${summary.centres.slice(0, 6).map((c) => `${c.centre} ${c.percent}%`).join(', ')}`);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const mib = (n: number) => (n / MiB).toFixed(1);

function verdicts(r: BackupResults): BackupResults['verdicts'] {
  const out: BackupResults['verdicts'] = [];
  const b = r.best;
  if (b) {
    out.push(b.ratio !== undefined && b.restic
      ? {
        target: 'full backup throughput ≥ restic\'s (same data directory, same run)',
        measured: `×${b.ratio} (${b.ours.mibPerSecond} vs ${b.restic.mibPerSecond} MiB/s of data directory; best of ${r.full.length})`,
        met: b.ratio >= TARGETS.fullThroughputVsRestic,
      }
      : { target: 'full backup throughput ≥ restic\'s', measured: `${b.ours.mibPerSecond} MiB/s; restic not measured (${r.restic.note})`, met: null });
  }
  const delta = r.incrementals[0];
  if (delta) {
    out.push({
      target: `incremental after a ${round(delta.change.share * 100, 2)}% change writes ≤ ${TARGETS.incrementalPercentOfFull}% of the full size`,
      measured: `${delta.ours.percentOfFull}% (${mib(delta.ours.bytesWritten)} of ${mib(r.full[0]!.ours.bytesWritten)} MiB)${delta.restic ? `; restic ${delta.restic.percentOfFull}%` : ''}`,
      met: delta.ours.percentOfFull <= TARGETS.incrementalPercentOfFull,
    });
  }
  const s = r.restore.sqlite;
  if (s && r.vault) {
    const scaled = r.vault.dataBytes < GiB;
    out.push({
      target: 'restore of a 1 GiB vault < 2 min (SQLite)',
      measured: scaled
        ? `${s.totalSeconds} s for ${mib(r.vault.dataBytes)} MiB: ${s.secondsPerGiB} s per GiB (scaled linearly; run without --size-mib/--quick for the real figure)`
        : `${s.totalSeconds} s for ${mib(r.vault.dataBytes)} MiB (${s.secondsPerGiB} s per GiB)${r.restore.restic ? `; restic ${r.restore.restic.seconds} s` : ''}`,
      met: s.secondsPerGiB < TARGETS.restoreSecondsPerGiB && (scaled || s.totalSeconds < TARGETS.restoreSecondsPerGiB),
    });
  }
  return out;
}

function summaryTable(r: BackupResults): string {
  const rows: string[][] = [['', 'labkluis', 'restic']];
  const b = r.best;
  const f = r.full[0];
  if (b && f) {
    rows.push(['full backup, best (s)', `${b.ours.seconds}`, b.restic ? `${b.restic.seconds}` : '-']);
    rows.push(['full: MiB/s of data dir', `${b.ours.mibPerSecond}`, b.restic ? `${b.restic.mibPerSecond}` : '-']);
    rows.push(['full: written (MiB)', mib(f.ours.bytesWritten), f.restic ? mib(f.restic.repoGrowth) : '-']);
  }
  for (const i of r.incrementals) {
    rows.push([`${i.label.split(':')[0]}: written (MiB)`, `${mib(i.ours.bytesWritten)} (${i.ours.percentOfFull}%)`, i.restic ? `${mib(i.restic.repoGrowth)} (${i.restic.percentOfFull}%)` : '-']);
  }
  if (r.verify) rows.push(['verify, all data (s)', `${r.verify.ours.seconds}`, r.verify.restic ? `${r.verify.restic.seconds}` : '-']);
  if (r.restore.sqlite) rows.push(['restore (s)', `${r.restore.sqlite.totalSeconds}${r.restore.postgres ? ` (PostgreSQL ${r.restore.postgres.totalSeconds})` : ''}`, r.restore.restic ? `${r.restore.restic.seconds}` : '-']);
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(w[c]!)).join('  ')).join('\n');
}

function writeResults(r: BackupResults): void {
  const { file, readmePath } = writeResultsAndReadme(here, `${r.machine.date.slice(0, 10)}-backup.json`, r, (readme, resultsFile) => renderBackupSection(readme, r, resultsFile));
  log(`wrote ${file} and the backup block of ${readmePath}`);
}

main().catch(async (e: unknown) => {
  if (interrupted) return;
  process.stderr.write(`benchmark failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  const failures = await cleanup.runAll();
  if (failures.length > 0) process.stderr.write(`cleanup failures: ${failures.join('; ')}\n`);
  process.exit(1);
});
