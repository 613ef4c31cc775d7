import type { Resource } from 'fhir/r4.js';
import { forbidden } from '../kernel/index.js';
import type { Principal } from '../auth/index.js';
import { RELEASED_OBSERVATION_STATUSES, RELEASED_REPORT_STATUSES } from './policy.js';

/**
 * Rules that depend on the record itself. Each throws ERR_FORBIDDEN; each has a test that
 * shows the refusal (test/vault/rules.test.ts and the API tests).
 */
type AnyResource = Resource & { id?: string; status?: string; device?: { reference?: string } };

const AUTHORISED = new Set(RELEASED_REPORT_STATUSES);

/** Final and amended: statuses only a validator sets, and the only ones a requester sees. */
export function isAuthorisedStatus(status: string | null | undefined): boolean {
  return AUTHORISED.has(status ?? '');
}

/** Checks a create or update before anything is written. `previous` is the current version on update. */
export function checkWrite(principal: Principal, next: AnyResource, previous: AnyResource | null): void {
  const role = principal.role;
  if (role === 'instrument') {
    if (next.resourceType !== 'Observation') throw forbidden('an instrument may only append Observations');
    if (next.device?.reference !== `Device/${principal.instrument}`) {
      throw forbidden('an instrument may only report results for its own device');
    }
  }
  if (next.resourceType === 'DiagnosticReport') {
    const status = next.status ?? '';
    if (AUTHORISED.has(status) && role !== 'validator' && role !== 'importer') {
      throw forbidden(`only a validator may set a report to '${status}'`);
    }
    // Reopening an authorised report for correction takes it back to 'preliminary' (requesters
    // then see neither it nor its results until it is authorised again, as 'amended').
    if (previous && AUTHORISED.has(previous.status ?? '') && !AUTHORISED.has(status) && status !== 'preliminary') {
      throw forbidden("an authorised report can only be reopened as 'preliminary' or amended");
    }
  }
  if (next.resourceType === 'Observation' && previous && RELEASED_OBSERVATION_STATUSES.includes(previous.status ?? '')) {
    if (!['amended', 'corrected', 'entered-in-error'].includes(next.status ?? '')) {
      throw forbidden("a released result can only be 'amended', 'corrected' or 'entered-in-error'");
    }
  }
}

/** True when the report change needs a second person: it authorises (final or amended). */
export function authorises(next: AnyResource): boolean {
  return next.resourceType === 'DiagnosticReport' && AUTHORISED.has(next.status ?? '');
}

/** Four eyes: a validator never authorises a report or results they entered themselves. */
export function checkFourEyes(principal: Principal, enteredBy: Iterable<string>): void {
  if (principal.role === 'importer') return; // imports carry the source system's authorisation
  for (const who of enteredBy) {
    if (who === principal.id) throw forbidden('four eyes: you cannot authorise a report or results you entered');
  }
}

/** Statuses a role may see; null means any. Requesters see released records only. */
export function visibleStatuses(role: Principal['role'], type: string): readonly string[] | null {
  if (role !== 'requester') return null;
  if (type === 'DiagnosticReport') return RELEASED_REPORT_STATUSES;
  if (type === 'Observation') return RELEASED_OBSERVATION_STATUSES;
  return null;
}
