import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRILL_KEY_NAME, httpProductionLog, openEscrow, runRestoreDrill, type DrillReport } from '../../backup/index.js';
import { createSqliteStore } from '../../store/index.js';
import { installKeyringText, loadLocalKeyring } from '../../crypto/index.js';
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
}

/**
 * `labkluis restore-drill`: on the backup host, restores the newest snapshot into a scratch
 * SQLite store with the offline identity and the escrowed keyring, runs the drill's checks
 * (backup/drill/restore-drill.ts), writes the signed report and hands it to production.
 * Everything it made (the scratch store, the keyring copy) is removed at the end, whatever happened.
 * Resolves with the report; the caller exits 1 when it failed.
 */
export async function restoreDrill(o: DrillCommandOptions, out: (line: string) => void): Promise<DrillReport> {
  if (!(Number.isSafeInteger(o.sample) && o.sample >= 1 && o.sample <= 100_000)) throw new LabkluisError('ERR_INVALID_INPUT', '--sample is a number of records, 1 to 100000');
  const production = checkUrl(o.production);
  const identities = await readIdentityFile(o.identity);
  const escrowIdentities = o.escrowIdentity === undefined ? identities : await readIdentityFile(o.escrowIdentity);
  const keyringText = await openEscrow(await readInputFile(o.escrow, 'escrow'), escrowIdentities);
  const signer = await seedKeySigner(o.drillKey, DRILL_KEY_NAME, 'drill key');
  const target = targetOf(o.from);
  const reportFile = o.report ?? `labkluis-drill-${systemClock.now().toISOString().replace(/[:.]/g, '-')}.txt`;

  const scratch = mkdtempSync(join(o.scratch ?? tmpdir(), 'labkluis-drill-'));
  try {
    const dataDir = join(scratch, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    const keyringPath = join(scratch, 'keyring.json');
    installKeyringText({ text: keyringText, path: keyringPath, dataDir });
    const kms = loadLocalKeyring({ path: keyringPath, dataDir, random: systemRandom });
    const store = createSqliteStore({ path: join(dataDir, 'labkluis.sqlite') });
    let result;
    try {
      await store.migrate();
      result = await runRestoreDrill({
        target, identities, kms, scratch: store, production: httpProductionLog(production), sample: o.sample, signer, clock: systemClock, random: systemRandom,
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
      await httpProductionLog(production).submit(note);
      out(`report handed to ${production}`);
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

function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LabkluisError('ERR_INVALID_INPUT', '--production is the production server\'s URL, https://host[:port]');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new LabkluisError('ERR_INVALID_INPUT', '--production is an http(s) URL');
  return u.origin;
}
