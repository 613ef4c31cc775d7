/**
 * `backup verify` (issue 5): checks a target without the decryption key. Every manifest's
 * signature with the backup key and its place in the chain; that every object a manifest names
 * is there; and, for all objects or a random share of them (as restic's --read-data-subset),
 * that the stored bytes still hash to the object's name. Each damaged or missing object is
 * named with the snapshots that need it.
 */
import type { VerifierKey } from '../audit/index.js';
import type { Random } from '../kernel/index.js';
import { checkChain, openManifest, type ChainProblem, type OpenedManifest } from './manifest.js';
import { objectId } from './objects.js';
import { manifestName, type BackupTarget } from './targets/target.js';

export interface VerifyOptions {
  /** Share of the objects whose bytes are read and hashed: 1 all, 0 none (presence only). */
  readonly readData: number;
  readonly random: Random;
  /** The newest manifest known from elsewhere (production's record, the last drill): catches a rollback. */
  readonly newest?: { sequence: number; hash: string };
}

export interface ObjectProblem {
  readonly id: string;
  /** Snapshots (by sequence) that need it. */
  readonly sequences: readonly number[];
}

export interface VerifyReport {
  readonly target: string;
  readonly manifests: number;
  readonly badManifests: readonly { readonly name: string; readonly problem: string }[];
  readonly chain: readonly ChainProblem[];
  readonly objects: number;
  readonly objectsRead: number;
  readonly bytesRead: number;
  readonly missing: readonly ObjectProblem[];
  readonly damaged: readonly ObjectProblem[];
  readonly ok: boolean;
  /** The manifests that verified with the backup key, pruned links included, by sequence. */
  readonly opened: readonly OpenedManifest[];
}

export async function verifyTarget(target: BackupTarget, key: string | VerifierKey, o: VerifyOptions): Promise<VerifyReport> {
  if (!(o.readData >= 0 && o.readData <= 1)) throw new RangeError('readData is a share from 0 to 1');
  const badManifests: { name: string; problem: string }[] = [];
  const opened: OpenedManifest[] = [];
  for (const name of await target.listManifests()) {
    const note = await target.getManifest(name);
    try {
      if (note === null) throw new Error('listed but not there');
      const m = openManifest(note, key);
      if (manifestName(m.manifest.sequence, m.manifest.snapshot) !== name) throw new Error('its name does not match its sequence and snapshot');
      opened.push(m);
    } catch (e) {
      badManifests.push({ name, problem: e instanceof Error ? e.message : 'unreadable' });
    }
  }
  // Pruned snapshots' manifests: links of the chain whose objects are gone on purpose.
  const links: OpenedManifest[] = [];
  for (const name of (await target.listPrunedManifests?.()) ?? []) {
    const note = await target.getPrunedManifest?.(name);
    try {
      if (note === null || note === undefined) throw new Error('listed but not there');
      const m = openManifest(note, key);
      if (manifestName(m.manifest.sequence, m.manifest.snapshot) !== name) throw new Error('its name does not match its sequence and snapshot');
      links.push(m);
    } catch (e) {
      badManifests.push({ name: `pruned/${name}`, problem: e instanceof Error ? e.message : 'unreadable' });
    }
  }
  // Every object a manifest names (its packs and its table of contents), with who needs it.
  const needed = new Map<string, number[]>();
  for (const { manifest: m } of opened) {
    for (const id of [m.index, ...m.objects.map((x) => x.id)]) needed.set(id, [...(needed.get(id) ?? []), m.sequence]);
  }
  const present = new Set(await target.listObjects());
  const missing: ObjectProblem[] = [];
  const toRead: string[] = [];
  for (const [id, sequences] of needed) {
    if (!present.has(id)) missing.push({ id, sequences: unique(sequences) });
    else if (o.readData >= 1 || (o.readData > 0 && o.random.bytes(4).readUInt32BE(0) / 0x1_0000_0000 < o.readData)) toRead.push(id);
  }
  const damaged: ObjectProblem[] = [];
  let bytesRead = 0;
  for (const id of toRead) {
    const bytes = await target.getObject(id);
    if (bytes === null) {
      missing.push({ id, sequences: unique(needed.get(id)!) });
      continue;
    }
    bytesRead += bytes.length;
    if (objectId(bytes) !== id) damaged.push({ id, sequences: unique(needed.get(id)!) });
  }
  const chain = checkChain([...links, ...opened], o.newest);
  return {
    target: target.name, manifests: opened.length, badManifests, chain, objects: needed.size, objectsRead: toRead.length, bytesRead,
    missing: missing.sort(byId), damaged: damaged.sort(byId),
    opened: [...links, ...opened].sort((a, b) => a.manifest.sequence - b.manifest.sequence),
    ok: badManifests.length === 0 && chain.length === 0 && missing.length === 0 && damaged.length === 0,
  };
}

const unique = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);
const byId = (a: ObjectProblem, b: ObjectProblem): number => a.id.localeCompare(b.id);
