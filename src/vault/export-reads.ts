import type { Resource } from 'fhir/r4.js';
import { mayActFor, principalFromRow, type Principal } from '../auth/index.js';
import { conflict, forbidden, isLabkluisError, LabkluisError, notFound, type Clock } from '../kernel/index.js';
import type { ExportJobRow, PrincipalRow, ResourceType, Role, Store } from '../store/index.js';
import type { AccessContext } from './context.js';
import type { EgressGuard } from './egress-guard.js';
import { pseudonymisedPatient, type RecordCodec } from './records.js';
import { inAuthorisedReport } from './released.js';
import { visibleStatuses } from './rules.js';
import type { TenantDirectory } from './tenants.js';
import type { AuditContext, AuditObjectRef, Trail } from './trail.js';

/**
 * Bulk export (issue 4, deliverable 3): the one way many patients' records leave together.
 * Ordinary reads pass the sentinel, which contains anyone who reads too many patients; an
 * export instead needs a job that one person requested and a second approved (src/export/),
 * and reads here, through the same decryption path, for that job only.
 *
 * Who may export what, and who approves (DESIGN.md "Who uses it"):
 * - requester (a GP practice, hospital or the screening organisation): its own tenant's
 *   released records, what its people read anyway (final and amended reports, the results in
 *   them, its orders, the patients, identity included); approved by a second requester of that
 *   tenant or by the lab's security officer.
 * - admin (the lab): a tenant transfer, every current record of the tenant; approved by a
 *   security officer. The admin and the officer see none of it: it is encrypted to the recipient.
 *
 * open() authorises the job again from the store (never from the caller's copy): approved and
 * claimed, two different, enabled people in the roles above who act for the tenant, neither of
 * them contained by the sentinel. It then lists what is in scope from the index columns alone,
 * appends one NEN 7513 entry (action E) naming every patient, and only once that entry is durable
 * hands out a generator that decrypts record after record (invariant 1). The sentinel's
 * per-principal counting is bypassed for this job only: nothing is released to either person.
 */
export type ExportView = 'released' | 'full';
export type ExportType = 'Patient' | ResourceType;

export interface ExportRule {
  readonly view: ExportView;
  readonly approvers: readonly Role[];
}

const RULES: Partial<Record<Role, ExportRule>> = {
  requester: { view: 'released', approvers: ['requester', 'security-officer'] },
  admin: { view: 'full', approvers: ['security-officer'] },
};
export const EXPORT_RULES: Readonly<Partial<Record<string, ExportRule>>> = Object.freeze(RULES);

