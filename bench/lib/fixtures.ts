/**
 * A whole labkluis per configuration, built through the real composition root: a temp data
 * directory, a temp keyring outside it, SQLite or a fresh PostgreSQL database, a silent
 * logger. Everything made here is registered with a Cleanup and removed at the end.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asAdmin, createTestDatabase, type TestDatabase } from '../../test/support/postgres.js';
import { createApp, createLogger, type App } from '../../src/app.js';
import { createPrincipal, issueApiToken } from '../../src/auth/index.js';
import { createLocalKeyring, nullCipherForBenchmarkOnly, type Kms } from '../../src/crypto/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import type { StoreConfig } from '../../src/config/index.js';

export type Backend = 'sqlite' | 'postgres';
export type CipherName = 'aes-256-gcm' | 'null';

/** Cleanup steps, run last-in first-out, each even if an earlier one fails. */
export class Cleanup {
  readonly #steps: { label: string; run: () => Promise<void> | void }[] = [];

  add(label: string, run: () => Promise<void> | void): void {
    this.#steps.push({ label, run });
  }

  async runAll(): Promise<string[]> {
    const failures: string[] = [];
    while (this.#steps.length > 0) {
      const step = this.#steps.pop()!;
      try {
        await step.run();
      } catch (e) {
        failures.push(`${step.label}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return failures;
  }
}

export interface BenchApp {
  readonly label: string;
  readonly backend: Backend;
  readonly cipher: CipherName;
  readonly app: App;
  /** Closes the app (idempotent). The temp dir and database are removed by the Cleanup. */
  close(): Promise<void>;
  /** Another app on the same data and keys with the sentinel off: the A/B of its cost. */
  withoutSentinel(): Promise<App>;
}

/** Where a benchmark's vault lives: its data directory, its keyring beside it, its store. */
export interface BenchPlace {
  readonly dataDir: string;
  readonly kms: Kms;
  readonly origin: string;
  readonly storeConfig: StoreConfig;
}

/**
 * A temp data directory with its keyring beside it (never inside: the app refuses that), and
 * SQLite in it or a fresh PostgreSQL database; all removed by the Cleanup.
 */
export async function benchPlace(cleanup: Cleanup, backend: Backend, name: string): Promise<BenchPlace> {
  const tmp = mkdtempSync(join(tmpdir(), `labkluis-${name}-`));
  cleanup.add(`remove ${tmp}`, () => rmSync(tmp, { recursive: true, force: true }));
  const dataDir = join(tmp, 'data');
  mkdirSync(dataDir, { recursive: true });
  const origin = `${name}.labkluis.local/audit`;
  const kms = createLocalKeyring({ path: join(tmp, 'keyring', 'keyring.json'), dataDir, signerName: origin, random: systemRandom });
  let storeConfig: StoreConfig;
  if (backend === 'postgres') {
    const db = await createBenchDatabase();
    cleanup.add(`drop database ${db.name}`, () => db.drop());
    storeConfig = { kind: 'postgres', url: db.connectionString };
  } else {
    storeConfig = { kind: 'sqlite', file: 'labkluis.sqlite' };
  }
  return { dataDir, kms, origin, storeConfig };
}

export async function openBenchApp(
  cleanup: Cleanup, backend: Backend, cipher: CipherName, label: string,
  options: { checkpointEvery?: { entries: number; ms: number } } = {},
): Promise<BenchApp> {
  const { dataDir, kms, origin, storeConfig } = await benchPlace(cleanup, backend, 'bench');
  const open = (sentinel: 'on' | 'off') => createApp({
    dataDir, storeConfig, kms, origin, clock: systemClock, random: systemRandom, logger: createLogger('silent'),
    // The sentinel counts every read, but the load generator's one requester reads every report
    // of its tenant in minutes: limits it cannot reach, so the bench measures cost, not containment.
    sentinelPolicy: sentinel === 'on' ? UNREACHABLE_LIMITS : { enabled: false },
    ...(cipher === 'null' ? { cipher: nullCipherForBenchmarkOnly() } : {}),
    ...(options.checkpointEvery ? { checkpointEvery: options.checkpointEvery } : {}),
  });
  const app = await open('on');
  let closed: Promise<void> | null = null;
  const close = () => (closed ??= app.close());
  cleanup.add(`close ${label}`, close);
  const withoutSentinel = async () => {
    const off = await open('off');
    let offClosed: Promise<void> | null = null;
    cleanup.add(`close ${label} without sentinel`, () => (offClosed ??= off.close()));
    return off;
  };
  return { label, backend, cipher, app, close, withoutSentinel };
}

/**
 * Every part of the sentinel at work (baselines, signals, archive counts), with limits no
 * benchmark client reaches.
 */
const UNREACHABLE_LIMITS = Object.freeze({
  windows: [{ seconds: 600, patients: 1_000_000_000, bytes: null }],
  archive: { windows: [{ seconds: 3_600, patients: 1_000_000_000, bytes: null }] },
  work: { windows: [{ seconds: 600, patients: 1_000_000_000, bytes: null }] },
  baseline: { minimumDay: 1_000_000_000, minimumHour: 1_000_000_000 },
});

/** A requester service for one tenant, its DPoP key and its bound API token (what a GP practice's system would hold). */
export async function requesterToken(app: App, tenant: string): Promise<{ token: string; key: DpopKey }> {
  const deps = { store: app.store, clock: systemClock, random: systemRandom };
  const principal = await createPrincipal(deps, { role: 'requester', tenants: [tenant], displayName: 'bench-requester', kind: 'service' });
  const key = await generateDpopKey();
  return { token: (await issueApiToken(deps, principal.id, 1, key.jkt)).token, key };
}

export type BenchDatabase = TestDatabase;

/** True when the PostgreSQL server answers. */
export async function postgresAvailable(): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  try {
    const version = await asAdmin(async (c) => String((await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v));
    const settings = await asAdmin(async (c) => {
      const rows = (await c.query<{ name: string; setting: string }>(
        "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'shared_buffers') ORDER BY name",
      )).rows;
      return rows.map((r) => `${r.name}=${r.setting}`).join(', ');
    });
    return { ok: true, version: `${version} (${settings})` };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** A throwaway database (the tests' helper, with its own name prefix); drop() also removes its part roles. */
export function createBenchDatabase(): Promise<BenchDatabase> {
  return createTestDatabase('labkluis_bench_');
}
