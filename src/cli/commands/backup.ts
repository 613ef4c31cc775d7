import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifierKeyString } from '../../audit/index.js';
import {
  DirTarget, HttpTarget, openManifest, verifyTarget, writeStoreSnapshot, type BackupTarget, type OpenedManifest, type VerifyReport,
} from '../../backup/index.js';
import type { App } from '../../app.js';
import type { Kms } from '../../crypto/index.js';
import { LabkluisError, systemClock, systemRandom } from '../../kernel/index.js';
import { progress } from '../progress.js';

/** The file in the data directory where production records its newest snapshot per target (against a rollback). */
const STATE_FILE = 'backup-state.json';

/** `dir:/path` or a receiver's http(s) URL (its token from LABKLUIS_BACKUP_TOKEN). */
export function targetOf(spec: string, env: NodeJS.ProcessEnv = process.env): BackupTarget {
  if (spec.startsWith('dir:') && spec.length > 4) return new DirTarget(spec.slice(4).replace(/(.)\/+$/, '$1'));
  if (/^https?:\/\//.test(spec)) {
    const token = env.LABKLUIS_BACKUP_TOKEN ?? '';
    if (token === '') throw new LabkluisError('ERR_CONFIG', 'a receiver target needs its upload token in LABKLUIS_BACKUP_TOKEN');
    return new HttpTarget(spec, token);
  }
  throw new LabkluisError('ERR_CONFIG', `a backup target is dir:/path or a receiver's https URL, not ${spec.slice(0, 40)}`);
}

/** A target's name as its BackupTarget gives it, without opening it (no token needed). */
function targetName(spec: string): string {
  return spec.startsWith('dir:') ? spec.replace(/(.)\/+$/, '$1') : spec.replace(/\/+$/, '');
}

export function backupKey(kms: Kms): string {
  return verifierKeyString(kms.backupSigner.name, kms.backupSigner.publicKey);
}

/** The newest manifest at the target, checked with the backup key (null: none yet). */
async function newestAt(target: BackupTarget, key: string): Promise<OpenedManifest | null> {
  const names = await target.listManifests();
  const name = names[names.length - 1];
  if (name === undefined) return null;
  const note = await target.getManifest(name);
  if (note === null) throw new LabkluisError('ERR_INTEGRITY', `manifest ${name} is listed but missing at ${target.name}`);
  return openManifest(note, key); // a forged newest manifest stops the backup: run backup verify
}

