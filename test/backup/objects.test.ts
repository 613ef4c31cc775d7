/**
 * Backup objects and the dir: target: chunks sealed to offline age recipients (X25519 and the
 * post-quantum hybrid) open only with their identities and only undamaged; the dir target
 * writes each object once, read-only, and never replaces one. Payloads are random bytes.
 */
import { randomBytes } from 'node:crypto';
import { stat, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRecipients, objectId, ObjectSealer, openObject } from '../../src/backup/objects.js';
import { DirTarget } from '../../src/backup/targets/dir-target.js';
import { manifestName } from '../../src/backup/targets/target.js';
import { createTempDir, type TempDir } from '../support/tmp.js';

describe('backup objects', () => {
  it('seal to X25519 and hybrid recipients; each identity opens them; the same chunk has the same MAC, not the same bytes', async () => {
    const [x, pq] = [await generateX25519Identity(), await generateHybridIdentity()];
    const sealer = new ObjectSealer([await identityToRecipient(x), await identityToRecipient(pq)], randomBytes(32));
    const chunk = randomBytes(70_000);
    const [a, b] = [await sealer.seal(chunk), await sealer.seal(chunk)];
    expect(sealer.mac(chunk)).toBe(sealer.mac(Buffer.from(chunk)));
    expect(sealer.mac(chunk)).not.toBe(new ObjectSealer([await identityToRecipient(x)], randomBytes(32)).mac(chunk)); // keyed
    expect(a.id).not.toBe(b.id); // a fresh file key each time
    expect(a.id).toBe(objectId(a.bytes));
    expect(a.bytes.includes(chunk.subarray(0, 32))).toBe(false);
    expect((await openObject(a.id, a.bytes, [x])).equals(chunk)).toBe(true);
    expect((await openObject(b.id, b.bytes, [pq])).equals(chunk)).toBe(true);
  });

  it('refuse a damaged object before decrypting, and an identity it was not sealed to', async () => {
    const x = await generateX25519Identity();
    const sealer = new ObjectSealer([await identityToRecipient(x)], randomBytes(32));
    const o = await sealer.seal(randomBytes(1000));
    const damaged = Buffer.from(o.bytes);
    damaged[damaged.length - 5]! ^= 1;
    await expect(openObject(o.id, damaged, [x])).rejects.toMatchObject({ code: 'ERR_INTEGRITY', message: expect.stringMatching(/damaged/) });
    await expect(openObject(o.id, o.bytes, [await generateX25519Identity()])).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
  });

  it('take only age public keys as recipients, each once, and a 32-byte MAC key', async () => {
    const r = await identityToRecipient(await generateX25519Identity());
    expect(checkRecipients([r])).toEqual([r]);
    for (const bad of [[], [r, r], ['AGE-SECRET-KEY-1QQQQ'], [`${r.slice(0, -1)}${r.endsWith('q') ? 'p' : 'q'}`], [42]]) {
      expect(() => checkRecipients(bad)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
    }
    expect(() => new ObjectSealer([r], randomBytes(16))).toThrow(TypeError);
  });
});

describe('the dir: target', () => {
  let tmp: TempDir;
  let target: DirTarget;
  beforeAll(async () => {
    tmp = await createTempDir('labkluis-backup-dir-');
    target = new DirTarget(join(tmp.path, 'backups'));
  });
  afterAll(() => tmp.cleanup());

  it('writes an object once, read-only, under the hash of its bytes, and gives it back', async () => {
    const bytes = randomBytes(5000);
    const id = objectId(bytes);
    expect(await target.putObject(id, bytes)).toBe('written');
    expect(await target.putObject(id, bytes)).toBe('exists');
    expect((await target.getObject(id))?.equals(bytes)).toBe(true);
    expect(await target.listObjects()).toContain(id);
    const mode = (await stat(join(tmp.path, 'backups', 'objects', id.slice(0, 2), id))).mode & 0o777;
    expect(mode & 0o222).toBe(0); // nobody may write it
    expect(await target.getObject('0'.repeat(64))).toBeNull();
  });

  it('refuses a name that is not the hash of the bytes, and never replaces what is there', async () => {
    const bytes = randomBytes(100);
    await expect(target.putObject(objectId(randomBytes(100)), bytes)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(target.putObject('../../etc/passwd', bytes)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    // Someone changed a stored object behind the target's back: a new put leaves it and says so.
    const id = objectId(bytes);
    await target.putObject(id, bytes);
    const path = join(tmp.path, 'backups', 'objects', id.slice(0, 2), id);
    await chmod(path, 0o644);
    await writeFile(path, randomBytes(100));
    await expect(target.putObject(id, bytes)).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    expect((await target.getObject(id))?.equals(bytes)).toBe(false);
  });

  it('keeps manifests once each, listed in sequence order', async () => {
    const [n2, n10] = [manifestName(2, 'a'.repeat(26)), manifestName(10, 'b'.repeat(26))];
    expect(n2).toBe(`00000002-${'a'.repeat(26)}`);
    expect(await target.putManifest(n10, 'ten\n')).toBe('written');
    expect(await target.putManifest(n2, 'two\n')).toBe('written');
    expect(await target.putManifest(n2, 'two\n')).toBe('exists');
    await expect(target.putManifest(n2, 'other\n')).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    await expect(target.putManifest('latest', 'x\n')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    expect(await target.listManifests()).toEqual([n2, n10]);
    expect(await target.getManifest(n2)).toBe('two\n');
  });
});
