import { createApp, createLogger, type App } from '../app.js';
import { readConfig } from '../config/index.js';
import { loadLocalKeyring } from '../crypto/index.js';
import { LabkluisError, systemClock, systemRandom } from '../kernel/index.js';
import type { AlertDeliveryConfigInput } from '../sentinel/delivery/index.js';
import type { SentinelPolicyInput } from '../sentinel/index.js';
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
    ...(config.alerts ? { alertDelivery: withWebhookSecret(config.alerts) } : {}),
    ...(config.sentinel ? { sentinelPolicy: config.sentinel as SentinelPolicyInput } : {}),
    // A vault with backups watches its restore drills (the alert comes also when no drill key is set).
    ...(config.backup ? { drillPolicy: { watch: true, key: config.backup.drill?.key, maxAgeDays: config.backup.drill?.maxAgeDays } } : {}),
  });
}

/** The config's alert channels, with the webhook secret taken from the environment (never the file). */
function withWebhookSecret(alerts: Record<string, unknown>): AlertDeliveryConfigInput {
  const webhook = alerts.webhook;
  if (typeof webhook !== 'object' || webhook === null) return alerts as AlertDeliveryConfigInput;
  if ('secret' in webhook) throw new LabkluisError('ERR_CONFIG', 'the webhook secret belongs in LABKLUIS_ALERT_WEBHOOK_SECRET, not in labkluis.json');
  const secret = process.env.LABKLUIS_ALERT_WEBHOOK_SECRET;
  if (!secret) throw new LabkluisError('ERR_CONFIG', 'alerts.webhook is configured: set LABKLUIS_ALERT_WEBHOOK_SECRET (at least 32 characters)');
  return { ...alerts, webhook: { ...webhook, secret } } as AlertDeliveryConfigInput;
}
