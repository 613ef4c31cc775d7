import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRILL_KEY_NAME, httpProductionLog, openEscrow, runRestoreDrill, type DrillReport } from '../../backup/index.js';
import { createSqliteStore } from '../../store/index.js';
import { keyringFromText } from '../../crypto/index.js';
import { LabkluisError, systemClock, systemRandom } from '../../kernel/index.js';
import { readIdentityFile, readInputFile } from '../input-files.js';
import { createSeedKeyFile, seedKeySigner } from '../key-files.js';
import { targetOf } from './backup.js';

export interface DrillCommandOptions {
  readonly from: string;
  /** The offline identity the snapshots are sealed to. */
  readonly identity: string;
  /** The keyring escrow file, and an identity it is sealed to (default: --identity). */
  readonly escrow: string;
  readonly escrowIdentity?: string;
  /** The drill key file (`restore-drill key`). */
  readonly drillKey: string;
  /** The production server's public URL: its audit log is checked, and the report goes there. */
  readonly production: string;
  readonly submit: boolean;
  /** Where the signed report is written (a new file); default labkluis-drill-<time>.txt here. */
  readonly report?: string;
  /** Where the scratch store is made (default: the system's temp directory); removed after. */
  readonly scratch?: string;
  readonly sample: number;
  /** How old the newest snapshot may be (default 48 hours). */
  readonly maxSnapshotAgeHours?: number;
}

/**
 * `labkluis restore-drill`: on the backup host, restores the newest snapshot into a scratch
 * SQLite store with the offline identity and the escrowed keyring (held in memory only), runs
 * the drill's checks (backup/drill/restore-drill.ts), writes the signed report and hands it to
 * production. The scratch store is removed at the end, whatever happened.
 * Resolves with the report; the caller exits 1 when it failed.
 */
export async function restoreDrill(o: DrillCommandOptions, out: (line: string) => void): Promise<DrillReport> {
  if (!(Number.isSafeInteger(o.sample) && o.sample >= 1 && o.sample <= 100_000)) throw new LabkluisError('ERR_INVALID_INPUT', '--sample is a number of records, 1 to 100000');
  const production = o.production;
  const identities = await readIdentityFile(o.identity);
  const escrowIdentities = o.escrowIdentity === undefined ? identities : await readIdentityFile(o.escrowIdentity);
  const keyringText = await openEscrow(await readInputFile(o.escrow, 'escrow'), escrowIdentities);
  const signer = await seedKeySigner(o.drillKey, DRILL_KEY_NAME, 'drill key');
  const target = targetOf(o.from);
  const reportFile = o.report ?? `labkluis-drill-${systemClock.now().toISOString().replace(/[:.]/g, '-')}.txt`;

  // The escrowed keyring stays in memory; the scratch store on disk holds ciphertext and wrapped
  // keys only, so a drill killed half-way leaves nothing readable. Such leftovers go at the next start.
  const kms = keyringFromText(keyringText, systemRandom);
  const log = httpProductionLog(production, signer, systemClock);
  const parent = o.scratch ?? tmpdir();
  sweepLeftovers(parent);
  const scratch = mkdtempSync(join(parent, SCRATCH_PREFIX));
  try {
    const store = createSqliteStore({ path: join(scratch, 'labkluis.sqlite') });
    let result;
    try {
      await store.migrate();
      result = await runRestoreDrill({
        target, identities, kms, scratch: store, production: log, sample: o.sample, signer, clock: systemClock, random: systemRandom,
        ...(o.maxSnapshotAgeHours === undefined ? {} : { maxSnapshotAgeHours: o.maxSnapshotAgeHours }),
      });
    } finally {
      await store.close();
    }
    const { report, note } = result;
    try {
      writeFileSync(reportFile, note, { flag: 'wx', mode: 0o644 });
    } catch {
      throw new LabkluisError('ERR_INVALID_INPUT', `cannot create the report file ${reportFile} (it must not exist)`);
    }
    for (const c of report.checks) out(`${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}`);
    out(`restore drill ${report.outcome.toUpperCase()} (${report.id}): report signed in ${reportFile}`);
    if (o.submit) {
      await log.submit(note);
      out(`report handed to ${log.name}`);
    }
    return report;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `labkluis restore-drill key --out <file>`: the drill key, on the backup host; prints its public half for production's backup.drill.key. */
export async function restoreDrillKey(o: { out: string }, out: (line: string) => void): Promise<void> {
  out(await createSeedKeyFile(o.out, DRILL_KEY_NAME, systemRandom));
}

const SCRATCH_PREFIX = 'labkluis-drill-';

/** Scratch directories of drills that were killed (older than a day): removed. */
function sweepLeftovers(parent: string): void {
  const dayAgo = systemClock.now().getTime() - 86_400_000;
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(SCRATCH_PREFIX)) continue;
    const path = join(parent, name);
    try {
      if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
}
