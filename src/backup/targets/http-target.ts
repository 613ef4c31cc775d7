/**
 * A backup receiver (receiver/receiver.ts) as a target: what production uses, with the upload
 * token only. It can add and read; it cannot remove or replace anything, whatever it sends.
 */
import { LabkluisError } from '../../kernel/index.js';
import { MANIFEST_NAME, OBJECT_NAME, type BackupTarget } from './target.js';

export class HttpTarget implements BackupTarget {
  readonly name: string;
  readonly #base: string;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#token = token;
    this.name = this.#base;
  }

  async putObject(id: string, bytes: Uint8Array): Promise<'written' | 'exists'> {
    if (!OBJECT_NAME.test(id)) throw new LabkluisError('ERR_INVALID_INPUT', 'an object is named by the SHA-256 of its bytes');
    return this.#put(`/v1/objects/${id}`, 'application/octet-stream', bytes);
  }

  async getObject(id: string): Promise<Buffer | null> {
    if (!OBJECT_NAME.test(id)) return null;
    const res = await this.#get(`/v1/objects/${id}`);
    return res === null ? null : Buffer.from(await res.arrayBuffer());
  }

  async listObjects(): Promise<string[]> {
    return this.#list('/v1/objects', 'objects');
  }

  async putManifest(name: string, note: string): Promise<'written' | 'exists'> {
    if (!MANIFEST_NAME.test(name)) throw new LabkluisError('ERR_INVALID_INPUT', 'a manifest is named <sequence>-<snapshot>');
    return this.#put(`/v1/manifests/${name}`, 'text/plain; charset=utf-8', Buffer.from(note, 'utf8'));
  }

  async getManifest(name: string): Promise<string | null> {
    return MANIFEST_NAME.test(name) ? (await this.#get(`/v1/manifests/${name}`))?.text() ?? null : null;
  }

  async listManifests(): Promise<string[]> {
    return this.#list('/v1/manifests', 'manifests');
  }

  async listPrunedManifests(): Promise<string[]> {
    return this.#list('/v1/pruned', 'manifests');
  }

  async getPrunedManifest(name: string): Promise<string | null> {
    return MANIFEST_NAME.test(name) ? (await this.#get(`/v1/pruned/${name}`))?.text() ?? null : null;
  }

  /** The answer to a GET, or null for a 404. */
  async #get(path: string): Promise<Response | null> {
    const res = await this.#fetch(path);
    if (res.status === 404) return null;
    await this.#ok(res);
    return res;
  }

  async #list(path: string, field: 'objects' | 'manifests'): Promise<string[]> {
    const res = (await this.#get(path))!;
    return ((await res.json()) as Record<string, string[]>)[field]!;
  }

  async #put(path: string, type: string, body: Uint8Array): Promise<'written' | 'exists'> {
    const res = await this.#fetch(path, { method: 'PUT', headers: { 'content-type': type }, body });
    if (res.status === 409) throw new LabkluisError('ERR_CONFLICT', `the receiver holds other bytes under ${path.split('/').pop()!.slice(0, 24)}…`);
    await this.#ok(res);
    return res.status === 201 ? 'written' : 'exists';
  }

  async #fetch(path: string, init: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<Response> {
    try {
      return await fetch(`${this.#base}${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${this.#token}` } });
    } catch {
      throw new LabkluisError('ERR_STORE', `the backup receiver at ${this.#base} did not answer`);
    }
  }

  async #ok(res: Response): Promise<void> {
    if (res.ok) return;
    const why = res.status === 401 ? 'refused the upload token' : `answered ${res.status}`;
    throw new LabkluisError(res.status === 401 ? 'ERR_UNAUTHENTICATED' : 'ERR_STORE', `the backup receiver ${why}`);
  }
}
