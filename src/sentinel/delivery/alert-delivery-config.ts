/**
 * Where alerts go: a webhook, a syslog collector, both or neither. The composition root reads
 * this from the configuration; the webhook secret belongs in the environment or a secret file,
 * not in labkluis.json (which holds no secret).
 */
import { z } from 'zod';
import { LabkluisError } from '../../kernel/index.js';
import { SYSLOG_FACILITIES, type SyslogFacilityName } from './syslog-message.js';

/**
 * https anywhere; plain http only to this machine (127.0.0.0/8, ::1, localhost), where nothing
 * on the way can read or change the alert. No user:password in the URL: it would end up in
 * logs, and the signature is the credential.
 */
export function isAllowedWebhookUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopbackHost(url.hostname);
}

function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  // The URL parser has already normalised IPv4 forms (127.1, 0x7f.1) to dotted quads.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

const facilityNames = Object.keys(SYSLOG_FACILITIES) as [SyslogFacilityName, ...SyslogFacilityName[]];

const webhookConfig = z.strictObject({
  url: z.string().refine(isAllowedWebhookUrl, 'the webhook URL is https (plain http only to a loopback address), without credentials or fragment'),
  /** HMAC-SHA256 key of the X-Labkluis-Signature header; 32 characters at least. */
  secret: z.string().min(32, 'the webhook secret has at least 32 characters'),
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
});

const syslogConfig = z.strictObject({
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65_535),
  /** udp: RFC 5426; tcp: RFC 6587 octet counting; tls: RFC 5425. */
  transport: z.enum(['udp', 'tcp', 'tls']),
  /** A name from RFC 5424 table 1 or its number; authpriv (10) by default. */
  facility: z.union([z.enum(facilityNames), z.number().int().min(0).max(23)])
    .default('authpriv')
    .transform((f) => (typeof f === 'number' ? f : SYSLOG_FACILITIES[f])),
  /** HOSTNAME of the messages (RFC 5424 §6.2.4; an FQDN is preferred); default: the host's name. */
  hostname: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'a syslog HOSTNAME is 1 to 255 printable US-ASCII characters').optional(),
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /** For tls: PEM certificates of the CAs that may sign the collector's certificate (default: the system's). */
  ca: z.string().includes('-----BEGIN CERTIFICATE-----').optional(),
});

export const alertDeliveryConfig = z.strictObject({
  webhook: webhookConfig.optional(),
  syslog: syslogConfig.optional(),
}).refine((c) => c.syslog?.ca === undefined || c.syslog.transport === 'tls', { message: 'syslog.ca is for the tls transport', path: ['syslog', 'ca'] });

/** As written in the configuration. */
export type AlertDeliveryConfigInput = z.input<typeof alertDeliveryConfig>;
/** Checked, with defaults filled in. */
export type AlertDeliveryConfig = z.output<typeof alertDeliveryConfig>;
export type WebhookConfig = NonNullable<AlertDeliveryConfig['webhook']>;
export type SyslogConfig = NonNullable<AlertDeliveryConfig['syslog']>;

/** Checks a configuration; ERR_CONFIG naming the fields at fault (never their values: one is a secret). */
export function parseAlertDeliveryConfig(raw: unknown): AlertDeliveryConfig {
  const parsed = alertDeliveryConfig.safeParse(raw);
  if (parsed.success) return deepFreeze(parsed.data);
  const issues = parsed.error.issues.map((i) => ({ expression: ['alertDelivery', ...i.path.map(String)].join('.'), diagnostics: i.message }));
  return throwConfig(issues);
}

function throwConfig(issues: { expression: string; diagnostics: string }[]): never {
  throw new LabkluisError('ERR_CONFIG', `alert delivery configuration: ${issues.map((i) => `${i.expression}: ${i.diagnostics}`).join('; ')}`, { issues });
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v as object);
  return Object.freeze(o);
}