/** The types each view may hold (a requester reads no Specimens; see policy.ts). */
export const EXPORT_TYPES: Readonly<Record<ExportView, readonly ExportType[]>> = Object.freeze({
  released: Object.freeze(['Patient', 'ServiceRequest', 'Observation', 'DiagnosticReport'] as const),
  full: Object.freeze(['Patient', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport'] as const),
});

export function exportRuleFor(role: string): ExportRule | null {
  return Object.hasOwn(EXPORT_RULES, role) ? EXPORT_RULES[role]! : null;
}

/**
 * Why `approver` may not approve a job that `requestedBy` (in role `requestedRole`) asked for
 * in `tenant`, or null when they may: four eyes (another person), a role the rule names, the
 * tenant among the approver's.
 */
export function approvalRefusal(
  job: { readonly requestedBy: string; readonly requestedRole: string; readonly tenant: string },
  approver: Pick<Principal, 'id' | 'role' | 'tenants'>,
): string | null {
  const rule = exportRuleFor(job.requestedRole);
  if (rule === null) return 'this job was requested by a role that may not export';
  if (approver.id === job.requestedBy) return 'four eyes: a second person must approve an export, not the one who requested it';
  if (!rule.approvers.includes(approver.role as Role)) return `an export requested by a ${job.requestedRole} is approved by: ${rule.approvers.join(' or ')}`;
  if (!mayActFor(approver as Principal, job.tenant)) return 'the approver does not act for that tenant';
  return null;
}

/** What an approved job hands to its run: counts, and the records in the job's order. */
export interface ExportRelease {
  readonly jobId: string;
  readonly tenant: string;
  /** Distinct patients the export concerns (as in its audit entry). */
  readonly patients: number;
  /** Records listed; a listed Patient whose identity record is absent is skipped. */
  readonly listed: number;
  /** Decrypts and yields each record once, in the order the run asked for. */
  resources(): AsyncGenerator<Resource & { id: string }>;
}

interface Ref {
  readonly type: ExportType;
  readonly id: string;
  readonly version: number | null; // null: the Patient's current version
  readonly key: string;
}

/** Rows per listing query: large pages, since the job reads the whole scope anyway. */
const PAGE = 500;

export class VaultExports {
  readonly #store: Store;
  readonly #codec: RecordCodec;
  readonly #trail: Trail;
  readonly #tenants: TenantDirectory;
  readonly #guard: EgressGuard;

  constructor(deps: { store: Store; codec: RecordCodec; trail: Trail; tenants: TenantDirectory; guard: EgressGuard; clock: Clock }) {
    this.#store = deps.store;
    this.#codec = deps.codec;
    this.#trail = deps.trail;
    this.#tenants = deps.tenants;
    this.#guard = deps.guard;
  }

  /** `order` maps 'Type/id' to a sort key: the run's per-recipient order (src/export/watermark.ts). */
  async open(jobId: string, order: (ref: string) => string): Promise<ExportRelease> {
    const job = await this.#store.exports.getJob(jobId);
    let ctx: AuditContext = { principal: null, tenant: job?.tenant ?? null, purposeOfUse: 'HSYSADMIN', ip: null, userAgent: null, emergency: false };
    const jobObject: AuditObjectRef = { type: 'ExportJob', id: jobId };
    try {
      if (job === null) throw notFound('no such export job');
      const requester = await this.#store.getPrincipal(job.requestedBy);
      const approver = job.decidedBy === null ? null : await this.#store.getPrincipal(job.decidedBy);
      if (requester !== null) ctx = { ...ctx, principal: asPrincipal(requester, job), purposeOfUse: job.purposeOfUse };
      checkJob(job, requester, approver);
      await this.#tenants.assertExists(job.tenant);
      // Contained people export nothing either; the guard is asked, never told (no release is counted).
      for (const row of [requester!, approver!]) await this.#guard.admit(accessOf(asPrincipal(row, job), job));
      const plan = await this.#plan(job, order);
      await this.#trail.record(ctx, {
        action: 'E', operation: 'export', patients: plan.patients, outcome: 'success',
        objects: [
          { ...jobObject, query: describeJob(job, approver!) },
          ...plan.counts.map(([type, n]) => ({ type, query: { count: [String(n)] } })),
        ],
      });
      return {
        jobId, tenant: job.tenant, patients: plan.patients.length, listed: plan.refs.length,
        resources: () => this.#records(job, plan.refs),
      };
    } catch (e) {
      if (!isLabkluisError(e, 'ERR_AUDIT_UNAVAILABLE')) await this.#trail.refusal(ctx, { action: 'E', operation: 'export', patients: [], objects: [jobObject] }, e);
      throw e;
    }
  }

  /**
   * What is in scope, from index columns only (nothing is decrypted here): the current version
   * of each record of the job's types in the period; for the released view only what a
   * requester sees. The patients are the subjects of every record of the view's clinical types
   * in the period (also of types not exported, so a Patients-only export finds its people), and
   * for a whole-tenant transfer every person of the tenant.
   */
  async #plan(job: ExportJobRow, order: (ref: string) => string) {
    const { tenant, scope, view } = job;
    const wanted = new Set<string>(scope.types);
    const refs: Ref[] = [];
    const patients = new Set<string>();
    const counts = new Map<string, number>();
    // Canaries are synthetic: they never go to a recipient, and are in no count.
    const canaries = new Set((await this.#store.sentinel.listCanaries(tenant)).map((c) => c.pseudonym));
    const ref = (type: ExportType, id: string, version: number | null) => {
      refs.push({ type, id, version, key: order(`${type}/${id}`) });
      counts.set(type, (counts.get(type) ?? 0) + 1);
    };
    for (const type of EXPORT_TYPES[view]) {
      if (type === 'Patient') continue;
      const statuses = view === 'released' ? visibleStatuses('requester', type) : null;
      let afterPos: number | undefined;
      for (;;) {
        const rows = await this.#store.searchResources({
          tenant, type, limit: PAGE,
          ...(statuses ? { statuses } : {}),
          ...(scope.from ? { dateFrom: scope.from } : {}),
          ...(scope.to ? { dateTo: scope.to } : {}),
          ...(afterPos === undefined ? {} : { afterPos }),
        });
        for (const r of rows) {
          if (r.pseudonym && canaries.has(r.pseudonym)) continue;
          if (view === 'released' && type === 'Observation' && !(await inAuthorisedReport(this.#store, this.#codec, tenant, r.id))) continue;
          if (r.pseudonym) patients.add(r.pseudonym);
          if (wanted.has(type)) ref(type, r.id, r.version);
        }
        if (rows.length < PAGE) break;
        afterPos = rows[rows.length - 1]!.pos!;
      }
    }
    if (view === 'full' && scope.from === null && scope.to === null) {
      for (let after: string | null = null; ;) {
        const rows = await this.#store.exports.listPersons(tenant, after, PAGE);
        for (const r of rows) if (!canaries.has(r.pseudonym)) patients.add(r.pseudonym);
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1]!.pseudonym;
      }
    }
    if (wanted.has('Patient')) for (const p of patients) ref('Patient', p, null);
    refs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { refs, patients: [...patients], counts: [...counts.entries()] };
  }

  async *#records(job: ExportJobRow, refs: readonly Ref[]): AsyncGenerator<Resource & { id: string }> {
    for (const r of refs) {
      if (r.type === 'Patient') {
        const row = await this.#store.getPerson(job.tenant, r.id);
        if (row === null) continue; // a record's subject without an identity record: nothing to export
        const patient = await this.#codec.openPerson(row);
        yield job.scope.identity ? patient : pseudonymisedPatient(patient);
      } else {
        // The version listed (and audited) is the one exported, even if a newer one came since.
        const row = await this.#store.getResource(job.tenant, r.type, r.id, r.version ?? undefined);
        if (row === null) throw new LabkluisError('ERR_INTEGRITY', 'a listed record is missing');
        yield await this.#codec.openResource(row);
      }
    }
  }
}

