import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifierKeyString } from '../../audit/index.js';
import { openManifest, restoreFromTarget } from '../../backup/index.js';
import { openStore } from '../../app.js';
import { writeNewConfig, type StoreConfig } from '../../config/index.js';
import { loadLocalKeyring } from '../../crypto/index.js';
import { LabkluisError, systemClock, systemRandom } from '../../kernel/index.js';
import type { Store } from '../../store/index.js';
import type { Paths } from '../paths.js';
import { backupKey, targetOf } from './backup.js';
import { VKEY_FILE } from './init.js';
import { auditOperatorAction } from '../operator.js';
import { openApp } from '../open-app.js';
import { readIdentityFile } from '../input-files.js';

export interface RestoreOptions {
  readonly from: string;
  readonly identity: string;
  /** The snapshot's sequence number; default the newest. */
  readonly snapshot?: number;
  readonly store: 'sqlite' | 'postgres';
  readonly pgUrl?: string;
}

/**
 * `labkluis restore`: a snapshot from a target into a new data directory with an empty store
 * of either backend, with the offline identity and the vault's keyring (recovered from escrow
 * where the original is gone). Checks the manifest's signature with the keyring's backup key,
 * then restores all or nothing and checks the rows and the audit root against the manifest.
 */
export async function restore(paths: Paths, o: RestoreOptions, out: (line: string) => void): Promise<void> {
  const kms = loadLocalKeyring({ path: paths.keyringPath, dataDir: paths.dataDir, random: systemRandom });
  if (existsSync(paths.dataDir) && readdirSync(paths.dataDir).length > 0) {
    throw new LabkluisError('ERR_CONFIG', `the data directory ${paths.dataDir} is not empty; restore makes a new one`);
  }
  const pgUrl = o.pgUrl ?? process.env.LABKLUIS_PG_URL;
  if (o.store === 'postgres' && !pgUrl) throw new LabkluisError('ERR_CONFIG', 'postgres needs --pg-url or LABKLUIS_PG_URL');
  const identities = await readIdentityFile(o.identity);
  const target = targetOf(o.from);
  const names = await target.listManifests();
  const name = o.snapshot === undefined ? names[names.length - 1] : names.find((n) => Number(n.slice(0, 8)) === o.snapshot);
  if (name === undefined) throw new LabkluisError('ERR_NOT_FOUND', o.snapshot === undefined ? `no snapshot at ${target.name}` : `no snapshot ${o.snapshot} at ${target.name}`);
  const { manifest } = openManifest((await target.getManifest(name)) ?? '', backupKey(kms));

  const origin = kms.auditSigner.name;
  const storeConfig: StoreConfig = o.store === 'sqlite'
    ? { kind: 'sqlite', file: 'labkluis.sqlite' }
    : { kind: 'postgres', ...(o.pgUrl && !/:[^:@/]+@/.test(o.pgUrl) ? { url: o.pgUrl } : {}) };
  let store: Store | null = null;
  try {
    writeNewConfig(paths.dataDir, { format: 'labkluis-config/1', origin, store: storeConfig, createdAt: systemClock.now().toISOString() });
    writeFileSync(join(paths.dataDir, VKEY_FILE), `${verifierKeyString(kms.auditSigner.name, kms.auditSigner.publicKey)}\n`, { mode: 0o644 });
    store = openStore(paths.dataDir, storeConfig, pgUrl);
    await store.migrate();
    const summary = await restoreFromTarget(target, manifest, identities, store);
    const rows = Object.values(summary.rows).reduce((s, n) => s + n, 0);
    out(`restored snapshot ${manifest.sequence} (${manifest.snapshot}, taken ${manifest.createdAt}) from ${target.name}: ${rows} rows, `
      + `${(summary.bytes / 1048576).toFixed(1)} MiB; audit log of ${summary.audit.size} entries, root ${summary.audit.root.slice(0, 16)}… as in the manifest`);
  } catch (e) {
    await store?.close();
    // Nothing of the restore was kept (one transaction, checked before it commits); the new data directory goes too.
    if (existsSync(paths.dataDir)) for (const f of readdirSync(paths.dataDir)) rmSync(join(paths.dataDir, f), { recursive: true, force: true });
    throw e;
  }
  await store.close();
  // The restore itself is in the restored vault's audit log, after everything it brought back.
  const app = await openApp(paths);
  try {
    await auditOperatorAction(app, 'E', 'restore', [{ type: 'Backup', id: manifest.snapshot }]);
  } finally {
    await app.close();
  }
  out('next: labkluis audit verify, then labkluis serve');
}
