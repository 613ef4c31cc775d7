/**
 * What alert delivery sends about an alert: identifiers, a severity and a short fixed summary.
 * Deliberately its own small type rather than the store's AlertRow: a field added there
 * (a sealed note, say) is not sent anywhere until someone adds it here on purpose.
 */
export type AlertSeverity = 'critical' | 'high' | 'medium' | 'low';
export const ALERT_SEVERITIES: readonly AlertSeverity[] = Object.freeze(['critical', 'high', 'medium', 'low']);

export interface DeliverableAlert {
  readonly id: string;
  /** 'sentinel:canary', 'token-replay', 'break-glass', ... */
  readonly kind: string;
  readonly principalId: string | null;
  readonly tenant: string | null;
  /** What it concerns, by id only: a pseudonym, a session, a grant, a containment. */
  readonly subject: string | null;
  /** ISO-8601 UTC, from the clock that raised the alert. */
  readonly createdAt: string;
  readonly severity: AlertSeverity;
  /**
   * A fixed sentence made by code ("canary patient touched; access contained"). The caller
   * guarantees it holds no personal data: no names, no BSN, no result, no free text typed by a person.
   */
  readonly summary: string;
  /** Audit log entries (leaf indices, AuditRow.seq) that show what happened. */
  readonly evidence: readonly number[];
}

const MAX_ID = 200;

/** Checks an alert's shape: a bad one is a programming error (TypeError), not input to refuse. */
export function checkAlert(a: DeliverableAlert): void {
  const id = (v: unknown, what: string, nullable: boolean) => {
    if (v === null && nullable) return;
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID) throw new TypeError(`alert ${what} is a string of 1 to ${MAX_ID} characters`);
  };
  id(a.id, 'id', false);
  id(a.kind, 'kind', false);
  id(a.principalId, 'principalId', true);
  id(a.tenant, 'tenant', true);
  id(a.subject, 'subject', true);
  if (typeof a.createdAt !== 'string' || Number.isNaN(Date.parse(a.createdAt))) throw new TypeError('alert createdAt is an ISO-8601 timestamp');
  if (!ALERT_SEVERITIES.includes(a.severity)) throw new TypeError(`alert severity is one of ${ALERT_SEVERITIES.join(', ')}`);
  if (typeof a.summary !== 'string') throw new TypeError('alert summary is a string');
  if (!Array.isArray(a.evidence) || !a.evidence.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new TypeError('alert evidence is a list of audit entry indices');
  }
}
