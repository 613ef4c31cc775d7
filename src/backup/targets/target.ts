/**
 * Where backups go (issue 5): a place that takes objects and manifests once and gives them back.
 * A target never overwrites and offers no delete: what a snapshot wrote stays until a prune
 * with the offline admin key (at the receiver), inside the retention floor never.
 */
export interface BackupTarget {
  /** 'dir:/path' or the receiver's URL: for messages. */
  readonly name: string;
  /**
   * Stores an object under its name, the SHA-256 (hex) of its bytes: 'exists' when those bytes
   * are there already. A name that is not the bytes' hash is ERR_INVALID_INPUT; other bytes
   * already under the name are ERR_CONFLICT (and stay).
   */
  putObject(id: string, bytes: Uint8Array): Promise<'written' | 'exists'>;
  /** The stored bytes as they are (null if absent): the caller checks them against the name. */
  getObject(id: string): Promise<Buffer | null>;
  listObjects(): Promise<string[]>;
  /** Stores a manifest note under `name` (`<sequence, 8 digits>-<snapshot id>`), once, as putObject. */
  putManifest(name: string, note: string): Promise<'written' | 'exists'>;
  getManifest(name: string): Promise<string | null>;
  /** Manifest names, in name order (so in sequence order). */
  listManifests(): Promise<string[]>;
  /**
   * Manifests of snapshots pruned at the receiver (their objects gone), kept so the chain
   * stays whole: verify checks them as links, not their objects. Absent: none pruned.
   */
  listPrunedManifests?(): Promise<string[]>;
  getPrunedManifest?(name: string): Promise<string | null>;
}

export const OBJECT_NAME = /^[0-9a-f]{64}$/;
export const MANIFEST_NAME = /^[0-9]{8}-[a-z2-7]{26}$/;

export function manifestName(sequence: number, snapshot: string): string {
  return `${String(sequence).padStart(8, '0')}-${snapshot}`;
}
