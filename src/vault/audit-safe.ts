import { createHash } from 'node:crypto';

/**
 * Request values never go into the audit log as they are: an attacker who could pick a value
 * the log refuses (a BSN-shaped id, an oversized user agent) would make an access go
 * unrecorded, and a value that is personal data (a name typed into a search) would sit in a
 * five-year append-only log. Safe values pass; anything else is replaced by a short hash that
 * still lets a security officer correlate repeated attempts.
 */
const SERVER_ID = /^[a-z2-7]{26}$/; // what randomId() gives: resources, pseudonyms, principals
const HANDLE = /^[a-z][a-z0-9-]{1,63}$/; // tenant ids, 'local-<user>'
const TYPE_NAME = /^[A-Z][A-Za-z]{1,63}$/;
const DIGIT_RUN = /\d{4}/; // years, BSNs, phone numbers: never part of an id worth keeping in clear
const USER_AGENT = /^[A-Za-z][A-Za-z0-9._-]*\/[A-Za-z0-9._-]+(?: [\x20-\x7e]*)?$/; // product/version first
const PRINTABLE = /^[\x20-\x7e]+$/;
const BSN_SHAPED = /^\s*\d{8,9}\s*$/;

const digest = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16);

/**
 * An id, pseudonym or tenant as the caller sent it: kept only in the shapes this server gives
 * out (random base32 ids; lowercase handles without runs of digits), else 'h-<hash>'. A date or
 * a BSN with separators typed into an id never reaches the log in clear.
 */
export function auditId(value: string): string {
  return SERVER_ID.test(value) || (HANDLE.test(value) && !DIGIT_RUN.test(value)) ? value : `h-${digest(value)}`;
}

/** Any value, hashed: for names the caller chose that do not exist (a tenant header, say). */
export function opaque(value: string): string {
  return `h-${digest(value)}`;
}

/** A FHIR type name as the caller sent it. */
export function auditType(value: string): string {
  return TYPE_NAME.test(value) ? value : `h-${digest(value)}`;
}

/** Free text (a query value): kept if short, printable and not BSN-shaped, else hashed. */
export function auditText(value: string, max = 200): string {
  return value.length > 0 && value.length <= max && PRINTABLE.test(value) && !BSN_SHAPED.test(value) ? value : `sha256:${digest(value)}`;
}

/** A user agent: kept when it looks like one (product/version first), else hashed. */
export function auditUserAgent(value: string): string {
  return value.length <= 200 && USER_AGENT.test(value) && !DIGIT_RUN.test(value.split('/')[0]!) ? value : `sha256:${digest(value)}`;
}
