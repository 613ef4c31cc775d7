/**
 * Renders an alert for each channel, once, when it is queued: the outbox keeps what was
 * rendered, so a retry sends the same bytes. Only the fields named here are sent, each an id,
 * a timestamp, the severity or the code-made summary; nothing else the caller's object holds.
 */
import { checkAlert, type AlertSeverity, type DeliverableAlert } from './deliverable-alert.js';
import { formatSyslogMessage, headerField, SYSLOG_SEVERITIES, type SdElement } from './syslog-message.js';

/** The webhook body's `format`: a receiver checks it before reading further. */
export const WEBHOOK_FORMAT = 'labkluis-alert/1';

/**
 * The SD-ID of labkluis's structured data. 32473 is the example private enterprise number that
 * RFC 5612 reserves for documentation (also used by RFC 5424's own examples); a deployment
 * with its own IANA enterprise number would use that instead.
 */
export const SD_ID = 'labkluis@32473';
export const APP_NAME = 'labkluis';

/** Severity of an alert as a syslog severity (RFC 5424 §6.2.1 table 2). */
export const SYSLOG_SEVERITY_OF: Readonly<Record<AlertSeverity, number>> = Object.freeze({
  critical: SYSLOG_SEVERITIES.critical,
  high: SYSLOG_SEVERITIES.error,
  medium: SYSLOG_SEVERITIES.warning,
  low: SYSLOG_SEVERITIES.notice,
});

const MAX_SUMMARY = 500;
/** Evidence indices listed in a syslog message; all of them go in the webhook body. */
const MAX_SYSLOG_EVIDENCE = 32;

export function renderWebhookBody(alert: DeliverableAlert): string {
  checkAlert(alert);
  return JSON.stringify({
    format: WEBHOOK_FORMAT,
    id: alert.id,
    kind: alert.kind,
    severity: alert.severity,
    principalId: alert.principalId,
    tenant: alert.tenant,
    subject: alert.subject,
    createdAt: alert.createdAt,
    summary: cleanText(alert.summary),
    evidence: [...alert.evidence],
  });
}

export interface SyslogRenderOptions {
  /** 0..23; authpriv (10) by default in the configuration. */
  readonly facility: number;
  /** The TIMESTAMP: when the message is made (RFC 5424 §6.2.3), from the injected clock. */
  readonly at: Date;
  /** HOSTNAME (§6.2.4); null: NILVALUE. */
  readonly hostname: string | null;
  /** PROCID (§6.2.6): the process id; null: NILVALUE. */
  readonly procId: string | null;
}

/**
 * An RFC 5424 message: MSGID is the alert kind (cut to 32 printable US-ASCII characters; the
 * whole kind is in the structured data), STRUCTURED-DATA one labkluis@32473 element with the
 * alert id, kind, principal and tenant, MSG the summary. The subject is not sent to syslog:
 * syslog fans out wider than the webhook, and the alert id leads to it.
 */
export function renderSyslogMessage(alert: DeliverableAlert, o: SyslogRenderOptions): string {
  checkAlert(alert);
  const params: [string, string][] = [['id', alert.id], ['kind', alert.kind]];
  if (alert.principalId !== null) params.push(['principal', alert.principalId]);
  if (alert.tenant !== null) params.push(['tenant', alert.tenant]);
  if (alert.evidence.length > 0) {
    params.push(['evidence', alert.evidence.slice(0, MAX_SYSLOG_EVIDENCE).join(',')]);
    params.push(['evidenceCount', String(alert.evidence.length)]);
  }
  const sd: SdElement = { id: SD_ID, params: params.map(([k, v]) => [k, cleanText(v)] as const) };
  const summary = cleanText(alert.summary);
  return formatSyslogMessage({
    facility: o.facility,
    severity: SYSLOG_SEVERITY_OF[alert.severity],
    timestamp: o.at,
    hostname: o.hostname === null ? null : headerField(o.hostname, 255),
    appName: APP_NAME,
    procId: o.procId === null ? null : headerField(o.procId, 128),
    msgId: headerField(alert.kind, 32),
    structuredData: [sd],
    ...(summary === '' ? {} : { msg: summary }),
  });
}

/**
 * Control characters (C0, DEL, C1, line and paragraph separators) become a space, so that a
 * receiver writing one line per message cannot be made to write two (RFC 5424 §8.2), and the
 * text is cut to a bound.
 */
function cleanText(s: string): string {
  const flat = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  const points = [...flat];
  return points.length <= MAX_SUMMARY ? flat : `${points.slice(0, MAX_SUMMARY - 1).join('')}…`;
}
