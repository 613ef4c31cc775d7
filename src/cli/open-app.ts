import { createApp, createLogger, type App } from '../app.js';
import { readConfig } from '../config/index.js';
import { loadLocalKeyring } from '../crypto/index.js';
import { systemClock, systemRandom } from '../kernel/index.js';
import type { Paths } from './paths.js';

/** Opens an initialised vault for a CLI command. Logs go to stderr so stdout stays for results. */
export async function openApp(paths: Paths, options: { logLevel?: string; node?: string } = {}): Promise<App> {
  const config = readConfig(paths.dataDir);
  const kms = loadLocalKeyring({ path: paths.keyringPath, dataDir: paths.dataDir, random: systemRandom });
  const logger = createLogger(options.logLevel ?? process.env.LABKLUIS_LOG_LEVEL ?? 'warn');
  return createApp({
    dataDir: paths.dataDir,
    storeConfig: config.store,
    postgresUrl: process.env.LABKLUIS_PG_URL,
    kms,
    origin: config.origin,
    publicUrl: process.env.LABKLUIS_PUBLIC_URL ?? config.publicUrl ?? 'http://localhost:8080',
    clock: systemClock,
    random: systemRandom,
    logger,
    ...(options.node ? { node: options.node } : {}),
  });
}
