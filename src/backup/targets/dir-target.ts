/**
 * The `dir:` target: a local or mounted directory. Each object and manifest is written once:
 * to a temporary file, fsynced, then linked to its name (a link never replaces an existing
 * file, so two writers cannot overwrite each other), the directory fsynced, and the file left
 * read-only. Nothing here deletes or rewrites. Whoever has write access to the directory
 * still can: against that, the receiver on another host, and `backup verify` names what
 * changed.
 *
 * Layout: objects/<first two hex digits>/<sha256>, manifests/<sequence>-<snapshot>.note, and at
 * a receiver pruned/<sequence>-<snapshot>.note (a pruned snapshot's manifest, kept as a link).
 */
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LabkluisError } from '../../kernel/index.js';
import { objectId } from '../objects.js';
import { MANIFEST_NAME, OBJECT_NAME, type BackupTarget } from './target.js';

export class DirTarget implements BackupTarget {
  readonly name: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.name = `dir:${root}`;
  }

  async putObject(id: string, bytes: Uint8Array): Promise<'written' | 'exists'> {
    if (!OBJECT_NAME.test(id) || objectId(bytes) !== id) throw new LabkluisError('ERR_INVALID_INPUT', 'an object is named by the SHA-256 of its bytes');
    return this.#writeOnce(join(this.#root, 'objects', id.slice(0, 2)), id, bytes);
  }

  async getObject(id: string): Promise<Buffer | null> {
    if (!OBJECT_NAME.test(id)) return null;
    return readOrNull(join(this.#root, 'objects', id.slice(0, 2), id));
  }

  async listObjects(): Promise<string[]> {
    const out: string[] = [];
    for (const dir of await listOrEmpty(join(this.#root, 'objects'))) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const f of await listOrEmpty(join(this.#root, 'objects', dir))) if (OBJECT_NAME.test(f) && f.startsWith(dir)) out.push(f);
    }
    return out.sort();
  }

  async putManifest(name: string, note: string): Promise<'written' | 'exists'> {
    if (!MANIFEST_NAME.test(name)) throw new LabkluisError('ERR_INVALID_INPUT', 'a manifest is named <sequence>-<snapshot>');
    return this.#writeOnce(join(this.#root, 'manifests'), `${name}.note`, Buffer.from(note, 'utf8'));
  }

  async getManifest(name: string): Promise<string | null> {
    if (!MANIFEST_NAME.test(name)) return null;
    return (await readOrNull(join(this.#root, 'manifests', `${name}.note`)))?.toString('utf8') ?? null;
  }

  async listManifests(): Promise<string[]> {
    return (await listOrEmpty(join(this.#root, 'manifests')))
      .filter((f) => f.endsWith('.note') && MANIFEST_NAME.test(f.slice(0, -5))).map((f) => f.slice(0, -5)).sort();
  }

  async listPrunedManifests(): Promise<string[]> {
    return (await listOrEmpty(join(this.#root, 'pruned')))
      .filter((f) => f.endsWith('.note') && MANIFEST_NAME.test(f.slice(0, -5))).map((f) => f.slice(0, -5)).sort();
  }

  async getPrunedManifest(name: string): Promise<string | null> {
    if (!MANIFEST_NAME.test(name)) return null;
    return (await readOrNull(join(this.#root, 'pruned', `${name}.note`)))?.toString('utf8') ?? null;
  }

  async #writeOnce(dir: string, file: string, bytes: Uint8Array): Promise<'written' | 'exists'> {
    const final = join(dir, file);
    const existing = await readOrNull(final);
    if (existing !== null) return same(existing, bytes, file);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${file}.${randomBytes(6).toString('hex')}.tmp`);
    const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o444);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(temp, final);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return same((await readOrNull(final))!, bytes, file); // another writer was first
    } finally {
      await unlink(temp).catch(() => {});
    }
    const dh = await open(dir, constants.O_RDONLY);
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    return 'written';
  }
}

function same(existing: Buffer, bytes: Uint8Array, file: string): 'exists' {
  if (!existing.equals(bytes)) throw new LabkluisError('ERR_CONFLICT', `the target already holds other bytes under ${file.slice(0, 24)}…; left as it is (backup verify names it)`);
  return 'exists';
}

async function readOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function listOrEmpty(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
