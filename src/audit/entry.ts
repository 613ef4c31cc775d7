/**
 * The NEN 7513 log entry (§5: who, on whose behalf, why, which patient, what, when, where from,
 * with what outcome, emergency or not). Its canonical JSON is the RFC 6962 leaf.
 *
 * PRIVACY: an entry is kept for at least five years and read by security officers and, via the
 * patient access report, by patients. The caller passes pseudonyms and ids only: never a name,
 * BSN, birth date, address or result, and for a search the query with blind-index tokens in
 * place of every personal value. As a last line of defence the builder refuses identifiers that
 * are not FHIR ids and any string that has the shape of a BSN (eight or nine digits).
 */
import type { Clock, ErrorCode, Random } from '../kernel/index.js';
import type { Role } from '../store/types.js';

export const ENTRY_VERSION = 1;

/** NEN 7513 / FHIR AuditEvent.action: Create, Read, Update, Delete, Execute. */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

/** HL7 v3 PurposeOfUse codes the vault uses. ETREAT is break-glass (emergency) treatment. */
export const PURPOSES_OF_USE = Object.freeze([
  'TREAT', 'ETREAT', 'COC', 'HOPERAT', 'HSYSADMIN', 'HQUALIMP', 'HLEGAL', 'HTEST',
  'PATRQT', 'PUBHLTH', 'POPHLTH', 'HRESCH',
] as const);
export type PurposeOfUse = (typeof PURPOSES_OF_USE)[number];

export type AuditOutcome = 'success' | 'denied' | 'failed';

export interface AuditPrincipal {
  readonly id: string;
  readonly role: Role;
  /** A handle such as "analyst-07", never a person's name. */
  readonly handle: string;
}

export interface AuditObject {
  readonly type: string; // FHIR resource type, or 'AuditLog', 'Token', ...
  readonly id?: string;
  readonly version?: number;
  /** Search parameters; every personal value replaced by its blind-index token. */
  readonly query?: { readonly [param: string]: readonly string[] };
}

export interface AccessPoint {
  readonly ip: string;
  readonly userAgent: string | null;
  readonly node: string; // the labkluis node that served the request
}

/** What the caller knows; the builder adds version, seq, id and time. */
export interface AuditDraft {
  readonly action: AuditAction;
  readonly operation: string; // 'read', 'search', 'create', 'update', 'transaction', 'export', 'verify', 'token-refused' ...
  readonly principal: AuditPrincipal | null; // null when nobody was authenticated
  readonly actingFor: string | null; // the tenant / organisation the principal acts for
  readonly purposeOfUse: PurposeOfUse;
  readonly tenant: string | null;
  readonly patients: readonly string[]; // pseudonyms only
  readonly objects: readonly AuditObject[];
  readonly outcome: AuditOutcome;
  readonly errorCode: ErrorCode | null; // null exactly when outcome is 'success'
  readonly accessPoint: AccessPoint;
  readonly emergency: boolean; // break-glass; true exactly when purposeOfUse is ETREAT
}

export interface AuditEntry extends AuditDraft {
  readonly v: typeof ENTRY_VERSION;
  readonly seq: number;
  readonly id: string; // event id, a random UUID
  readonly time: string; // ISO-8601 UTC with milliseconds
}

/** An entry before the store assigns its place in the log. */
export type PreparedEntry = Omit<AuditEntry, 'seq'>;

const ACTIONS: readonly string[] = ['C', 'R', 'U', 'D', 'E'];
const OUTCOMES: readonly string[] = ['success', 'denied', 'failed'];
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** A lowercase name, optionally with a machine reason after a colon: 'read', 'token-replay:key-mismatch'. */
const OPERATION = /^[a-z][a-z0-9-]{0,39}(?::[a-z][a-z0-9-]{0,39})?$/;
const BSN_SHAPED = /^\d{8,9}$/;

function refuse(field: string, why: string): never {
  throw new TypeError(`audit draft: ${field} ${why}`);
}

function checkId(field: string, v: unknown): string {
  if (typeof v !== 'string' || !FHIR_ID.test(v)) refuse(field, 'must be a FHIR id (pseudonym or id, never personal data)');
  if (BSN_SHAPED.test(v)) refuse(field, 'looks like a BSN');
  return v;
}

