/**
 * Writing snapshots to the dir: target and verifying them without the decryption key. The
 * source is a synthetic stream per table (random hex rows, no records); the store's own
 * snapshot export is not built yet. Shows: a second snapshot after a small change writes
 * little; the chain and every object verify; a flipped byte, a deleted object, a forged or
 * deleted manifest are each named; with the offline identity the tables come back byte for byte.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519NoteSigner, verifierKeyString } from '../../src/audit/index.js';
import {
  DirTarget, manifestName, openManifest, openObject, type ChunkSizes, type OpenedManifest, type WriteSummary,
} from '../../src/backup/index.js';
import { verifyTarget } from '../../src/backup/verify.js';
import { packInWorker } from '../../src/backup/pack-worker.js';
import { packHere, writeSnapshot, type SnapshotIndex, type SnapshotSource } from '../../src/backup/writer.js';
import { ManualClock, systemRandom } from '../../src/kernel/index.js';
import { createTempDir, type TempDir } from '../support/tmp.js';

const SIZES: ChunkSizes = { min: 1024, avg: 4096, max: 16384 };
/** Small packs: the snapshots below make dozens. */
const PACK = 64 * 1024;
const signer = ed25519NoteSigner('backup.labkluis.test', generateKeyPairSync('ed25519').privateKey);
const vkey = verifierKeyString(signer.name, signer.publicKey);

/** Synthetic tables: rows of random hex, one per line. */
function tablesOf(rows: Record<string, string[]>): SnapshotSource {
  return {
    backend: 'sqlite',
    encoding: 'rows/2', // (never decoded here)
    tables: (async function* () {
      for (const [table, lines] of Object.entries(rows)) {
        yield {
          table,
          data: (async function* () {
            for (let i = 0; i < lines.length; i += 50) yield Buffer.from(lines.slice(i, i + 50).join(''), 'utf8');
          })(),
          rows: () => lines.length,
        };
      }
    })(),
    audit: () => ({ size: 7, root: 'ab'.repeat(32) }),
  };
}
const row = () => `${randomBytes(60).toString('hex')}\n`;

