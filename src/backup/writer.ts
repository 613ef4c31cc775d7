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
import { MANIFEST_FORMAT, manifestHash, signManifest, type Manifest, type ManifestChunk, type ManifestObject, type OpenedManifest } from './manifest.js';
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

/**
 * A snapshot as it comes out of packing, in order: each table's name, the steps its stream
 * gave (chunk MACs, sealed packs), its end with its rows; then the audit log's head.
 */
export type PackEvent =
  | { readonly kind: 'table'; readonly table: string }
  | { readonly kind: 'step'; readonly step: PackStep }
  | { readonly kind: 'tableEnd'; readonly rows: number }
  | { readonly kind: 'end'; readonly audit: { size: number; root: string } };

/** Packed snapshot events, with a call the writer makes after taking each step (its packs queued for writing), and a close. */
export interface PackedSnapshot {
  readonly backend: SnapshotSource['backend'];
  readonly encoding: RowEncoding;
  readonly events: AsyncIterable<PackEvent>;
  taken?(): void;
  close(): Promise<void>;
}

/** A source's tables through a packing, up to AHEAD pieces ahead of what the writer has taken. */
export function packSource(source: SnapshotSource, packing: Packing): PackedSnapshot {
  async function* events(): AsyncIterable<PackEvent> {
    const ahead: Promise<PackStep>[] = [];
    try {
      for await (const t of source.tables) {
        yield { kind: 'table', table: t.table };
        for await (const piece of t.data) {
          const step = packing.push(piece);
          step.catch(() => {}); // taken in order below; not unhandled meanwhile
          ahead.push(step);
          while (ahead.length > AHEAD) yield { kind: 'step', step: await ahead.shift()! };
        }
        while (ahead.length > 0) yield { kind: 'step', step: await ahead.shift()! };
        yield { kind: 'step', step: await packing.endTable() };
        yield { kind: 'tableEnd', rows: t.rows() };
      }
      yield { kind: 'step', step: await packing.finish() };
      yield { kind: 'end', audit: source.audit() };
    } finally {
      await Promise.allSettled(ahead);
    }
  }
  return { backend: source.backend, encoding: source.encoding, events: events(), close: () => packing.close() };
}

/** What the previous snapshot stored that the next may point at instead of storing again. */
export interface Reuse {
  /** By MAC: where each chunk lies. */
  readonly located: Map<string, ManifestChunk>;
  /** Stored size by object id. */
  readonly sizes: Map<string, number>;
}

/**
 * The first step of every write: the recipients and the MAC key checked (before any thread
 * starts: a bad key is the caller's mistake, said plainly), then, by MAC, where the previous
 * snapshot's chunks lie, while their packs are still at the target (a chunk whose pack has gone
 * is packed and stored afresh). Only while the recipients are the same: after a key is replaced
 * (lost, or in other hands) everything is sealed again, to the new keys only.
 */
export async function reusable(o: Pick<WriteOptions, 'previous' | 'recipients' | 'macKey' | 'target'>): Promise<Reuse> {
  new ObjectSealer(o.recipients, o.macKey); // throws for a bad recipient (ERR_CONFIG) or a MAC key of the wrong size
  const previous = o.previous?.manifest;
  const sameRecipients = previous !== undefined && [...previous.recipients].sort().join() === [...o.recipients].sort().join();
  const present = sameRecipients ? new Set(await o.target.listObjects()) : new Set<string>();
  const located = new Map<string, ManifestChunk>();
  for (const c of sameRecipients ? previous.chunks : []) if (present.has(c.object)) located.set(c.mac, c);
  return { located, sizes: new Map<string, number>(previous?.objects.map((x) => [x.id, x.size])) };
}

/** Writes a snapshot of `source`, packed where `o.packing` says (default: a worker thread). */
export async function writeSnapshot(source: SnapshotSource, o: WriteOptions): Promise<WriteSummary> {
  const reuse = await reusable(o);
  const packing = (o.packing ?? packInWorker)({ recipients: o.recipients, macKey: o.macKey, sizes: o.sizes, packSize: o.packSize, known: reuse.located.keys() });
  return writePacked(packSource(source, packing), reuse, o);
}

