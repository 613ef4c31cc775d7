/**
 * Backup manifests: signed by the backup key as a C2SP note, opened only with that key and
 * only in canonical form, and chained so that a missing, replaced or rolled-back snapshot is
 * named. Hashes and ids are random test values; no data.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519NoteSigner, signNote, verifierKeyString } from '../../src/audit/index.js';
import {
  checkChain, manifestHash, MANIFEST_FORMAT, openManifest, signManifest, type Manifest, type OpenedManifest,
} from '../../src/backup/manifest.js';
import { randomId, systemRandom } from '../../src/kernel/index.js';

const hex = () => randomBytes(32).toString('hex');
const signer = ed25519NoteSigner('backup.labkluis.test', generateKeyPairSync('ed25519').privateKey);
const vkey = verifierKeyString(signer.name, signer.publicKey);

function manifest(sequence: number, previous: string | null): Manifest {
  const [index, pack] = [hex(), hex()];
  return {
    format: MANIFEST_FORMAT, snapshot: randomId(systemRandom), sequence, previous, createdAt: '2026-11-23T06:00:00.000Z', backend: 'sqlite',
    recipients: ['age1examplerecipientonlyatest'], index, objects: [{ id: index, size: 300 }, { id: pack, size: 1234 }].sort((a, b) => a.id.localeCompare(b.id)),
    chunks: [{ mac: hex(), object: pack, offset: 0, length: 1000 }],
    audit: { size: 42, root: hex() }, counts: { clinical_resources: 10, identity_persons: 2 },
  };
}
function chain(n: number): { opened: OpenedManifest[] } {
  const opened: OpenedManifest[] = [];
  for (let i = 1; i <= n; i++) {
    const m = manifest(i, i === 1 ? null : opened[i - 2]!.hash);
    opened.push({ manifest: m, hash: manifestHash(m) });
  }
  return { opened };
}

describe('backup manifests', () => {
  it('open with the backup key to exactly what was signed, and hash as the next one names it', async () => {
    const m = manifest(1, null);
    const note = await signManifest(m, signer);
    const opened = openManifest(note, vkey);
    expect(opened.manifest).toEqual(m);
    expect(opened.hash).toBe(manifestHash(m));
    expect(opened.hash).toBe(createHash('sha256').update(note.slice(0, note.indexOf('\n') + 1)).digest('hex'));
  });

  it('refuse a changed byte, another key, and signed text that is not the canonical form', async () => {
    const m = manifest(1, null);
    const note = await signManifest(m, signer);
    const tampered = note.replace('"size":1234', '"size":1235');
    expect(() => openManifest(tampered, vkey)).toThrow(expect.objectContaining({ code: 'ERR_INTEGRITY' }));
    const other = ed25519NoteSigner('backup.labkluis.test', generateKeyPairSync('ed25519').privateKey);
    expect(() => openManifest(note, verifierKeyString(other.name, other.publicKey))).toThrow(expect.objectContaining({ code: 'ERR_INTEGRITY' }));
    // Signed by the right key, but not as labkluis writes it: extra spaces, or an unknown field.
    const spaced = await signNote(`${JSON.stringify(m, null, 1).replaceAll('\n', ' ')}\n`, signer);
    expect(() => openManifest(spaced, vkey)).toThrow(expect.objectContaining({ code: 'ERR_INTEGRITY' }));
    await expect(signManifest({ ...m, extra: 1 } as Manifest, signer)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(signManifest({ ...m, objects: [...m.objects, { id: 'nothex', size: 1 }] }, signer)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    // A chunk in an object the manifest does not list (verify would not check what a restore reads), or the index not listed.
    await expect(signManifest({ ...m, chunks: [{ ...m.chunks[0]!, object: hex() }] }, signer)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(signManifest({ ...m, index: hex() }, signer)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it('form a chain; a gap, a replaced manifest, a second of one sequence and a rollback are each named', () => {
    const { opened } = chain(4);
    expect(checkChain(opened)).toEqual([]);
    expect(checkChain([...opened].reverse())).toEqual([]); // order of listing does not matter
    expect(checkChain(opened, { sequence: 4, hash: opened[3]!.hash })).toEqual([]);

    const gap = checkChain([opened[0]!, opened[1]!, opened[3]!]);
    expect(gap).toEqual([{ snapshot: opened[3]!.manifest.snapshot, sequence: 4, problem: 'manifests 3..3 are missing' }]);

    const forged = manifest(3, hex()); // a third manifest that does not follow the second
    const replaced = checkChain([opened[0]!, opened[1]!, { manifest: forged, hash: manifestHash(forged) }, opened[3]!]);
    expect(replaced.map((p) => p.sequence)).toEqual([3, 4]);
    expect(replaced[0]!.problem).toMatch(/does not follow manifest 2/);

    expect(checkChain([...opened, { manifest: forged, hash: manifestHash(forged) }]).some((p) => /second manifest with sequence 3/.test(p.problem))).toBe(true);

    // The newest two deleted: only a record of the newest from elsewhere shows it.
    expect(checkChain(opened.slice(0, 2))).toEqual([]);
    expect(checkChain(opened.slice(0, 2), { sequence: 4, hash: opened[3]!.hash })[0]!.problem).toMatch(/rolled back/);
    expect(checkChain(opened, { sequence: 4, hash: hex() })[0]!.problem).toMatch(/not the manifest the newest known record names/);
    expect(checkChain(opened.slice(1))[0]!.problem).toBe('manifests 1..1 are missing');
  });
});
