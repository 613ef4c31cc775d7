/**
 * A scratch micro-benchmark of the sentinel's per-response store work (issue 4: "the sentinel
 * adds at most 10% to read latency"): recordRelease alone, and the sentinel's store calls per
 * read response (see response() below), on SQLite and on PostgreSQL, for a principal without
 * history and for one with 10,000 patients released over the two days before (a GP practice's
 * system, or the read benchmark's requester with limits it cannot reach).
 *
 *   node --import tsx bench/lib/sentinel-micro.ts [--no-postgres] [--calls N]
 *
 * Each case times one-patient releases one after another (no concurrency), the clock moving a
 * second per call from 12:00 UTC, with the default policy's windows (10 min, 1 h, 24 h). The
 * history is released a minute at a time over the two days before (what the default policy
 * keeps), so the principal has its full set of minute and hour buckets. "repeat": the patient
 * comes from a pool of 20 already released (its last release moves, the common case of a
 * clinician paging through one patient's reports); "new": a patient never released before (the
 * history grows by the calls themselves, by some 4,000 patients a case). Wall time is the
 * median and the mean per call; cpu is this process's CPU time per call (user + system, GC
 * and WAL checkpoints included). Round trips are pg Client.query calls per call (a
 * multi-statement string is one). A SQLite temp file and a throwaway PostgreSQL database (made
 * as test/support/postgres.ts makes them) are removed at the end. It asserts nothing; figures on
 * the shared 2-core box move by ±15% between runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createPostgresStore, createSqliteStore, type ReleaseRow, type Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.js';
import { countPgQueries, pgQueries } from './pg-count.js';

const args = process.argv.slice(2);
const CALLS = args.includes('--calls') ? Number(args[args.indexOf('--calls') + 1]) : 2000;
if (!Number.isSafeInteger(CALLS) || CALLS < 1) throw new TypeError('--calls takes a positive integer');
const WARMUP = 200;
const HISTORY = 10_000;
const WINDOW_SECONDS = [600, 3_600, 86_400];
const T0 = Date.parse('2026-03-10T12:00:00.000Z');

const psn = (): string => `psn-${randomBytes(9).toString('hex')}`;
const iso = (ms: number): string => new Date(ms).toISOString();

interface Case {
  readonly backend: string;
  readonly history: number;
  readonly patients: 'repeat' | 'new';
  /** µs per call: median and mean wall time, and this process's CPU time (user + system) per call. */
  readonly record: Timing;
  readonly response: Timing;
  readonly roundTripsPerRecord: number | null;
  readonly roundTripsPerResponse: number | null;
}

/**
 * The sentinel's store calls for one read response. With the one-call contract that is
 * recordRelease alone (it returns the containment and the canaries). Before it (recordRelease
 * returned the totals only) a read also called liveContainment (admit) and canariesAmong.
 */
async function response(store: Store, r: ReleaseRow, windows: string[]): Promise<void> {
  const out = (await store.sentinel.recordRelease(r, windows)) as unknown;
  if (Array.isArray(out)) {
    await store.sentinel.liveContainment(r.principalId);
    if (r.pseudonyms.length > 0) await store.sentinel.canariesAmong(r.tenant, r.pseudonyms);
  }
}

interface Timing {
  readonly p50: number;
  readonly mean: number;
  readonly cpu: number;
}

function stats(us: number[], cpuUs: number): Timing {
  const sorted = [...us].sort((a, b) => a - b);
  const mean = us.reduce((a, b) => a + b, 0) / us.length;
  return { p50: Math.round(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN), mean: Math.round(mean), cpu: Math.round(cpuUs / us.length) };
}

async function runCase(store: Store, backend: string, history: number, patients: Case['patients']): Promise<Case> {
  const principalId = `prn-${randomBytes(6).toString('hex')}`;
  const tenant = `org-${randomBytes(4).toString('hex')}`;
  const base = { principalId, role: 'requester', tenant, records: 1, bytes: 4096 };
  // History: `history` patients, a release a minute over the two days before T0.
  const minutes = 2 * 24 * 60;
  for (let m = 0, done = 0; history > 0 && m < minutes; m++) {
    const pseudonyms = Array.from({ length: Math.round(((m + 1) * history) / minutes) - done }, psn);
    done += pseudonyms.length;
    await store.sentinel.recordRelease({ ...base, pseudonyms, records: pseudonyms.length, at: iso(T0 - (minutes - m) * 60_000) }, []);
  }
  const pool = Array.from({ length: 20 }, psn);
  let clock = T0;
  const next = (n: number): [ReleaseRow, string[]] => {
    clock += 1000;
    const pseudonym = patients === 'repeat' ? pool[n % pool.length]! : psn();
    return [{ ...base, pseudonyms: [pseudonym], at: iso(clock) }, WINDOW_SECONDS.map((s) => iso(clock - s * 1000))];
  };
  for (let n = 0; n < WARMUP; n++) await store.sentinel.recordRelease(...next(n));

  const time = async (call: (r: ReleaseRow, w: string[]) => Promise<unknown>): Promise<{ us: number[]; cpu: number; trips: number }> => {
    const us: number[] = [];
    const before = pgQueries.count;
    const cpu = process.cpuUsage();
    for (let n = 0; n < CALLS; n++) {
      const [r, w] = next(n);
      const t = process.hrtime.bigint();
      await call(r, w);
      us.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    const used = process.cpuUsage(cpu);
    return { us, cpu: used.user + used.system, trips: (pgQueries.count - before) / CALLS };
  };
  const record = await time((r, w) => store.sentinel.recordRelease(r, w));
  const resp = await time((r, w) => response(store, r, w));
  const pg = backend === 'postgres';
  return {
    backend, history, patients, record: stats(record.us, record.cpu), response: stats(resp.us, resp.cpu),
    roundTripsPerRecord: pg ? record.trips : null, roundTripsPerResponse: pg ? resp.trips : null,
  };
}

async function runBackend(store: Store, backend: string): Promise<Case[]> {
  await store.migrate();
  const out: Case[] = [];
  for (const history of [0, HISTORY]) {
    for (const patients of ['repeat', 'new'] as const) {
      const c = await runCase(store, backend, history, patients);
      out.push(c);
      console.log(`${backend.padEnd(8)} history ${String(history).padStart(6)} ${patients.padEnd(6)} `
        + `recordRelease p50 ${c.record.p50} µs (mean ${c.record.mean}, cpu ${c.record.cpu})`
        + `${c.roundTripsPerRecord === null ? '' : `, ${c.roundTripsPerRecord} round trips`}; `
        + `per response p50 ${c.response.p50} µs (mean ${c.response.mean}, cpu ${c.response.cpu})`
        + `${c.roundTripsPerResponse === null ? '' : `, ${c.roundTripsPerResponse} round trips`}`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  console.log(`${CALLS} timed calls per case after ${WARMUP} warm-up calls; µs per call`);
  const dir = mkdtempSync(join(tmpdir(), 'labkluis-sentinel-micro-'));
  try {
    const sqlite = createSqliteStore({ path: join(dir, 'store.db') });
    try {
      await runBackend(sqlite, 'sqlite');
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (args.includes('--no-postgres')) return;
  let db: TestDatabase;
  try {
    db = await createTestDatabase('labkluis_sn_bench_');
  } catch (e) {
    console.log(`postgres skipped: ${(e as Error).message}`);
    return;
  }
  countPgQueries();
  const store = createPostgresStore({ connectionString: db.connectionString });
  try {
    await runBackend(store, 'postgres');
  } finally {
    await store.close();
    await db.drop();
  }
}

await main();
