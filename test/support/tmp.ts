/**
 * A private temporary directory per test file, removed afterwards. mkdtemp gives a fresh,
 * unpredictable name with 0700 permissions, so parallel workers never share a store file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  readonly path: string;
  /** A path inside the directory (the file itself is not created). */
  file(name: string): string;
  cleanup(): Promise<void>;
}

export async function createTempDir(prefix = 'labkluis-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    file: (name: string) => join(path, name),
    cleanup: () => rm(path, { recursive: true, force: true }),
  };
}
