import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifierKeyString } from '../../audit/index.js';
import { createApp, createLogger } from '../../app.js';
import { writeNewConfig, type StoreConfig } from '../../config/index.js';
import { assertOutsideDataDir, createLocalKeyring } from '../../crypto/index.js';
import { LabkluisError, randomId, systemClock, systemRandom } from '../../kernel/index.js';
import type { Paths } from '../paths.js';

export interface InitOptions {
  readonly store: 'sqlite' | 'postgres';
  readonly pgUrl?: string;
  readonly origin?: string;
  /** Username of the first admin; default 'admin'. */
  readonly admin?: string;
  /** The URL people use to reach the server: the WebAuthn origin; default http://localhost:8080. */
  readonly publicUrl?: string;
}

export const VKEY_FILE = 'audit.vkey';

/**
 * Creates the data directory and the keyring. Refuses to overwrite either, and refuses a
 * keyring inside the data directory, before anything is written.
 */
export async function init(paths: Paths, opts: InitOptions, out: (line: string) => void): Promise<void> {
  assertOutsideDataDir(paths.keyringPath, paths.dataDir);
  if (existsSync(paths.keyringPath)) throw new LabkluisError('ERR_KEYRING', `a keyring already exists at ${paths.keyringPath}; refusing to overwrite it`);
  if (existsSync(paths.dataDir) && readdirSync(paths.dataDir).length > 0) {
    throw new LabkluisError('ERR_CONFIG', `the data directory ${paths.dataDir} is not empty; refusing to overwrite it`);
  }
  const pgUrl = opts.pgUrl ?? process.env.LABKLUIS_PG_URL;
  if (opts.store === 'postgres' && !pgUrl) throw new LabkluisError('ERR_CONFIG', 'postgres needs --pg-url or LABKLUIS_PG_URL');
  const origin = opts.origin ?? `labkluis.local/${randomId(systemRandom, 5)}`;
  if (!/^[a-z0-9.-]+\/[a-z0-9-]+$/.test(origin)) throw new LabkluisError('ERR_CONFIG', 'the origin looks like host/name (lowercase)');
  const store: StoreConfig = opts.store === 'sqlite'
    ? { kind: 'sqlite', file: 'labkluis.sqlite' }
    : { kind: 'postgres', ...(opts.pgUrl && !/:[^:@/]+@/.test(opts.pgUrl) ? { url: opts.pgUrl } : {}) };

  const kms = createLocalKeyring({ path: paths.keyringPath, dataDir: paths.dataDir, signerName: origin, random: systemRandom });
  const publicUrl = opts.publicUrl ?? 'http://localhost:8080';
  writeNewConfig(paths.dataDir, { format: 'labkluis-config/1', origin, store, publicUrl, createdAt: systemClock.now().toISOString() });
  const vkey = verifierKeyString(kms.auditSigner.name, kms.auditSigner.publicKey);
  writeFileSync(join(paths.dataDir, VKEY_FILE), `${vkey}\n`, { mode: 0o644 });

  const app = await createApp({
    dataDir: paths.dataDir, storeConfig: store, postgresUrl: pgUrl, kms, origin, publicUrl, clock: systemClock, random: systemRandom,
    logger: createLogger('warn'),
  });
  let enrolment: string;
  let expires: string;
  try {
    // No default password anywhere: the first admin sets theirs, with a passkey, through this link.
    const first = await app.accounts.firstAdmin(opts.admin ?? 'admin', { ip: 'local', userAgent: 'labkluis-cli init' });
    enrolment = `${app.publicUrl}/enrol#${first.secret}`;
    expires = first.expiresAt;
    await app.audit.checkpoint();
  } finally {
    await app.close();
  }
  out(`labkluis initialised (${opts.store})`);
  out(`  data directory  ${paths.dataDir}`);
  out(`  keyring         ${paths.keyringPath}   (keep it off this disk's backups; it is the only way to read the data)`);
  out(`  audit verifier  ${vkey}`);
  out(`  first admin     ${opts.admin ?? 'admin'}: open this one-time link to set a password and a passkey (valid until ${expires}):`);
  out(`                  ${enrolment}`);
  out('next: labkluis serve, then open the link above in a browser on this machine');
}
