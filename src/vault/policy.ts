import { forbidden } from '../kernel/index.js';
import type { Principal } from '../auth/index.js';

/**
 * Deny by default (DESIGN.md invariant 4): a role may do only what this table grants.
 * Content rules that depend on the record (status, device, four eyes) live in rules.ts.
 */
export type FhirType =
  | 'Patient' | 'Organization' | 'ServiceRequest' | 'Specimen' | 'Observation' | 'DiagnosticReport' | 'AuditEvent';
export type Action = 'create' | 'read' | 'search' | 'update';
type Grants = Partial<Record<Action, readonly FhirType[]>>;

const LAB_READS: readonly FhirType[] = ['Patient', 'Organization', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport'];

const GRANTS: Readonly<Record<Principal['role'], Grants>> = Object.freeze({
  // Links a specimen to the right person: sees identity, not results.
  registrar: {
    create: ['Patient', 'ServiceRequest', 'Specimen'],
    read: ['Patient', 'Organization', 'ServiceRequest', 'Specimen'],
    search: ['Patient', 'ServiceRequest', 'Specimen'],
    update: ['ServiceRequest', 'Specimen'],
  },
  // Enters results: barcodes and pseudonyms, never identity (see identityView).
  analyst: {
    create: ['Observation', 'DiagnosticReport'],
    read: LAB_READS,
    search: ['ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport'],
    update: ['Observation', 'DiagnosticReport'],
  },
  // Authorises reports (four eyes: never their own, see rules.ts).
  validator: {
    create: ['Observation', 'DiagnosticReport'],
    read: LAB_READS,
    search: ['ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport'],
    update: ['Observation', 'DiagnosticReport'],
  },
  // A GP practice, hospital or the screening organisation: final reports of its own tenant.
  requester: {
    create: ['Patient', 'ServiceRequest'],
    read: ['Patient', 'Organization', 'ServiceRequest', 'Observation', 'DiagnosticReport'],
    search: ['Patient', 'ServiceRequest', 'Observation', 'DiagnosticReport'],
  },
  // Appends results for its own instrument; reads nothing, not even what it wrote.
  instrument: { create: ['Observation'] },
  // NEN 7513 log keeper: the audit log, no clinical content.
  'security-officer': { read: ['AuditEvent'], search: ['AuditEvent'] },
  // Principals, tenants, keys: no clinical content.
  admin: { create: ['Organization'], read: ['Organization'], search: ['Organization'] },
  // The local operator importing files: writes, reads nothing.
  importer: { create: ['Patient', 'Organization', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport'] },
});

export function isAllowed(role: Principal['role'], action: Action, type: FhirType): boolean {
  return GRANTS[role]?.[action]?.includes(type) ?? false;
}

export function authorize(principal: Principal, action: Action, type: FhirType): void {
  assertNotSuspended(principal, type);
  if (!isAllowed(principal.role, action, type)) throw forbidden(`role '${principal.role}' may not ${action} ${type}`);
}

/** Access hygiene: a lapsed recertification suspends the role, an expired training clinical access. */
export function assertNotSuspended(principal: Principal, type: FhirType): void {
  if (principal.suspended === 'recertification-lapsed') throw forbidden("this account's role lapsed: an approver must recertify it");
  if (principal.suspended === 'training-expired' && type !== 'AuditEvent' && type !== 'Organization') {
    throw forbidden('security-awareness training has expired: clinical access is suspended until it is renewed');
  }
}

/** Which roles see who a patient is; the others get the pseudonym only. */
export function identityView(role: Principal['role']): 'full' | 'pseudonymised' {
  return role === 'registrar' || role === 'requester' ? 'full' : 'pseudonymised';
}

/** Whether a role gets the body of what it wrote back (instruments and importers do not). */
export function readsBack(role: Principal['role']): boolean {
  return role !== 'instrument' && role !== 'importer';
}

/** Default purpose of use per role (HL7 v3 PurposeOfUse), recorded in every audit entry. */
export function defaultPurpose(role: Principal['role']): string {
  switch (role) {
    case 'requester':
      return 'TREAT';
    case 'security-officer':
      return 'HSYSADMIN';
    case 'admin':
    case 'importer':
      return 'HSYSADMIN';
    default:
      return 'HOPERAT'; // healthcare operations: the lab's own work on the order
  }
}

/**
 * The purposes each role may claim (HL7 v3 PurposeOfUse). The audit log records the claim, so
 * a role may only claim what its work can be: a requester treats (or screens), the lab operates
 * and assures quality, the log keeper administers; clinical roles may claim ETREAT under break-glass.
 */
const ROLE_PURPOSES: Readonly<Record<Principal['role'], readonly string[]>> = Object.freeze({
  // ETREAT (break-glass) only works with a live grant for the patient; see break-glass.ts.
  requester: ['TREAT', 'COC', 'PUBHLTH', 'ETREAT'],
  registrar: ['HOPERAT', 'TREAT', 'ETREAT'],
  analyst: ['HOPERAT', 'HQUALIMP', 'ETREAT'],
  validator: ['HOPERAT', 'HQUALIMP', 'ETREAT'],
  instrument: ['HOPERAT'],
  'security-officer': ['HSYSADMIN', 'HLEGAL'],
  admin: ['HSYSADMIN'],
  importer: ['HSYSADMIN', 'HOPERAT'],
});

/** Every purpose some role may claim. */
export const PURPOSES: readonly string[] = Object.freeze([...new Set(Object.values(ROLE_PURPOSES).flat())]);

export function mayClaimPurpose(role: Principal['role'], purpose: string): boolean {
  return ROLE_PURPOSES[role]?.includes(purpose) ?? false;
}

/** Statuses a requester may see: nothing before it is authorised. */
export const RELEASED_REPORT_STATUSES: readonly string[] = Object.freeze(['final', 'amended']);
export const RELEASED_OBSERVATION_STATUSES: readonly string[] = Object.freeze(['final', 'amended', 'corrected']);
