import { resolve } from 'node:path';

/** Where the data directory and keyring are: flag, then environment, then the local default. */
export interface Paths {
  readonly dataDir: string;
  readonly keyringPath: string;
}

export interface PathOptions {
  readonly data?: string;
  readonly keyring?: string;
}

export const DEFAULT_DATA = '.labkluis/data';
export const DEFAULT_KEYRING = '.labkluis/keyring/keyring.json';

export function resolvePaths(opts: PathOptions, env: NodeJS.ProcessEnv = process.env): Paths {
  return {
    dataDir: resolve(opts.data ?? env.LABKLUIS_DATA ?? DEFAULT_DATA),
    keyringPath: resolve(opts.keyring ?? env.LABKLUIS_KEYRING ?? DEFAULT_KEYRING),
  };
}
