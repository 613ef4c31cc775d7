/**
 * Restores a snapshot from a target into an empty store of either backend (issue 5), with the
 * offline identity: the table of contents, then each table's chunks in order, from their packs decrypted,
 * decoded and written in one all-or-nothing restore, which fails (keeping nothing) unless the
 * row counts match the manifest's and the audit log's Merkle root the one it vouches for.
 */
import { z } from 'zod';
import { frontierAppend, frontierRoot, leafHash } from '../audit/index.js';
import { LabkluisError } from '../kernel/index.js';
import { REBUILT_TABLES, snapshotSpec, type SnapshotValue, type Store } from '../store/index.js';
import type { Manifest } from './manifest.js';
import { ObjectOpener } from './objects.js';
import { ROW_ENCODING } from './row-encoding.js';
import { decodeTables } from './snapshot-codec.js';
import type { BackupTarget } from './targets/target.js';

export interface RestoreSummary {
  readonly snapshot: string;
  readonly rows: Readonly<Record<string, number>>;
  readonly bytes: number;
  readonly audit: { readonly size: number; readonly root: string };
}

/** What a restore tells its caller as it goes: bytes decrypted so far, and each row as it is written (a drill samples them). */
export interface RestoreWatch {
  readonly progress?: (bytes: number) => void;
  readonly row?: (table: string, row: readonly SnapshotValue[]) => void;
}

/** The index as the writer seals it (writer.ts SnapshotIndex); any other shape is refused. */
const IndexSchema = z.object({
  snapshot: z.string(),
  encoding: z.string().optional(),
  tables: z.array(z.object({ table: z.string(), rows: z.number().int().nonnegative(), chunks: z.array(z.string()) })),
});

/** Packs fetched and opened ahead of the one being read, and packs kept opened. */
const AHEAD = 2;
const KEPT = 8;

export async function restoreFromTarget(
  target: BackupTarget, manifest: Manifest, identities: readonly string[], store: Store, watch: RestoreWatch = {},
): Promise<RestoreSummary> {
  const named = new Set([manifest.index, ...manifest.objects.map((o) => o.id)]);
  const opener = new ObjectOpener(identities);
  const open = async (id: string): Promise<Buffer> => {
    if (!named.has(id)) throw new LabkluisError('ERR_INTEGRITY', `the snapshot's index names an object its manifest does not (${id.slice(0, 16)}…)`);
    const bytes = await target.getObject(id);
    if (bytes === null) throw new LabkluisError('ERR_INTEGRITY', `backup object ${id.slice(0, 16)}… is missing at ${target.name}`);
    return opener.open(id, bytes);
  };
  let index: z.infer<typeof IndexSchema>;
  try {
    index = IndexSchema.parse(JSON.parse((await open(manifest.index)).toString('utf8')));
  } catch (e) {
    if (e instanceof LabkluisError) throw e;
    throw new LabkluisError('ERR_INTEGRITY', 'the snapshot index is not readable');
  }
  if (index.snapshot !== manifest.snapshot) throw new LabkluisError('ERR_INTEGRITY', 'the snapshot index belongs to another snapshot');
  if (index.encoding !== ROW_ENCODING) throw new LabkluisError('ERR_INVALID_INPUT', `the snapshot's rows are in an encoding this version does not read: ${String(index.encoding)}`);
  // Each chunk's place (from the signed manifest), and the packs in the order the tables first
  // need them: a pack is fetched and opened ahead while the rows before it are written, and the
  // last few used are kept (a later snapshot's table goes back and forth between packs).
  const place = new Map(manifest.chunks.map((c) => [c.mac, c]));
  const order: string[] = [];
  const position = new Map<string, number>();
  for (const t of index.tables) {
    if (REBUILT_TABLES.includes(t.table)) continue;
    for (const mac of t.chunks) {
      const c = place.get(mac);
      if (c !== undefined && !position.has(c.object)) position.set(c.object, order.push(c.object) - 1);
    }
  }
  const packs = new Map<string, Promise<Buffer>>(); // in order of use, the last used at the end
  const opening = (id: string): Promise<Buffer> => {
    const p = open(id);
    p.catch(() => {}); // awaited when needed; a failure there fails the restore
    return p;
  };
  const pack = (id: string): Promise<Buffer> => {
    const p = packs.get(id) ?? opening(id);
    packs.delete(id);
    packs.set(id, p);
    const at = position.get(id)!;
    for (let k = at + 1; k < Math.min(order.length, at + 1 + AHEAD); k++) if (!packs.has(order[k]!)) packs.set(order[k]!, opening(order[k]!));
    while (packs.size > KEPT) packs.delete(packs.keys().next().value!); // never the one asked for: KEPT > AHEAD
    return p;
  };
  let bytes = 0;
  const tables = (async function* () {
    for (const t of index.tables) {
      // Tables earlier snapshots held and a restore now rebuilds (snapshot-tables.ts): not read.
      if (REBUILT_TABLES.includes(t.table)) continue;
      const spec = snapshotSpec(t.table);
      if (spec === undefined) throw new LabkluisError('ERR_INVALID_INPUT', `the snapshot holds a table this version does not know: ${t.table}`);
      yield {
        spec,
        data: (async function* () {
          for (const mac of t.chunks) {
            const c = place.get(mac);
            if (c === undefined) throw new LabkluisError('ERR_INTEGRITY', 'the snapshot\'s index names a chunk its manifest does not place');
            const plain = await pack(c.object);
            if (c.offset + c.length > plain.length) throw new LabkluisError('ERR_INTEGRITY', `backup object ${c.object.slice(0, 16)}… is shorter than its manifest says`);
            bytes += c.length;
            watch.progress?.(bytes);
            yield plain.subarray(c.offset, c.offset + c.length);
          }
        })(),
      };
    }
  })();
  // Checked as the rows stream, so a mismatch fails the restore before it commits (nothing kept):
  // each table's row count against the manifest's, and the audit log's Merkle root, recomputed
  // from the restored entries themselves, against the one the signed manifest vouches for.
  let [size, frontier] = [0, [] as Buffer[]];
  const checked = (async function* () {
    for await (const t of decodeTables(tables)) {
      const expected = manifest.counts[t.spec.name];
      const leafAt = t.spec.name === 'audit_entries' ? t.spec.columns.findIndex((c) => c.name === 'leaf') : -1;
      yield {
        spec: t.spec,
        batches: (async function* () {
          let n = 0;
          for await (const batch of t.batches) {
            for (const row of batch) {
              if (leafAt >= 0) {
                frontier = frontierAppend(frontier, size, leafHash(row[leafAt] as Buffer));
                size += 1;
              }
              watch.row?.(t.spec.name, row);
            }
            n += batch.length;
            yield batch;
          }
          if (expected !== undefined && n !== expected) throw new LabkluisError('ERR_INTEGRITY', `the snapshot holds ${n} rows of ${t.spec.name}; its manifest says ${expected}`);
          if (leafAt >= 0 && (size !== manifest.audit.size || frontierRoot(frontier, size).toString('hex') !== manifest.audit.root)) {
            throw new LabkluisError('ERR_INTEGRITY', 'the snapshot\'s audit log does not match the checkpoint in its manifest');
          }
        })(),
      };
    }
  })();
  const rows = await store.restoreSnapshot(checked);
  if (rows.audit_entries === undefined) throw new LabkluisError('ERR_INTEGRITY', 'the snapshot holds no audit log');
  return { snapshot: manifest.snapshot, rows, bytes, audit: { size, root: frontierRoot(frontier, size).toString('hex') } };
}