function checkText(field: string, v: unknown, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) refuse(field, `must be a string of 1..${max} characters`);
  if (BSN_SHAPED.test(v.trim())) refuse(field, 'looks like a BSN');
  return v;
}

function checkObject(o: AuditObject, i: number): AuditObject {
  const at = `objects[${i}]`;
  if (!FHIR_ID.test(o.type)) refuse(`${at}.type`, 'must be a type name');
  const out: { -readonly [K in keyof AuditObject]: AuditObject[K] } = { type: o.type };
  if (o.id !== undefined) out.id = checkId(`${at}.id`, o.id);
  if (o.version !== undefined) {
    if (!Number.isSafeInteger(o.version) || o.version < 1) refuse(`${at}.version`, 'must be a positive integer');
    out.version = o.version;
  }
  if (o.query !== undefined) {
    const q: Record<string, readonly string[]> = {};
    for (const [param, values] of Object.entries(o.query)) {
      if (!/^[A-Za-z_][A-Za-z0-9_:.-]{0,63}$/.test(param)) refuse(`${at}.query`, `has a bad parameter name`);
      if (!Array.isArray(values)) refuse(`${at}.query.${param}`, 'must be a list of tokens');
      q[param] = values.map((v, j) => checkText(`${at}.query.${param}[${j}]`, v, 256));
    }
    out.query = q;
  }
  return out;
}

/** Validates a draft and copies it into a fresh, frozen-shape object (no foreign fields). */
export function checkDraft(d: AuditDraft): AuditDraft {
  if (!ACTIONS.includes(d.action)) refuse('action', 'must be C, R, U, D or E');
  if (typeof d.operation !== 'string' || !OPERATION.test(d.operation)) refuse('operation', 'must be a lowercase name');
  if (!(PURPOSES_OF_USE as readonly string[]).includes(d.purposeOfUse)) refuse('purposeOfUse', 'is not a known PurposeOfUse code');
  if (typeof d.emergency !== 'boolean') refuse('emergency', 'must be a boolean');
  if (d.emergency !== (d.purposeOfUse === 'ETREAT')) refuse('emergency', 'must be true exactly for purposeOfUse ETREAT');
  if (!OUTCOMES.includes(d.outcome)) refuse('outcome', 'must be success, denied or failed');
  if ((d.outcome === 'success') !== (d.errorCode === null)) refuse('errorCode', 'must be null exactly when outcome is success');
  if (d.errorCode !== null && !/^ERR_[A-Z_]+$/.test(d.errorCode)) refuse('errorCode', 'must be an error code');
  const principal = d.principal === null ? null : {
    id: checkId('principal.id', d.principal.id),
    role: checkText('principal.role', d.principal.role, 32) as Role,
    handle: checkText('principal.handle', d.principal.handle, 64),
  };
  if (!Array.isArray(d.patients)) refuse('patients', 'must be a list of pseudonyms');
  if (!Array.isArray(d.objects)) refuse('objects', 'must be a list');
  const ap = d.accessPoint;
  return {
    action: d.action,
    operation: d.operation,
    principal,
    actingFor: d.actingFor === null ? null : checkId('actingFor', d.actingFor),
    purposeOfUse: d.purposeOfUse,
    tenant: d.tenant === null ? null : checkId('tenant', d.tenant),
    patients: d.patients.map((p, i) => checkId(`patients[${i}]`, p)),
    objects: d.objects.map(checkObject),
    outcome: d.outcome,
    errorCode: d.errorCode,
    accessPoint: {
      ip: checkText('accessPoint.ip', ap.ip, 64),
      userAgent: ap.userAgent === null ? null : checkText('accessPoint.userAgent', ap.userAgent, 512),
      node: checkText('accessPoint.node', ap.node, 128),
    },
    emergency: d.emergency,
  };
}

/** Stamps a checked draft with its event id (injected Random) and UTC time (injected Clock). */
export function prepareEntry(draft: AuditDraft, deps: { readonly clock: Clock; readonly random: Random }): PreparedEntry {
  return { v: ENTRY_VERSION, id: deps.random.uuid(), time: deps.clock.now().toISOString(), ...checkDraft(draft) };
}

/** The full entry at its place in the log. */
export function buildEntry(prepared: PreparedEntry, seq: number): AuditEntry {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError('seq must be a non-negative safe integer');
  return { ...prepared, seq };
}
