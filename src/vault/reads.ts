import type { Resource } from 'fhir/r4.js';
import { forbidden, invalidInput, isLabkluisError, notFound, type Clock } from '../kernel/index.js';
import { requireStepUp } from '../auth/index.js';
import type { ResourceRow, ResourceType, Store } from '../store/index.js';
import { BSN_SYSTEM, ID_PATTERN, parseSearch, type SearchType } from '../domain/index.js';
import type { AccessContext } from './context.js';
import { assertNotSuspended, authorize, identityView, type FhirType } from './policy.js';
import { pseudonymisedPatient, type RecordCodec } from './records.js';
import { visibleStatuses } from './rules.js';
import { auditId } from './audit-safe.js';
import { inAuthorisedReport } from './released.js';
import type { TenantDirectory } from './tenants.js';
import type { AuditObjectRef, Trail } from './trail.js';
import { assertClinicalTenant, decodeCursor, encodeCursor } from './cursor.js';
import type { BreakGlass } from './break-glass.js';
import type { EgressGuard, SearchShape } from './egress-guard.js';

const EMERGENCY_TYPES = new Set<FhirType>(['Patient', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport']);

export interface SearchPage {
  readonly resources: readonly (Resource & { id: string })[];
  /** Opaque cursor for the next page, or null on the last page. */
  readonly next: string | null;
}

/**
 * Reads and searches. Order matters: fetch and decrypt in memory, then append the audit entry
 * and wait until it is durable, then hand the data out. If the append fails nothing is returned.
 */
export class VaultReads {
  readonly #store: Store;
  readonly #codec: RecordCodec;
  readonly #trail: Trail;

  readonly #tenants: TenantDirectory;
  readonly #breakGlass: BreakGlass;
  readonly #clock: Clock;
  readonly #guard: EgressGuard;

  constructor(deps: { store: Store; codec: RecordCodec; trail: Trail; tenants: TenantDirectory; breakGlass: BreakGlass; clock: Clock; guard: EgressGuard }) {
    this.#guard = deps.guard;
    this.#breakGlass = deps.breakGlass;
    this.#clock = deps.clock;
    this.#store = deps.store;
    this.#codec = deps.codec;
    this.#trail = deps.trail;
    this.#tenants = deps.tenants;
  }

  async read(ctx: AccessContext, type: FhirType, id: string, version?: number): Promise<Resource & { id: string }> {
    const objects = [{ type, id, ...(version === undefined ? {} : { version }) }];
    const operation = version === undefined ? 'read' : 'vread';
    let patients: string[] = [];
    let lastChanged: (string | null)[] = [];
    let inProgress: boolean[] = [];
    let bytes = 0;
    try {
      const granted = await this.#emergencyGrants(ctx, type, 'read');
      assertClinicalTenant(ctx);
      await this.#tenants.assertExists(ctx.tenant);
      if (!ID_PATTERN.test(id)) throw notFound(`${type}/${id} not found`);
      let resource: Resource & { id: string };
      if (type === 'Patient') {
        if (granted && !granted.has(id)) throw forbidden('break-glass covers only the patient it was opened for');
        const row = await this.#store.getPerson(ctx.tenant, id);
        if (!row || (version !== undefined && row.version !== version)) throw notFound(`${type}/${id} not found`);
        patients = [row.pseudonym];
        lastChanged = [null];
        inProgress = [false];
        bytes = row.body.length;
        resource = await this.#codec.openPerson(row);
        if (!granted && identityView(ctx.principal.role) === 'pseudonymised') resource = pseudonymisedPatient(resource);
      } else {
        const row = await this.#store.getResource(ctx.tenant, type as ResourceType, id, version);
        // Under break-glass another patient's record is as absent as a missing one.
        const shown = row !== null && (granted ? granted.has(row.pseudonym ?? '') : await this.#visible(ctx, row));
        if (!row || !shown) throw notFound(`${type}/${id} not found`);
        // Roles that see released records only get the current version: an older one may
        // never have been authorised (a withdrawn result, a report since reopened).
        if (!granted && version !== undefined && visibleStatuses(ctx.principal.role, type) !== null) {
          const current = await this.#store.getResource(ctx.tenant, type as ResourceType, id);
          if (current?.version !== version) throw notFound(`${type}/${id} not found`);
        }
        patients = row.pseudonym ? [row.pseudonym] : [];
        lastChanged = row.pseudonym ? [row.lastUpdated] : [];
        inProgress = row.pseudonym ? [await this.#inProgress(ctx, row)] : [];
        bytes = row.body.length;
        resource = await this.#codec.openResource(row);
      }
      await this.#guard.release(ctx, { operation, type, patients, records: 1, bytes, lastChanged, inProgress, query: null });
      await this.#trail.record(ctx, { action: 'R', operation, patients, objects, outcome: 'success' });
      return resource;
    } catch (e) {
      this.#guard.refused(ctx);
      if (!isLabkluisError(e, 'ERR_AUDIT_UNAVAILABLE')) await this.#trail.refusal(ctx, { action: 'R', operation, patients, objects }, e);
      throw e;
    }
  }

  async search(ctx: AccessContext, type: FhirType, params: URLSearchParams): Promise<SearchPage> {
    const objects: AuditObjectRef[] = [{ type }];
    try {
      const granted = await this.#emergencyGrants(ctx, type, 'search');
      assertClinicalTenant(ctx);
      await this.#tenants.assertExists(ctx.tenant);
      const q = parseSearch(type as SearchType, params);
      if (granted) {
        // Under break-glass a search names the granted patient(s) and nothing wider.
        const named = type === 'Patient' ? q.ids : q.subject;
        if (!named || named.length === 0 || !named.every((p) => granted.has(p)) || (type === 'Patient' && q.identifier)) {
          throw forbidden('under break-glass, search only for the patient the grant is for (subject= or _id=)');
        }
      }
      const page = type === 'Patient' ? await this.#searchPatients(ctx, q, objects, granted) : await this.#searchClinical(ctx, type as ResourceType, q, objects, granted);
      const patients = [...page.patients.keys()];
      const seen = [...page.patients.values()];
      await this.#guard.release(ctx, {
        operation: 'search', type, patients, lastChanged: seen.map((p) => p.lastChanged), inProgress: seen.map((p) => p.inProgress),
        records: page.resources.length, bytes: page.bytes, query: searchShape(q),
      });
      await this.#trail.record(ctx, { action: 'R', operation: 'search', patients, objects, outcome: 'success' });
      return { resources: page.resources, next: page.next };
    } catch (e) {
      this.#guard.refused(ctx);
      if (!isLabkluisError(e, 'ERR_AUDIT_UNAVAILABLE')) await this.#trail.refusal(ctx, { action: 'R', operation: 'search', patients: [], objects }, e);
      throw e;
    }
  }

  async #searchPatients(ctx: AccessContext, q: ReturnType<typeof parseSearch>, objects: AuditObjectRef[], granted: ReadonlySet<string> | null) {
    // No unfiltered listing of people: a search names one BSN or one id.
    let rows;
    if (q.identifier) {
      if (q.identifier.system !== undefined && q.identifier.system !== BSN_SYSTEM) throw invalidInput('Patient can be searched by BSN identifier only');
      const token = await this.#codec.token(ctx.tenant, 'identifier', BSN_SYSTEM, q.identifier.value);
      objects[0] = { type: 'Patient', query: { identifier: [token] } };
      rows = await this.#store.findPersonsByBsn(ctx.tenant, token);
    } else if (q.ids && q.ids.length > 0) {
      objects[0] = { type: 'Patient', query: { _id: q.ids.map(auditId) } };
      const found = await Promise.all(q.ids.map((id) => this.#store.getPerson(ctx.tenant, id)));
      rows = found.filter((r) => r !== null);
    } else {
      throw invalidInput('a Patient search needs identifier (BSN) or _id');
    }
    const view = granted ? 'full' : identityView(ctx.principal.role);
    // Who several people are at once is a bulk reveal: a signed-in person needs a fresh step-up.
    // API tokens cannot step up, so they reveal one person at a time.
    if (view === 'full' && rows.length > 1) requireStepUp(ctx.principal, this.#clock, 'revealing several patients at once');
    const resources = await Promise.all(rows.map(async (r) => {
      const p = await this.#codec.openPerson(r);
      return view === 'full' ? p : pseudonymisedPatient(p);
    }));
    return { resources, next: null, patients: new Map(rows.map((r) => [r.pseudonym, IDENTITY_ONLY])), bytes: storedBytes(rows) };
  }

  async #searchClinical(ctx: AccessContext, type: ResourceType, q: ReturnType<typeof parseSearch>, objects: AuditObjectRef[], granted: ReadonlySet<string> | null) {
    const limit = q.count;
    const tokens = await Promise.all(
      (q.tokens ?? []).map((group) => Promise.all(group.map((t) => this.#codec.token(ctx.tenant, t.param, t.system, t.value)))),
    );
    const allowed = granted ? null : visibleStatuses(ctx.principal.role, type);
    let statuses = q.status;
    if (allowed) statuses = statuses ? statuses.filter((s) => allowed.includes(s)) : [...allowed];
    objects[0] = { type, query: describeQuery(q.subject, tokens, statuses, q.dateFrom, q.dateTo) };
    // Asked only for statuses it may not see: an empty page (still audited), no query.
    if (statuses && statuses.length === 0) return { resources: [], next: null, patients: new Map<string, PatientSeen>(), bytes: 0 };
    const rows = await this.#store.searchResources({
      tenant: ctx.tenant,
      type,
      ...(q.subject ? { pseudonyms: q.subject } : {}),
      ...(tokens.length ? { tokens } : {}),
      ...(statuses ? { statuses } : {}),
      ...(q.dateFrom ? { dateFrom: q.dateFrom } : {}),
      ...(q.dateTo ? { dateTo: q.dateTo } : {}),
      ...(q.cursor ? { afterPos: decodeCursor(q.cursor) } : {}),
      limit: limit + 1,
    });
    const pageRows = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(pageRows[pageRows.length - 1]!.pos!) : null;
    // A page may come back shorter than _count when some results are not released yet.
    const visible = [];
    for (const r of pageRows) {
      if (granted ? granted.has(r.pseudonym ?? '') : await this.#visible(ctx, r)) visible.push(r);
    }
    const resources = await Promise.all(visible.map((r) => this.#codec.openResource(r)));
    const progress = await Promise.all(visible.map((r) => this.#inProgress(ctx, r)));
    return { resources, next, patients: newestPerPatient(visible, progress), bytes: storedBytes(visible) };
  }

  /**
   * Outside break-glass: the role's grants apply (null is returned). Under break-glass (ETREAT):
   * the clinical record types, for the patients of the person's live grants only.
   */
  async #emergencyGrants(ctx: AccessContext, type: FhirType, action: 'read' | 'search'): Promise<ReadonlySet<string> | null> {
    if (!ctx.emergency) {
      authorize(ctx.principal, action, type);
      return null;
    }
    assertNotSuspended(ctx.principal, type);
    if (!EMERGENCY_TYPES.has(type)) throw forbidden(`break-glass does not cover ${type}`);
    const granted = await this.#breakGlass.granted(ctx);
    if (granted.size === 0) throw forbidden('no live break-glass grant: open one first (POST /auth/break-glass)');
    return granted;
  }

  /**
   * Work in progress, as the sentinel counts it: an open order, a result or report not final,
   * and for the lab's own roles (who see every status) a final result that no authorised report
   * holds yet: what a validator reads while authorising.
   */
  async #inProgress(ctx: AccessContext, row: ResourceRow): Promise<boolean> {
    if (isInProgress(row)) return true;
    if (row.type !== 'Observation' || visibleStatuses(ctx.principal.role, row.type) !== null) return false;
    return !(await inAuthorisedReport(this.#store, this.#codec, ctx.tenant, row.id));
  }

  /** Requesters see released records only: an authorised report, and results that one of those holds. */
  async #visible(ctx: AccessContext, row: ResourceRow): Promise<boolean> {
    const allowed = visibleStatuses(ctx.principal.role, row.type);
    if (allowed === null) return true;
    if (!allowed.includes(row.status ?? '')) return false;
    return row.type !== 'Observation' || inAuthorisedReport(this.#store, this.#codec, ctx.tenant, row.id);
  }
}

/** The query as the audit log keeps it: pseudonyms and blind tokens, never plain values. */
function describeQuery(
  subject: readonly string[] | undefined, tokens: string[][], statuses: readonly string[] | undefined, from?: string, to?: string,
): Record<string, string[]> {
  const q: Record<string, string[]> = {};
  if (subject) q.subject = subject.map(auditId);
  tokens.forEach((group, i) => (q[`token.${i}`] = group)); // AND over groups, OR within one
  if (statuses) q.status = [...statuses];
  if (from || to) q.date = [`${from ?? ''}..${to ?? ''}`];
  return q;
}

/**
 * The size of records as stored: their sealed bodies, a few dozen bytes more than the JSON
 * each carries. Counting this instead of serialising every resource again keeps the
 * sentinel's byte limits off the hot path and errs on the high side.
 */
function storedBytes(rows: readonly { body: Buffer }[]): number {
  let n = 0;
  for (const r of rows) n += r.body.length;
  return n;
}

/** How a response shows one patient, as the sentinel weighs it. */
interface PatientSeen {
  /** When the patient's newest record in the response was last changed (null: identity only). */
  readonly lastChanged: string | null;
  /** Every one of the patient's records in the response is work in progress. */
  readonly inProgress: boolean;
}

const IDENTITY_ONLY: PatientSeen = Object.freeze({ lastChanged: null, inProgress: false });

/**
 * Records still being worked on: an order not yet done, a result or report not yet final. A
 * lab's analysts and validators read these in batches; the archive of final results is what a
 * thief wants. Specimens are never counted as in progress: their status says nothing about the
 * work, and a walk through barcodes reads specimens.
 */
const IN_PROGRESS: Readonly<Partial<Record<string, readonly string[]>>> = Object.freeze({
  ServiceRequest: ['draft', 'active', 'on-hold'],
  Observation: ['registered', 'preliminary'],
  DiagnosticReport: ['registered', 'partial', 'preliminary'],
});

function isInProgress(row: ResourceRow): boolean {
  return IN_PROGRESS[row.type]?.includes(row.status ?? '') ?? false;
}

/** The patients of these records: when each one's newest record here was last changed, and whether all are in progress (`progress`, per row). */
function newestPerPatient(rows: readonly ResourceRow[], progress: readonly boolean[]): Map<string, PatientSeen> {
  const seen = new Map<string, PatientSeen>();
  for (const [i, r] of rows.entries()) {
    if (!r.pseudonym) continue;
    const before = seen.get(r.pseudonym);
    const inProgress = progress[i] === true;
    if (before === undefined) seen.set(r.pseudonym, { lastChanged: r.lastUpdated, inProgress });
    else {
      const lastChanged = before.lastChanged !== null && r.lastUpdated > before.lastChanged ? r.lastUpdated : before.lastChanged;
      seen.set(r.pseudonym, { lastChanged, inProgress: before.inProgress && inProgress });
    }
  }
  return seen;
}

/** What the sentinel weighs of a search: whether it names anyone, and the barcodes it walks. */
function searchShape(q: ReturnType<typeof parseSearch>): SearchShape {
  const identifiers = (q.tokens ?? []).flat().filter((t) => t.param === 'identifier').map((t) => t.value);
  const named = (q.subject?.length ?? 0) > 0 || (q.ids?.length ?? 0) > 0 || q.identifier !== undefined
    || (q.tokens ?? []).some((group) => group.some((t) => t.param !== 'code'));
  return { broad: !named, identifiers };
}
