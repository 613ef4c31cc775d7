/**
 * Writes one snapshot to a target: each table's stream cut into content-defined chunks, the
 * chunks no earlier snapshot stored (known by their keyed MACs) gathered into packs sealed to
 * the offline recipients (packer.ts), each pack stored as one object; then the snapshot's table
 * of contents as one more sealed object, then the manifest, signed and chained to the previous
 * one, saying where each chunk lies. The manifest goes last: a snapshot without one does not
 * exist, whatever objects it left.
 */
import type { NoteSigner } from '../audit/index.js';
import { LabkluisError, randomId, type Clock, type Random } from '../kernel/index.js';
import type { ChunkSizes } from './chunker.js';
import { manifestHash, signManifest, type Manifest, type ManifestChunk, type ManifestObject, type OpenedManifest } from './manifest.js';
import { ObjectSealer } from './objects.js';
import { SnapshotPacker, type PackerOptions, type PackStep } from './packer.js';
import { packInWorker } from './pack-worker.js';
import type { RowEncoding } from './row-encoding.js';
import { manifestName, type BackupTarget } from './targets/target.js';

/** One table of the snapshot, as a byte stream (the store's export format) and its row count. */
export interface SnapshotTable {
  readonly table: string;
  /** Each piece is the writer's once yielded: it may move the piece's memory to another thread. */
  readonly data: AsyncIterable<Uint8Array>;
  /** Read once the stream has ended. */
  rows(): number;
}

export interface SnapshotSource {
  readonly backend: 'sqlite' | 'postgres';
  /** How the tables' rows are encoded (row-encoding.ts): the index names it for the restore. */
  readonly encoding: RowEncoding;
  readonly tables: AsyncIterable<SnapshotTable>;
  /** The audit log as the snapshot holds it (read once the tables have ended). */
  audit(): { size: number; root: string };
}

/** The table of contents, sealed like a pack: which chunks (by MAC), in order, make each table. */
export interface SnapshotIndex {
  readonly snapshot: string;
  readonly encoding: RowEncoding;
  readonly tables: readonly { readonly table: string; readonly rows: number; readonly chunks: readonly string[] /* chunk MACs */ }[];
}

/** Where chunks are cut and packed: in this thread, or in a worker's (pack-worker.ts). */
export interface Packing {
  push(piece: Uint8Array): Promise<PackStep>;
  endTable(): Promise<PackStep>;
  finish(): Promise<PackStep>;
  close(): Promise<void>;
}

export interface WriteOptions {
  readonly target: BackupTarget;
  readonly recipients: readonly string[];
  readonly macKey: Buffer;
  readonly signer: NoteSigner;
  /** The newest manifest at the target, opened with the backup key (null: the first snapshot). */
  readonly previous: OpenedManifest | null;
  readonly clock: Clock;
  readonly random: Random;
  readonly sizes?: ChunkSizes;
  /** Bytes of new chunks per pack (packer.ts). */
  readonly packSize?: number;
  /** Where chunks are cut and packed (default: a worker thread, packInWorker). */
  readonly packing?: (o: PackerOptions) => Packing;
  /** Called as the snapshot goes: bytes read so far, bytes written (new objects) so far. */
  readonly progress?: (read: number, written: number) => void;
}

export interface WriteSummary {
  readonly manifest: Manifest;
  readonly hash: string;
  readonly name: string;
  readonly bytesRead: number;
  /** Bytes of new objects stored (chunks the previous snapshot had are not stored again). */
  readonly bytesWritten: number;
  readonly objectsWritten: number;
  readonly chunks: number;
  /** Chunks stored before (by the previous snapshot, or earlier in this one). */
  readonly chunksReused: number;
}

/** Pieces handed to the packing whose packs have not been taken yet, and packs being written at once. */
const AHEAD = 8;
const WRITING = 4;

/** Packing in this thread. */
export function packHere(o: PackerOptions): Packing {
  const p = new SnapshotPacker(o);
  return { push: (x) => p.push(x), endTable: () => p.endTable(), finish: () => p.finish(), close: async () => {} };
}