describe('writing and verifying snapshots (dir: target)', () => {
  let tmp: TempDir;
  let target: DirTarget;
  let identity: string;
  let recipient: string;
  const macKey = randomBytes(32);
  const clock = new ManualClock('2026-11-23T02:00:00Z');
  const data: Record<string, string[]> = { clinical_resources: Array.from({ length: 20_000 }, row), identity_persons: Array.from({ length: 3_000 }, row) };
  const opened: OpenedManifest[] = [];
  const write = async () => {
    const previous = opened[opened.length - 1] ?? null;
    const s = await writeSnapshot(tablesOf(data), { target, recipients: [recipient], macKey, signer, previous, clock, random: systemRandom, sizes: SIZES, packSize: PACK });
    opened.push(openManifest((await target.getManifest(s.name))!, vkey));
    clock.advance(86_400_000);
    return s;
  };

  beforeAll(async () => {
    tmp = await createTempDir('labkluis-snapshot-');
    target = new DirTarget(join(tmp.path, 'backups'));
    identity = await generateX25519Identity();
    recipient = await identityToRecipient(identity);
  });
  afterAll(() => tmp.cleanup());

  it('writes a first snapshot whole, and after a 1% change (new rows, a few changed) less than 5% of it', async () => {
    const full = await write();
    expect(full.manifest.sequence).toBe(1);
    expect(full.chunksReused).toBe(0);
    expect(full.bytesWritten).toBeGreaterThan(full.bytesRead); // every chunk, sealed
    expect(full.objectsWritten).toBeGreaterThan(full.bytesRead / PACK - 1); // packs of about PACK bytes, and the index
    expect(full.objectsWritten).toBeLessThan(full.chunks / 4); // not one object per chunk
    expect(full.manifest.counts).toEqual({ clinical_resources: 20_000, identity_persons: 3_000 });
    // 1%: 230 new rows at the end of their tables, and ten rows changed here and there.
    data.clinical_resources!.push(...Array.from({ length: 200 }, row));
    data.identity_persons!.push(...Array.from({ length: 30 }, row));
    for (let i = 0; i < 10; i++) data.clinical_resources![1_000 + i * 1_900] = row();
    const next = await write();
    expect(next.manifest.sequence).toBe(2);
    expect(next.manifest.previous).toBe(opened[0]!.hash);
    expect(next.chunksReused).toBeGreaterThan(0.9 * next.chunks);
    // Packs only: each snapshot's table of contents (a list of every chunk's MAC, a large share of the
    // data here with these tiny chunks, a small one with the real ones) is new every time.
    const packBytes = (s: WriteSummary) => s.bytesWritten - s.manifest.objects.find((o) => o.id === s.manifest.index)!.size;
    expect(packBytes(next) / packBytes(full)).toBeLessThan(0.05);
    // Its manifest places old chunks in the first snapshot's packs, and lists those packs.
    expect(next.manifest.objects.filter((o) => opened[0]!.manifest.objects.some((x) => x.id === o.id)).length).toBeGreaterThan(0);
    const unchanged = await write(); // nothing changed: only the table of contents is new
    expect(unchanged.objectsWritten).toBe(1);
    expect(unchanged.chunksReused).toBe(unchanged.chunks);
  });

  it('brings every table back, byte for byte, with the offline identity', async () => {
    const m = opened[opened.length - 1]!.manifest;
    const open = async (id: string) => openObject(id, (await target.getObject(id))!, [identity]);
    const index = JSON.parse((await open(m.index)).toString('utf8')) as SnapshotIndex;
    expect(index.snapshot).toBe(m.snapshot);
    const place = new Map(m.chunks.map((c) => [c.mac, c]));
    for (const t of index.tables) {
      const bytes = Buffer.concat(await Promise.all(t.chunks.map(async (mac) => {
        const c = place.get(mac)!;
        return (await open(c.object)).subarray(c.offset, c.offset + c.length);
      })));
      expect(bytes.toString('utf8')).toBe(data[t.table]!.join(''));
      expect(t.rows).toBe(data[t.table]!.length);
    }
  });

  it('verifies the chain and every object without the decryption key, and names what was damaged, deleted or forged', async () => {
    const clean = await verifyTarget(target, vkey, { readData: 1, random: systemRandom, newest: { sequence: 3, hash: opened[2]!.hash } });
    expect(clean.ok).toBe(true);
    expect(clean.manifests).toBe(3);
    expect(clean.objectsRead).toBe(clean.objects);

    // A flipped byte in one stored pack of the first snapshot.
    const victim = opened[0]!.manifest.objects.find((x) => x.id !== opened[0]!.manifest.index && !opened[2]!.manifest.objects.some((y) => y.id === x.id))
      ?? opened[0]!.manifest.objects[0]!;
    const path = join(tmp.path, 'backups', 'objects', victim.id.slice(0, 2), victim.id);
    const bytes = await readFile(path);
    bytes[bytes.length >> 1]! ^= 0x01;
    await chmod(path, 0o644);
    await writeFile(path, bytes);
    const damaged = await verifyTarget(target, vkey, { readData: 1, random: systemRandom });
    expect(damaged.ok).toBe(false);
    expect(damaged.damaged.map((d) => d.id)).toEqual([victim.id]);
    expect(damaged.damaged[0]!.sequences).toContain(1);
    // Presence only (no data read) does not see a flipped byte; a deleted object it does.
    expect((await verifyTarget(target, vkey, { readData: 0, random: systemRandom })).ok).toBe(true);
    const gone = opened[2]!.manifest.index;
    await rm(join(tmp.path, 'backups', 'objects', gone.slice(0, 2), gone));
    const missing = await verifyTarget(target, vkey, { readData: 0, random: systemRandom });
    expect(missing.missing).toEqual([{ id: gone, sequences: [3] }]);

    // A manifest signed by another key, and the newest deleted (a rollback).
    const forgedName = manifestName(4, 'f'.repeat(26));
    await target.putManifest(forgedName, (await target.getManifest(manifestName(3, opened[2]!.manifest.snapshot)))!.replace(/— .*\n$/, '— backup.labkluis.test AAAA\n'));
    const m3 = join(tmp.path, 'backups', 'manifests', `${manifestName(3, opened[2]!.manifest.snapshot)}.note`);
    await rm(m3);
    const rolled = await verifyTarget(target, vkey, { readData: 0, random: systemRandom, newest: { sequence: 3, hash: opened[2]!.hash } });
    expect(rolled.badManifests.map((b) => b.name)).toEqual([forgedName]);
    expect(rolled.chain.some((p) => /rolled back/.test(p.problem))).toBe(true);
  });
  it('packs in a worker thread (the default) exactly as in the writer\'s own: the same chunks in the same places', async () => {
    const o = { recipients: [recipient], macKey, signer, previous: null, clock, random: systemRandom, sizes: SIZES, packSize: PACK };
    const here = await writeSnapshot(tablesOf(data), { ...o, target: new DirTarget(join(tmp.path, 'packed-here')), packing: packHere });
    const there = await writeSnapshot(tablesOf(data), { ...o, target: new DirTarget(join(tmp.path, 'packed-there')), packing: packInWorker });
    const places = (s: WriteSummary) => {
      const order = new Map(s.manifest.objects.map((x) => [x.id, x.size])); // packs differ only in their sealing (fresh age keys)
      return s.manifest.chunks.map((c) => [c.mac, c.offset, c.length, order.get(c.object)! > 0]);
    };
    expect(places(there)).toEqual(places(here));
    expect(there.manifest.chunks.length).toBeGreaterThan(100);
    expect([there.objectsWritten, there.chunks, there.bytesRead]).toEqual([here.objectsWritten, here.chunks, here.bytesRead]);
  });

  it('fails whole when the packing thread fails: an error that says why, and no manifest', async () => {
    const dir = new DirTarget(join(tmp.path, 'packing-fails'));
    await expect(writeSnapshot(tablesOf(data), {
      target: dir, recipients: [recipient], macKey, signer, previous: null, clock, random: systemRandom, sizes: SIZES, packSize: 0, packing: packInWorker,
    })).rejects.toThrow(/pack size/);
    expect(await dir.listManifests()).toEqual([]);
  });

  it('seals every chunk again when the recipients change (a key lost or in other hands keeps nothing new)', async () => {
    const fresh = await generateX25519Identity();
    const s = await writeSnapshot(tablesOf(data), {
      target, recipients: [await identityToRecipient(fresh)], macKey, signer, previous: opened.at(-1)!, clock, random: systemRandom, sizes: SIZES,
    });
    expect(s.chunksReused).toBe(0);
    await expect(openObject(s.manifest.objects[0]!.id, (await target.getObject(s.manifest.objects[0]!.id))!, [identity])).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    expect((await openObject(s.manifest.index, (await target.getObject(s.manifest.index))!, [fresh])).length).toBeGreaterThan(0);
    opened.push(openManifest((await target.getManifest(s.name))!, vkey));
  });
});