/** Writes packed snapshot events to the target: packs as they come, then the table of contents and the manifest. */
export async function writePacked(packed: PackedSnapshot, reuse: Reuse, o: WriteOptions): Promise<WriteSummary> {
  const sealer = new ObjectSealer(o.recipients, o.macKey);
  const { located, sizes } = reuse;
  const previous = o.previous?.manifest;
  const snapshot = randomId(o.random);
  const index: { table: string; rows: number; chunks: string[] }[] = [];
  const counts: Record<string, number> = {};
  let [read, written, writtenObjects, chunks, reused] = [0, 0, 0, 0, 0];
  let audit: { size: number; root: string } | null = null;
  const writing = new Set<Promise<void>>();
  let failed: unknown = null;
  try {
    let table: { table: string; macs: string[] } | null = null;
    for await (const e of packed.events) {
      if (e.kind === 'table') {
        table = { table: e.table, macs: [] };
      } else if (e.kind === 'step') {
        for (const pack of e.step.packs) {
          for (const c of pack.chunks) located.set(c.mac, { mac: c.mac, object: pack.id, offset: c.offset, length: c.length });
          sizes.set(pack.id, pack.bytes.length);
          // Packs are written a few at once (a target's writes wait on fsync or the network).
          const w = o.target.putObject(pack.id, pack.bytes).then((r) => {
            if (r === 'written') [written, writtenObjects] = [written + pack.bytes.length, writtenObjects + 1];
          }).catch((err: unknown) => void (failed ??= err));
          writing.add(w);
          void w.finally(() => writing.delete(w));
          while (writing.size >= WRITING) await Promise.race(writing);
        }
        if (failed !== null) throw failed; // a pack's write failed: stop now, not after reading everything
        table?.macs.push(...e.step.macs);
        [read, chunks, reused] = [read + e.step.bytes, chunks + e.step.macs.length, reused + e.step.reused];
        packed.taken?.();
        o.progress?.(read, written);
      } else if (e.kind === 'tableEnd') {
        if (table === null) throw new Error('a table ended that did not begin');
        index.push({ table: table.table, rows: e.rows, chunks: table.macs });
        counts[table.table] = e.rows;
        table = null;
      } else {
        audit = e.audit;
      }
    }
    await Promise.all(writing);
  } finally {
    // Nothing left running behind a failure: every write started has ended before this returns or throws.
    await Promise.allSettled(writing);
    await packed.close();
  }
  if (failed !== null) throw failed;
  if (audit === null) throw new Error('the snapshot ended without its audit head');

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
  const toc: SnapshotIndex = { snapshot, encoding: packed.encoding, tables: index };
  const sealedIndex = await sealer.seal(Buffer.from(JSON.stringify(toc), 'utf8'));
  if ((await o.target.putObject(sealedIndex.id, sealedIndex.bytes)) === 'written') [written, writtenObjects] = [written + sealedIndex.bytes.length, writtenObjects + 1];
  objects.set(sealedIndex.id, { id: sealedIndex.id, size: sealedIndex.bytes.length });
  const sequence = (previous?.sequence ?? 0) + 1;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT, snapshot, sequence, previous: o.previous?.hash ?? null, createdAt: o.clock.now().toISOString(),
    backend: packed.backend, recipients: [...o.recipients], index: sealedIndex.id,
    objects: [...objects.values()].sort((a, b) => a.id.localeCompare(b.id)),
    chunks: [...used.values()].sort((a, b) => a.mac.localeCompare(b.mac)),
    audit, counts,
  };
  const name = manifestName(sequence, snapshot);
  await o.target.putManifest(name, await signManifest(manifest, o.signer));
  return { manifest, hash: manifestHash(manifest), name, bytesRead: read, bytesWritten: written, objectsWritten: writtenObjects, chunks, chunksReused: reused };
}