/** The job as stored must still be what two people agreed to, under the rules above. */
function checkJob(job: ExportJobRow, requester: PrincipalRow | null, approver: PrincipalRow | null): asserts requester is PrincipalRow {
  if (job.status !== 'approved' || job.runStartedAt === null) throw conflict('the export job is not approved and claimed for a run');
  const rule = exportRuleFor(job.requestedRole);
  if (rule === null || rule.view !== job.view) throw forbidden('this export job does not follow the export rules');
  if (requester === null || requester.disabled || requester.role !== job.requestedRole || !mayActFor(asPrincipal(requester, job), job.tenant)) {
    throw forbidden('the person who requested this export may no longer export this tenant');
  }
  if (approver === null || approver.disabled) throw forbidden('the person who approved this export is no longer active');
  const refusal = approvalRefusal(job, asPrincipal(approver, job));
  if (refusal !== null) throw forbidden(refusal);
  const allowed: readonly string[] = EXPORT_TYPES[job.view];
  if (job.scope.types.length === 0 || !job.scope.types.every((t) => allowed.includes(t))) throw forbidden('the job asks for types its view does not hold');
}

/** A stored principal as the audit log and the guard see it (credential: the job). */
function asPrincipal(row: PrincipalRow, job: ExportJobRow): Principal {
  return principalFromRow(row, job.id);
}

function accessOf(principal: Principal, job: ExportJobRow): AccessContext {
  return Object.freeze({ principal, tenant: job.tenant, purposeOfUse: job.purposeOfUse, ip: null, userAgent: null, emergency: false });
}

/** The job as the audit log keeps it: who approved, what view and period, to which key. */
function describeJob(job: ExportJobRow, approver: PrincipalRow): Record<string, string[]> {
  return {
    approvedBy: [approver.id],
    view: [job.view],
    types: [...job.scope.types],
    identity: [job.scope.identity ? 'yes' : 'pseudonymised'],
    recipient: [job.recipient],
    ...(job.scope.from || job.scope.to ? { date: [`${job.scope.from ?? ''}..${job.scope.to ?? ''}`] } : {}),
  };
}
