import { LabkluisError } from '../kernel/index.js';

/**
 * The export job's clock, as configuration with defaults (`exportPolicy` in the app options).
 * A request waits three days for a second person; once ready, the file waits a day for its
 * one download and is then deleted: long enough to hand over within a working day, short
 * enough that ciphertext for outside parties does not pile up in the database.
 */
export interface ExportPolicy {
  /** A request not approved or rejected within this expires. */
  readonly decisionSeconds: number;
  /** A ready export not downloaded within this expires (its ciphertext is deleted). */
  readonly downloadSeconds: number;
  /** A run not finished within this is failed as interrupted (its node stopped); also the grace for a broken-off download. */
  readonly staleRunSeconds: number;
  /** Ciphertext bytes per stored chunk. */
  readonly chunkBytes: number;
}

export const DEFAULT_EXPORT_POLICY: ExportPolicy = Object.freeze({
  decisionSeconds: 3 * 86_400,
  downloadSeconds: 86_400,
  staleRunSeconds: 6 * 3_600,
  chunkBytes: 1024 * 1024,
});

export function checkExportPolicy(p: ExportPolicy): ExportPolicy {
  const bad = (why: string) => new LabkluisError('ERR_CONFIG', `export policy: ${why}`);
  if (!Number.isInteger(p.decisionSeconds) || p.decisionSeconds < 60 || p.decisionSeconds > 30 * 86_400) throw bad('decisionSeconds is 60 s to 30 days');
  if (!Number.isInteger(p.downloadSeconds) || p.downloadSeconds < 60 || p.downloadSeconds > 7 * 86_400) throw bad('downloadSeconds is 60 s to 7 days');
  if (!Number.isInteger(p.staleRunSeconds) || p.staleRunSeconds < 300) throw bad('staleRunSeconds is at least 300');
  if (!Number.isInteger(p.chunkBytes) || p.chunkBytes < 64 * 1024 || p.chunkBytes > 8 * 1024 * 1024) throw bad('chunkBytes is 64 KiB to 8 MiB');
  return Object.freeze({ ...p });
}
