/**
 * The syslog message format of RFC 5424 §6, and the octet-counting frame of RFC 6587 §3.4.1
 * (also the frame of syslog over TLS, RFC 5425 §4.3). Generic: nothing here knows about alerts.
 *
 *   SYSLOG-MSG = HEADER SP STRUCTURED-DATA [SP MSG]
 *   HEADER     = PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID
 *
 * Header fields are PRINTUSASCII (%d33-126) with the maximum lengths of §6 (HOSTNAME 255,
 * APP-NAME 48, PROCID 128, MSGID 32); null stands for the NILVALUE "-". A field that breaks
 * the grammar is a TypeError: callers sanitise what they do not control (see headerField).
 */

/** Facilities, RFC 5424 §6.2.1 table 1. */
export const SYSLOG_FACILITIES = Object.freeze({
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, audit: 13, alert: 14, clock: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const);
export type SyslogFacilityName = keyof typeof SYSLOG_FACILITIES;

/** Severities, RFC 5424 §6.2.1 table 2. */
export const SYSLOG_SEVERITIES = Object.freeze({
  emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, informational: 6, debug: 7,
} as const);

/** One SD-ELEMENT (§6.3.1): an SD-ID and its SD-PARAMs in order (a PARAM-NAME may repeat, §6.3.3). */
export interface SdElement {
  readonly id: string;
  readonly params: readonly (readonly [name: string, value: string])[];
}

export interface SyslogFields {
  /** 0..23 */
  readonly facility: number;
  /** 0..7 */
  readonly severity: number;
  /** Written in UTC with milliseconds (RFC 3339, §6.2.3); null: NILVALUE. */
  readonly timestamp: Date | null;
  readonly hostname: string | null;
  readonly appName: string | null;
  readonly procId: string | null;
  readonly msgId: string | null;
  /** Empty: NILVALUE. */
  readonly structuredData: readonly SdElement[];
  /** Sent as MSG-UTF8, that is with a BOM (§6.4); undefined: no MSG part. */
  readonly msg?: string;
}

const BOM = '\uFEFF';
const NIL = '-';
const PRINTUSASCII = /^[\x21-\x7e]+$/;
/** SD-NAME (§6.3.2, §6.3.3): 1*32 PRINTUSASCII except '=', SP, ']' and '"'. */
const SD_NAME = /^[\x21\x23-\x3c\x3e-\x5c\x5e-\x7e]{1,32}$/;
/** An SD-ID is an IANA-registered name (no '@') or name@<private enterprise number> (§6.3.2, §7.2.2). */
const SD_ID = /^(?:[^@]+|[^@]+@[1-9][0-9]*(?:\.[0-9]+)*)$/;

export function formatSyslogMessage(f: SyslogFields): string {
  if (!Number.isInteger(f.facility) || f.facility < 0 || f.facility > 23) throw new TypeError('facility is 0 to 23');
  if (!Number.isInteger(f.severity) || f.severity < 0 || f.severity > 7) throw new TypeError('severity is 0 to 7');
  const head = [
    `<${f.facility * 8 + f.severity}>1`, // PRI and VERSION 1 (§6.2.1, §6.2.2)
    f.timestamp === null ? NIL : formatTimestamp(f.timestamp),
    header('HOSTNAME', f.hostname, 255),
    header('APP-NAME', f.appName, 48),
    header('PROCID', f.procId, 128),
    header('MSGID', f.msgId, 32),
  ].join(' ');
  const sd = f.structuredData.length === 0 ? NIL : f.structuredData.map(formatSdElement).join('');
  return f.msg === undefined ? `${head} ${sd}` : `${head} ${sd} ${BOM}${f.msg}`;
}

/** RFC 3339 in UTC, milliseconds (TIME-SECFRAC allows 1 to 6 digits, §6.2.3). */
export function formatTimestamp(at: Date): string {
  const iso = at.toISOString(); // throws RangeError on an invalid date
  if (!/^\d{4}-/.test(iso)) throw new TypeError('a syslog TIMESTAMP has a four-digit year');
  return iso;
}

/**
 * §6.3.3: inside PARAM-VALUE the characters '"', '\' and ']' MUST be escaped as '\"', '\\'
 * and '\]'. Nothing else is escaped (a receiver keeps a backslash before any other character).
 */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/**
 * Makes a value fit a header field: characters outside PRINTUSASCII become '_' and it is cut
 * to `max`; an empty value is the NILVALUE (null).
 */
export function headerField(value: string, max: number): string | null {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? null : clean;
}

/** RFC 6587 §3.4.1 (and RFC 5425 §4.3): MSG-LEN SP SYSLOG-MSG, MSG-LEN counting octets. */
export function octetCountingFrame(message: string | Buffer): Buffer {
  const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  if (bytes.length === 0) throw new TypeError('a syslog message is never empty');
  return Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]);
}

function header(name: string, value: string | null, max: number): string {
  if (value === null) return NIL;
  if (value.length > max || !PRINTUSASCII.test(value)) throw new TypeError(`${name} is 1 to ${max} printable US-ASCII characters`);
  return value;
}

function formatSdElement(e: SdElement): string {
  if (!SD_NAME.test(e.id) || !SD_ID.test(e.id)) throw new TypeError('an SD-ID is an SD-NAME, optionally name@enterprise-number');
  const params = e.params.map(([name, value]) => {
    if (!SD_NAME.test(name)) throw new TypeError('a PARAM-NAME is an SD-NAME');
    return ` ${name}="${escapeParamValue(value)}"`;
  });
  return `[${e.id}${params.join('')}]`;
}
