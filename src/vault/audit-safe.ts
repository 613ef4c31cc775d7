import { createHash } from 'node:crypto';

/**
 * Request values never go into the audit log as they are: an attacker who could pick a value
 * the log refuses (a BSN-shaped id, an oversized user agent) would make an access go
 * unrecorded, and a value that is personal data (a name typed into a search) would sit in a
 * five-year append-only log. Safe values pass; anything else is replaced by a short hash that
 * still lets a security officer correlate repeated attempts.
 */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const BSN_SHAPED = /^\s*\d{8,9}\s*$/;
const PRINTABLE = /^[\x20-\x7e]+$/;

const digest = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16);

/** An id or pseudonym: kept if it is a FHIR id that does not look like a BSN, else 'h-<hash>'. */
export function auditId(value: string): string {
  return FHIR_ID.test(value) && !BSN_SHAPED.test(value) ? value : `h-${digest(value)}`;
}

/** Free text (a user agent, a query value): kept if short, printable and not BSN-shaped. */
export function auditText(value: string, max = 200): string {
  return value.length > 0 && value.length <= max && PRINTABLE.test(value) && !BSN_SHAPED.test(value) ? value : `sha256:${digest(value)}`;
}