export async function backup(
  app: App, kms: Kms, dataDir: string, o: { target: string; recipients: readonly string[] }, out: (line: string) => void,
): Promise<void> {
  const target = targetOf(o.target);
  const key = backupKey(kms);
  const previous = await newestAt(target, key);
  // The target must still end where this server's last backup to it ended: otherwise its
  // newest snapshots were deleted or replaced, and chaining on would hide that.
  const recorded = (await readState(dataDir))[target.name];
  if (recorded !== undefined && (previous === null || previous.manifest.sequence < recorded.sequence
    || (previous.manifest.sequence === recorded.sequence && previous.hash !== recorded.hash))) {
    throw new LabkluisError('ERR_INTEGRITY', `${target.name} ends at snapshot ${previous?.manifest.sequence ?? 0}, but this server wrote snapshot ${recorded.sequence} there: it was cut back or replaced; run backup verify`);
  }
  // The newest snapshot there must be of this vault's own log (its root at that size): else
  // another vault with this keyring (a restored copy still running beside the original) writes
  // there, or this vault's log was cut back since; chaining on would mix two histories.
  if (previous !== null && previous.manifest.audit.size > 0) {
    const at = previous.manifest.audit;
    const [entry] = await app.store.readAudit(at.size - 1, 1);
    if (entry === undefined || entry.seq !== at.size - 1 || entry.rootAfter.toString('hex') !== at.root) {
      throw new LabkluisError('ERR_INTEGRITY', `the newest snapshot at ${target.name} (${previous.manifest.sequence}) is not of this vault's audit log: another vault with this keyring (a restored copy?) writes there, or this log was cut back; run backup verify and a restore drill`);
    }
  }
  // The MAC key first: made now on a first backup, it is then in the snapshot it keys (a restored
  // vault goes on with the same key, so its next backup still finds the chunks it shares).
  const macKey = (await app.keys.current('*', 'backup-mac')).key;
  // The bar's total: the last snapshot's size (the first backup shows no bar; the summary says it all).
  const bar = progress('backup', (previous?.manifest.chunks ?? []).reduce((s, x) => s + x.length, 0));
  let shown = 0;
  let summary;
  try {
    summary = await writeStoreSnapshot(app.store, {
      target, recipients: o.recipients, macKey, signer: kms.backupSigner,
      previous, clock: systemClock, random: systemRandom,
      progress: (read) => {
        bar.advance(read - shown);
        shown = read;
      },
    });
  } finally {
    bar.stop();
  }
  const state = await readState(dataDir);
  state[target.name] = { sequence: summary.manifest.sequence, hash: summary.hash, snapshot: summary.manifest.snapshot };
  // Written whole or not at all: a crash mid-write must not leave a record that reads as none.
  const tmp = join(dataDir, `${STATE_FILE}.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, join(dataDir, STATE_FILE));
  const mib = (n: number) => (n / 1048576).toFixed(1);
  out(`snapshot ${summary.manifest.sequence} (${summary.manifest.snapshot}) to ${target.name}: read ${mib(summary.bytesRead)} MiB, wrote ${mib(summary.bytesWritten)} MiB `
    + `(${summary.objectsWritten} new objects; ${summary.chunks - summary.chunksReused} of ${summary.chunks} chunks new); backup key ${key}`);
}

type State = Record<string, { sequence: number; hash: string; snapshot: string }>;

/** None yet: empty. Unreadable: refused, not taken as none (that would let a cut-back target pass). */
async function readState(dataDir: string): Promise<State> {
  let text: string;
  try {
    text = await readFile(join(dataDir, STATE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new LabkluisError('ERR_CONFIG', `cannot read ${STATE_FILE} in the data directory`);
  }
  let s: unknown;
  try {
    s = JSON.parse(text);
  } catch {
    s = null;
  }
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    throw new LabkluisError('ERR_CONFIG', `${STATE_FILE} in the data directory is damaged: restore it, or check the targets with backup verify before removing it`);
  }
  return s as State;
}

/** The newest snapshot production recorded for this target, if this data directory has one. */
export async function recordedNewest(dataDir: string, targetSpec: string): Promise<{ sequence: number; hash: string } | undefined> {
  const s = (await readState(dataDir))[targetName(targetSpec)];
  return s !== undefined && typeof s.sequence === 'number' && typeof s.hash === 'string' ? { sequence: s.sequence, hash: s.hash } : undefined;
}

export async function backupVerify(
  o: { target: string; key: string; readData: number; newest?: { sequence: number; hash: string } }, out: (line: string) => void,
): Promise<VerifyReport> {
  const report = await verifyTarget(targetOf(o.target), o.key, { readData: o.readData, random: systemRandom, ...(o.newest ? { newest: o.newest } : {}) });
  for (const b of report.badManifests) out(`BAD manifest ${b.name}: ${b.problem}`);
  for (const c of report.chain) out(`CHAIN manifest ${c.sequence} (${c.snapshot}): ${c.problem}`);
  for (const m of report.missing) out(`MISSING object ${m.id} (snapshots ${m.sequences.join(', ')})`);
  for (const d of report.damaged) out(`DAMAGED object ${d.id} (snapshots ${d.sequences.join(', ')})`);
  out(`${report.ok ? 'backup verified' : 'backup FAILED verification'}: ${report.manifests} manifests, ${report.objects} objects, `
    + `${report.objectsRead} read (${(report.bytesRead / 1048576).toFixed(1)} MiB) at ${report.target}`);
  return report;
}
