import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { LabkluisError } from '../kernel/index.js';

/**
 * labkluis.json in the data directory: which store, the audit log's origin name. It holds no
 * secret (a PostgreSQL URL with a password belongs in LABKLUIS_PG_URL, not here).
 */
const ConfigFile = z.strictObject({
  format: z.literal('labkluis-config/1'),
  origin: z.string().regex(/^[a-z0-9.-]+\/[a-z0-9-]+$/),
  store: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('sqlite'), file: z.string().min(1) }),
    z.strictObject({ kind: z.literal('postgres'), url: z.string().startsWith('postgres').optional() }),
  ]),
  /** The URL people use to reach the server (the WebAuthn origin); http only for localhost. */
  publicUrl: z.string().url().optional(),
  /**
   * Where sentinel alerts go besides the security officer's list (sentinel/delivery):
   * { webhook: { url }, syslog: { host, port, transport } }. The webhook's signing secret is not
   * here: it comes from LABKLUIS_ALERT_WEBHOOK_SECRET.
   */
  alerts: z.record(z.string(), z.unknown()).optional(),
  /**
   * The sentinel's policy over its defaults (sentinel/policy.ts), e.g. a bulk integration's own
   * budget: { "principals": { "<principal id>": [{ "seconds": 3600, "patients": 150, "bytes": null }] } }.
   * Checked when the app starts (ERR_CONFIG names what is wrong).
   */
  sentinel: z.record(z.string(), z.unknown()).optional(),
  /**
   * Backups (issue 5): the offline age recipients every snapshot is sealed to, and where
   * snapshots go: `dir:/path`, or a backup receiver's URL (its upload token comes from
   * LABKLUIS_BACKUP_TOKEN, never from here). A server with backups watches its restore drills:
   * `drill.key` is the drill key's public half (`restore-drill key` prints it), the only key
   * whose reports it takes; `drill.maxAgeDays` how old the last passed drill may be before the
   * security officer gets an alert (default 7).
   */
  backup: z.strictObject({
    recipients: z.array(z.string()).min(1),
    target: z.string().min(1),
    drill: z.strictObject({ key: z.string().min(1).optional(), maxAgeDays: z.number().positive().max(366).optional() }).optional(),
  }).optional(),
  createdAt: z.string(),
});
export type VaultConfig = z.infer<typeof ConfigFile>;
export type StoreConfig = VaultConfig['store'];

export const CONFIG_FILE = 'labkluis.json';

export function configPath(dataDir: string): string {
  return join(resolve(dataDir), CONFIG_FILE);
}

/** Creates the data directory (mode 0700) and its config; refuses a directory that is not empty. */
export function writeNewConfig(dataDir: string, config: VaultConfig): void {
  const dir = resolve(dataDir);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new LabkluisError('ERR_CONFIG', 'the data directory exists and is not empty; refusing to overwrite it');
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(configPath(dir), 'wx', 0o600);
  try {
    writeFileSync(fd, `${JSON.stringify(ConfigFile.parse(config), null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readConfig(dataDir: string): VaultConfig {
  const path = configPath(dataDir);
  if (!existsSync(path)) throw new LabkluisError('ERR_CONFIG', `no labkluis data directory at ${resolve(dataDir)} (run 'labkluis init' first)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new LabkluisError('ERR_CONFIG', `${CONFIG_FILE} is not valid JSON`);
  }
  const parsed = ConfigFile.safeParse(raw);
  if (!parsed.success) throw new LabkluisError('ERR_CONFIG', `${CONFIG_FILE} is not a labkluis config`);
  return parsed.data;
}
