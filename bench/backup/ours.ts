/**
 * labkluis's own backups, through the library calls `labkluis backup`, `backup verify` and
 * `restore` make (src/cli/commands/backup.ts, restore.ts): writeStoreSnapshot(app.store) with the backup MAC key, the keyring's backup signer and the previous manifest
 * opened with the backup key; verifyTarget; restoreFromTarget into an empty, migrated store.
 * Each is timed on its own, with this process's CPU time beside the wall time.
 */
import { verifierKeyString } from '../../src/audit/index.js';
import {
  DirTarget, openManifest, openObject, restoreFromTarget, verifyTarget, writeStoreSnapshot,
  type Manifest, type OpenedManifest, type SnapshotIndex, type VerifyReport, type WriteSummary,
} from '../../src/backup/index.js';
import type { App } from '../../src/app.js';
import type { Kms } from '../../src/crypto/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import type { Store } from '../../src/store/index.js';
import { round } from '../lib/stats.js';
import { dirBytes } from './vault.js';

export interface Timed {
  readonly seconds: number;
  /** This process's CPU seconds (all threads) meanwhile. */
  readonly cpuSeconds: number;
}

export function timer(): () => Timed {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { seconds: round((performance.now() - t0) / 1000, 2), cpuSeconds: round((c.user + c.system) / 1e6, 2) };
  };
}

export function backupKeyOf(kms: Kms): string {
  return verifierKeyString(kms.backupSigner.name, kms.backupSigner.publicKey);
}

export interface OurBackup extends Timed {
  readonly sequence: number;
  /** Snapshot stream bytes read from the store (what is chunked). */
  readonly bytesRead: number;
  /** Bytes of new objects stored (WriteSummary.bytesWritten). */
  readonly bytesWritten: number;
  /** The target directory's growth, manifest and directories' entries included (files' apparent sizes). */
  readonly targetGrowth: number;
  readonly objectsWritten: number;
  readonly chunks: number;
  readonly chunksReused: number;
  readonly rows: number;
}

/** The newest manifest at the target, opened with the backup key (what the CLI passes as previous). */
export async function newestManifest(target: DirTarget, key: string): Promise<OpenedManifest | null> {
  const names = await target.listManifests();
  const name = names[names.length - 1];
  if (name === undefined) return null;
  return openManifest((await target.getManifest(name))!, key);
}

export async function ourBackup(app: App, kms: Kms, targetDir: string, recipients: readonly string[]): Promise<{ result: OurBackup; summary: WriteSummary }> {
  const target = new DirTarget(targetDir);
  const key = backupKeyOf(kms);
  const before = dirBytes(targetDir);
  const previous = await newestManifest(target, key);
  const macKey = (await app.keys.current('*', 'backup-mac')).key;
  const stop = timer();
  const summary = await writeStoreSnapshot(app.store, {
    target, recipients, macKey, signer: kms.backupSigner, previous, clock: systemClock, random: systemRandom,
  });
  const t = stop();
  return {
    summary,
    result: {
      ...t, sequence: summary.manifest.sequence, bytesRead: summary.bytesRead, bytesWritten: summary.bytesWritten,
      targetGrowth: dirBytes(targetDir) - before, objectsWritten: summary.objectsWritten, chunks: summary.chunks, chunksReused: summary.chunksReused,
      rows: Object.values(summary.manifest.counts).reduce((s, n) => s + n, 0),
    },
  };
}

export interface TableChunks {
  readonly table: string;
  readonly rows: number;
  readonly chunks: number;
  /** Bytes of the table's chunks (plaintext, in their packs). */
  readonly bytes: number;
  /** Chunks the previous snapshot did not have: what this backup stored for the table. */
  readonly newChunks: number;
  readonly newBytes: number;
}

/**
 * Per table, from the snapshot's sealed table of contents (opened with the offline identity,
 * as a restore would): its chunks, and which of them the previous snapshot did not have.
 */
export async function chunksPerTable(targetDir: string, m: Manifest, previous: Manifest | null, identity: string): Promise<TableChunks[]> {
  const target = new DirTarget(targetDir);
  const index = JSON.parse((await openObject(m.index, (await target.getObject(m.index))!, [identity])).toString('utf8')) as SnapshotIndex;
  const size = new Map(m.chunks.map((c) => [c.mac, c.length]));
  const had = new Set(previous?.chunks.map((c) => c.mac) ?? []);
  const seen = new Set<string>(); // a chunk repeated within the snapshot is stored once
  return index.tables.map((t) => {
    let [bytes, newChunks, newBytes] = [0, 0, 0];
    for (const mac of t.chunks) {
      const s = size.get(mac) ?? 0;
      bytes += s;
      if (!had.has(mac) && !seen.has(mac)) {
        newChunks += 1;
        newBytes += s;
      }
      seen.add(mac);
    }
    return { table: t.table, rows: t.rows, chunks: t.chunks.length, bytes, newChunks, newBytes };
  });
}

export interface OurVerify extends Timed {
  readonly ok: boolean;
  readonly manifests: number;
  readonly objects: number;
  readonly bytesRead: number;
}

export async function ourVerify(targetDir: string, key: string): Promise<OurVerify> {
  const stop = timer();
  const r: VerifyReport = await verifyTarget(new DirTarget(targetDir), key, { readData: 1, random: systemRandom });
  return { ...stop(), ok: r.ok, manifests: r.manifests, objects: r.objectsRead, bytesRead: r.bytesRead };
}

export interface OurRestore extends Timed {
  /** Snapshot stream bytes restored (decrypted chunks). */
  readonly bytes: number;
  readonly rows: number;
  /** Rows per table equal to the manifest's counts (restore refuses otherwise; checked again here). */
  readonly rowsMatch: boolean;
}

/** Into `store`, migrated and empty; timed from the first object read to the commit. */
export async function ourRestore(targetDir: string, m: Manifest, identity: string, store: Store): Promise<OurRestore> {
  const stop = timer();
  const s = await restoreFromTarget(new DirTarget(targetDir), m, [identity], store);
  const t = stop();
  const rowsMatch = Object.entries(m.counts).every(([table, n]) => s.rows[table] === n);
  return { ...t, bytes: s.bytes, rows: Object.values(s.rows).reduce((a, n) => a + n, 0), rowsMatch };
}