export async function writeSnapshot(source: SnapshotSource, o: WriteOptions): Promise<WriteSummary> {
  // The recipients and the MAC key checked here, before any thread starts: a bad key is the caller's mistake, said plainly.
  const sealer = new ObjectSealer(o.recipients, o.macKey);
  // By MAC: where the previous snapshot's chunks lie, while their packs are still at the target
  // (a chunk whose pack has gone is packed and stored afresh). Only while the recipients are the
  // same: after a key is replaced (lost, or in other hands) everything is sealed again, to the new keys only.
  const previous = o.previous?.manifest;
  const sameRecipients = previous !== undefined && [...previous.recipients].sort().join() === [...o.recipients].sort().join();
  const present = sameRecipients ? new Set(await o.target.listObjects()) : new Set<string>();
  const located = new Map<string, ManifestChunk>();
  for (const c of sameRecipients ? previous.chunks : []) if (present.has(c.object)) located.set(c.mac, c);
  const sizes = new Map<string, number>(previous?.objects.map((x) => [x.id, x.size]));
  const snapshot = randomId(o.random);
  const index: { table: string; rows: number; chunks: string[] }[] = [];
  const counts: Record<string, number> = {};
  let [read, written, writtenObjects, chunks, reused] = [0, 0, 0, 0, 0];

  const packing = (o.packing ?? packInWorker)({ recipients: o.recipients, macKey: o.macKey, sizes: o.sizes, packSize: o.packSize, known: located.keys() });
  // Steps asked for and not yet taken, in order; packs being written (a target's writes wait on
  // fsync or the network). The packing works on the next pieces meanwhile.
  const ahead: { step: Promise<PackStep>; macs: string[] | null }[] = [];
  const writing = new Set<Promise<void>>();
  let failed: unknown = null;
  const take = async ({ step, macs }: { step: Promise<PackStep>; macs: string[] | null }): Promise<void> => {
    const s = await step;
    for (const pack of s.packs) {
      for (const c of pack.chunks) located.set(c.mac, { mac: c.mac, object: pack.id, offset: c.offset, length: c.length });
      sizes.set(pack.id, pack.bytes.length);
      const w = o.target.putObject(pack.id, pack.bytes).then((r) => {
        if (r === 'written') [written, writtenObjects] = [written + pack.bytes.length, writtenObjects + 1];
        o.progress?.(read, written);
      }, (e: unknown) => void (failed ??= e));
      writing.add(w);
      void w.finally(() => writing.delete(w));
      while (writing.size >= WRITING) await Promise.race(writing);
      if (failed !== null) throw failed;
    }
    macs?.push(...s.macs);
    chunks += s.macs.length;
    reused += s.reused;
    o.progress?.(read, written);
  };
  const ask = async (step: Promise<PackStep>, macs: string[] | null): Promise<void> => {
    step.catch(() => {}); // taken in order below; not unhandled meanwhile
    ahead.push({ step, macs });
    while (ahead.length > AHEAD) await take(ahead.shift()!);
  };

  try {
    for await (const t of source.tables) {
      const macs: string[] = [];
      for await (const piece of t.data) {
        read += piece.length;
        await ask(packing.push(piece), macs);
      }
      await ask(packing.endTable(), macs);
      index.push({ table: t.table, rows: t.rows(), chunks: macs });
      counts[t.table] = t.rows();
    }
    await ask(packing.finish(), null);
    while (ahead.length > 0) await take(ahead.shift()!);
  } finally {
    // Nothing left running behind a failure: every write started has ended before this returns or throws.
    await Promise.allSettled([...ahead.map((a) => a.step), ...writing]);
    await packing.close();
  }
  if (failed !== null) throw failed;

  // The manifest: every chunk the tables use, where it lies, and every object holding one.
  const used = new Map<string, ManifestChunk>();
  for (const t of index) {
    for (const mac of t.chunks) {
      const c = located.get(mac);
      if (c === undefined) throw new Error('a chunk of the snapshot was neither stored nor found stored');
      used.set(mac, c);
    }
  }
  const objects = new Map<string, ManifestObject>();
  for (const c of used.values()) if (!objects.has(c.object)) objects.set(c.object, { id: c.object, size: sizes.get(c.object)! });
  const toc: SnapshotIndex = { snapshot, encoding: source.encoding, tables: index };
  const sealedIndex = await sealer.seal(Buffer.from(JSON.stringify(toc), 'utf8'));
  if ((await o.target.putObject(sealedIndex.id, sealedIndex.bytes)) === 'written') [written, writtenObjects] = [written + sealedIndex.bytes.length, writtenObjects + 1];
  objects.set(sealedIndex.id, { id: sealedIndex.id, size: sealedIndex.bytes.length });
  const sequence = (previous?.sequence ?? 0) + 1;
  const manifest: Manifest = {
    format: 'labkluis-backup/2', snapshot, sequence, previous: o.previous?.hash ?? null, createdAt: o.clock.now().toISOString(),
    backend: source.backend, recipients: [...o.recipients], index: sealedIndex.id,
    objects: [...objects.values()].sort((a, b) => a.id.localeCompare(b.id)),
    chunks: [...used.values()].sort((a, b) => a.mac.localeCompare(b.mac)),
    audit: source.audit(), counts,
  };
  const name = manifestName(sequence, snapshot);
  await o.target.putManifest(name, await signManifest(manifest, o.signer));
  return { manifest, hash: manifestHash(manifest), name, bytesRead: read, bytesWritten: written, objectsWritten: writtenObjects, chunks, chunksReused: reused };
}
