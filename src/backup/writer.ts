/**
 * Writes one snapshot to a target: each table's stream cut into content-defined chunks, each
 * chunk sealed to the offline recipients and stored once (a chunk the previous snapshot already
 * stored, known by its MAC, is not written again), then the snapshot's table of contents as
 * one more sealed object, then the manifest, signed and chained to the previous one. The
 * manifest goes last: a snapshot without one does not exist, whatever objects it left.
 */
import type { NoteSigner } from '../audit/index.js';
import { randomId, type Clock, type Random } from '../kernel/index.js';
import { Chunker, DEFAULT_CHUNK_SIZES, type ChunkSizes } from './chunker.js';
import { manifestHash, signManifest, type Manifest, type ManifestObject, type OpenedManifest } from './manifest.js';
import { ObjectSealer } from './objects.js';
import { manifestName, type BackupTarget } from './targets/target.js';

/** One table of the snapshot, as a byte stream (the store's export format) and its row count. */
export interface SnapshotTable {
  readonly table: string;
  readonly data: AsyncIterable<Uint8Array>;
  /** Read once the stream has ended. */
  rows(): number;
}

export interface SnapshotSource {
  readonly backend: 'sqlite' | 'postgres';
  readonly tables: AsyncIterable<SnapshotTable>;
  /** The audit log as the snapshot holds it (read once the tables have ended). */
  audit(): { size: number; root: string };
}

/** The table of contents, sealed like a chunk: which chunks, in order, make each table. */
export interface SnapshotIndex {
  readonly snapshot: string;
  readonly tables: readonly { readonly table: string; readonly rows: number; readonly chunks: readonly string[] /* object ids */ }[];
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
  /** Called after each chunk: bytes read so far, bytes written (new objects) so far. */
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
  readonly objectsReused: number;
}

/** Chunks sealed and written at once. */
const IN_FLIGHT = 8;

export async function writeSnapshot(source: SnapshotSource, o: WriteOptions): Promise<WriteSummary> {
  const sealer = new ObjectSealer(o.recipients, o.macKey);
  // By MAC: what the previous snapshot stored and the target still has (a chunk whose object
  // has gone is sealed and stored afresh). Only while the recipients are the same: after a key
  // is replaced (lost, or in other hands) every chunk is sealed again, to the new keys only.
  const sameRecipients = o.previous !== null && [...o.previous.manifest.recipients].sort().join() === [...o.recipients].sort().join();
  const present = sameRecipients ? new Set(await o.target.listObjects()) : new Set<string>();
  const known = new Map<string, ManifestObject>();
  for (const obj of sameRecipients ? o.previous!.manifest.objects : []) if (present.has(obj.id)) known.set(obj.mac, obj);
  const snapshot = randomId(o.random);
  const objects = new Map<string, ManifestObject>(); // by object id
  const index: { table: string; rows: number; chunks: string[] }[] = [];
  const counts: Record<string, number> = {};
  let [read, written, writtenObjects, reused] = [0, 0, 0, 0];

  // A chunk being sealed and written, by MAC: a repeat within this snapshot waits for it.
  const storing = new Map<string, Promise<ManifestObject>>();
  const store = (plaintext: Uint8Array): Promise<string> => {
    read += plaintext.length;
    const mac = sealer.mac(plaintext);
    const before = known.get(mac);
    if (before !== undefined) {
      objects.set(before.id, before);
      reused += 1;
      o.progress?.(read, written);
      return Promise.resolve(before.id);
    }
    let pending = storing.get(mac);
    if (pending !== undefined) reused += 1; // the same chunk again, while its first copy is being written
    if (pending === undefined) {
      pending = (async () => {
        const sealed = await sealer.seal(plaintext, mac);
        if ((await o.target.putObject(sealed.id, sealed.bytes)) === 'written') {
          written += sealed.bytes.length;
          writtenObjects += 1;
        }
        const entry = { id: sealed.id, size: sealed.bytes.length, mac };
        objects.set(entry.id, entry);
        known.set(mac, entry); // a chunk repeated within this snapshot is stored once
        o.progress?.(read, written);
        return entry;
      })();
      storing.set(mac, pending);
    }
    return pending.then((e) => e.id);
  };
  // Up to IN_FLIGHT chunks are sealed and written at once (a target's writes wait on fsync or
  // the network); their ids are kept in the table's order.
  const inFlight: Promise<string>[] = [];
  let failed: unknown = null;
  const queue = async (chunks: string[], plaintext: Uint8Array): Promise<void> => {
    const p = store(plaintext);
    p.catch((e: unknown) => (failed ??= e));
    inFlight.push(p);
    if (inFlight.length >= IN_FLIGHT) chunks.push(await inFlight.shift()!);
  };
  const drain = async (chunks: string[]): Promise<void> => {
    while (inFlight.length > 0) chunks.push(await inFlight.shift()!);
  };

  try {
    for await (const t of source.tables) {
      const chunker = new Chunker(o.sizes ?? DEFAULT_CHUNK_SIZES);
      const chunks: string[] = [];
      for await (const piece of t.data) for (const c of chunker.push(piece)) await queue(chunks, c);
      for (const c of chunker.end()) await queue(chunks, c);
      await drain(chunks);
      index.push({ table: t.table, rows: t.rows(), chunks });
      counts[t.table] = t.rows();
    }
  } finally {
    // Nothing left running behind a failure: every write started has ended before this returns or throws.
    await Promise.allSettled(inFlight);
  }
  if (failed !== null) throw failed;
  const toc: SnapshotIndex = { snapshot, tables: index };
  const indexId = await store(Buffer.from(JSON.stringify(toc), 'utf8'));
  const sequence = (o.previous?.manifest.sequence ?? 0) + 1;
  const manifest: Manifest = {
    format: 'labkluis-backup/1', snapshot, sequence, previous: o.previous?.hash ?? null, createdAt: o.clock.now().toISOString(),
    backend: source.backend, recipients: [...o.recipients], index: indexId,
    objects: [...objects.values()].sort((a, b) => a.id.localeCompare(b.id)), audit: source.audit(), counts,
  };
  const name = manifestName(sequence, snapshot);
  await o.target.putManifest(name, await signManifest(manifest, o.signer));
  return { manifest, hash: manifestHash(manifest), name, bytesRead: read, bytesWritten: written, objectsWritten: writtenObjects, objectsReused: reused };
}
