import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import { conflict, forbidden, invalidInput, invalidResource, isLabkluisError, notFound, randomId, type Clock, type Random } from '../kernel/index.js';
import { canonicalJson, type AuditDraft, type JsonValue } from '../audit/index.js';
import type { PersonRow, ResourceRow, ResourceType, Store, TenantRow, Versioned } from '../store/index.js';
import { ID_PATTERN, listReferences, referencedId, rewriteReferences, validateResource } from '../domain/index.js';
import type { AccessContext } from './context.js';
import type { EgressGuard } from './egress-guard.js';
import { assertClinicalTenant } from './cursor.js';
import { authorize, readsBack, type FhirType } from './policy.js';
import type { RecordCodec } from './records.js';
import { authorises, checkFourEyes, checkWrite, isAuthorisedStatus } from './rules.js';
import { inAuthorisedReport } from './released.js';
import { bundleRequests, validateAt, type WriteRequest } from './bundle-requests.js';
import type { TenantDirectory } from './tenants.js';
import type { AuditObjectRef, Trail } from './trail.js';

type AnyResource = Resource & { id: string; meta?: Resource['meta'] };
/** indexBsn false: canary patients, kept out of the BSN index (canaryTransaction). */
interface WriteOptions { readonly indexBsn: boolean }
const INDEXED: WriteOptions = Object.freeze({ indexBsn: true });
// The records the vault keeps: what may be written here, and what a reference is checked against.
const VAULT_TYPES = new Set(['Patient', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport']);
export const MAX_ENTRIES = 1000;
/** How much one grouped commit of several bundles holds at most. */
export const GROUP_LIMITS = { bundles: 64, resources: 1000 } as const;

/** What transactions() did: the responses of the committed bundles, and the refusal that stopped it. */
export interface BatchOutcome {
  readonly responses: Bundle[];
  readonly refused?: BatchRefusal;
}
export interface BatchRefusal {
  /** Index of the refused bundle; every bundle before it was committed. */
  readonly index: number;
  readonly error: unknown;
}

/** A write planned, checked and sealed: rows and audit drafts ready for one store commit. */
interface PreparedWrite {
  readonly tenants: readonly TenantRow[];
  readonly persons: readonly Versioned<PersonRow>[];
  readonly resources: readonly Versioned<ResourceRow>[];
  readonly drafts: readonly AuditDraft[];
  readonly results: WriteResult[];
  readonly refusal: Refusal;
}
interface Refusal {
  readonly ctx: AccessContext;
  readonly operation: string;
  readonly action: 'C' | 'U';
  readonly objects: readonly AuditObjectRef[];
}

interface Planned {
  readonly index: number;
  readonly method: 'POST' | 'PUT';
  readonly type: FhirType;
  readonly id: string;
  readonly version: number;
  readonly resource: AnyResource;
  readonly previous: { resource: AnyResource; version: number } | null;
}


/**
 * Creates and updates, always as one atomic commit: rows and their audit entries land
 * together or not at all, so there is never a half-written bundle nor an unaudited write.
 */
export class VaultWrites {
  readonly #store: Store;
  readonly #codec: RecordCodec;
  readonly #trail: Trail;
  readonly #clock: Clock;
  readonly #random: Random;

  readonly #tenants: TenantDirectory;
  readonly #guard: EgressGuard;

  constructor(deps: { store: Store; codec: RecordCodec; trail: Trail; clock: Clock; random: Random; tenants: TenantDirectory; guard: EgressGuard }) {
    this.#guard = deps.guard;
    this.#tenants = deps.tenants;
    this.#store = deps.store;
    this.#codec = deps.codec;
    this.#trail = deps.trail;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  /** A transaction Bundle (already shape-checked by the caller or not: it is checked here). */
  async transaction(ctx: AccessContext, bundle: unknown): Promise<Bundle> {
    const [response] = await this.#commit([await this.#prepareBundle(ctx, bundle, true)]);
    return response!;
  }

  /**
   * Canary patients (issue 4, sentinel/canaries.ts): one transaction like any other, except that
   * its Patients' BSNs stay out of the BSN index. A BSN search never finds a canary, and a real
   * person with the same number registers without a conflict (the index is unique per tenant).
   * Only the local operator's role (importer) writes one.
   */
  async canaryTransaction(ctx: AccessContext, bundle: unknown): Promise<Bundle> {
    const [response] = await this.#commit([await this.#prepareBundle(ctx, bundle, true, { indexBsn: false })]);
    return response!;
  }

  /**
   * Several transaction Bundles from one principal and tenant (import, demo): each one atomic,
   * with its own audit entries, exactly as if sent one after another, but committed in groups
   * so that many small bundles share one durable commit. Stops at the first bundle the vault
   * refuses: every bundle before it is committed, it and the ones after it are not.
   *
   * Only bundles that create and nothing else share a commit: an update may depend on what an
   * earlier bundle of the group changes (a report authorised there locks its results; a result
   * entered there counts for four eyes), so a bundle with an update always goes alone, after
   * the group before it has committed.
   *
   * A bundle is first prepared against the store as it is before its group commits. If that
   * fails (it may refer to a record of an earlier bundle in the group) or the group's commit
   * fails (two bundles updating one record), the group so far is committed or replayed bundle
   * by bundle, and the bundle is tried again on its own: only that outcome counts, and only
   * that one is audited as a refusal.
   */
  async transactions(ctx: AccessContext, bundles: readonly unknown[], limits = GROUP_LIMITS): Promise<BatchOutcome> {
    const responses: Bundle[] = [];
    let group: { index: number; input: unknown; prepared: PreparedWrite }[] = [];
    let groupResources = 0;
    const flush = async (): Promise<BatchRefusal | null> => {
      const pending = group;
      group = [];
      groupResources = 0;
      if (pending.length === 0) return null;
      try {
        responses.push(...(await this.#commit(pending.map((g) => g.prepared))));
        return null;
      } catch (e) {
        if (isLabkluisError(e, 'ERR_AUDIT_UNAVAILABLE')) throw e;
        // Nothing of the group was written: replay it one bundle at a time.
        for (const g of pending) {
          try {
            responses.push(await this.transaction(ctx, g.input));
          } catch (error) {
            if (isLabkluisError(error, 'ERR_AUDIT_UNAVAILABLE')) throw error;
            return { index: g.index, error };
          }
        }
        return null;
      }
    };
    for (let index = 0; index < bundles.length; index++) {
      const input = bundles[index];
      if (!createsOnly(input)) {
        const refused = await flush();
        if (refused) return { responses, refused };
        try {
          responses.push(await this.transaction(ctx, input));
          continue;
        } catch (error) {
          if (isLabkluisError(error, 'ERR_AUDIT_UNAVAILABLE')) throw error;
          return { responses, refused: { index, error } };
        }
      }
      let prepared: PreparedWrite;
      try {
        prepared = await this.#prepareBundle(ctx, input, group.length === 0);
      } catch (error) {
        if (isLabkluisError(error, 'ERR_AUDIT_UNAVAILABLE')) throw error;
        if (group.length === 0) return { responses, refused: { index, error } }; // alone, audited: final
        const refused = await flush();
        if (refused) return { responses, refused };
        index--; // again, on its own
        continue;
      }
      group.push({ index, input, prepared });
      groupResources += prepared.results.length;
      if (group.length >= limits.bundles || groupResources >= limits.resources) {
        const refused = await flush();
        if (refused) return { responses, refused };
      }
    }
    const refused = await flush();
    return refused ? { responses, refused } : { responses };
  }

  /** Validates and plans one bundle; refusals are audited only when `audited` (a final answer). */
  async #prepareBundle(ctx: AccessContext, bundle: unknown, audited: boolean, options: WriteOptions = INDEXED): Promise<PreparedWrite> {
    let requests: WriteRequest[];
    try {
      // The whole bundle in one pass: every entry, and every urn:uuid reference pointing at an
      // entry of a type that field accepts (a result's subject must be a Patient).
      bundleRequests(bundle); // shape first: clearer messages for a bundle that is not a transaction
      const validated = validateResource(bundle, { clock: this.#clock }) as unknown as Bundle;
      requests = bundleRequests(validated).map((r) => ({ ...r, validated: true }));
    } catch (e) {
      if (audited) await this.#trail.refusal(ctx, { action: 'C', operation: 'transaction', patients: [], objects: [{ type: 'Bundle' }] }, e);
      throw e;
    }
    return this.#prepare(ctx, requests, 'transaction', [], audited, options);
  }

  /** Commits prepared writes as one store transaction; a transaction-response Bundle for each. */
  async #commit(prepared: readonly PreparedWrite[]): Promise<Bundle[]> {
    await this.#commitWrites(prepared);
    return prepared.map((p) => ({
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: p.results.map((r): BundleEntry => ({
        ...(r.resource ? { resource: r.resource } : {}),
        response: { status: r.status, location: r.location, etag: r.etag, lastModified: r.lastModified },
      })),
    }));
  }

  async #commitWrites(prepared: readonly PreparedWrite[]): Promise<void> {
    try {
      const rows = await this.#store.commit({
        tenants: prepared.flatMap((p) => p.tenants),
        persons: prepared.flatMap((p) => p.persons),
        resources: prepared.flatMap((p) => p.resources),
      }, this.#trail.log.sealerFor(prepared.flatMap((p) => p.drafts)));
      this.#trail.log.noteAppended(rows);
    } catch (e) {
      if (!isLabkluisError(e, 'ERR_AUDIT_UNAVAILABLE') && prepared.length === 1) await this.#refuse(prepared[0]!.refusal, e);
      throw e;
    }
  }

  async apply(ctx: AccessContext, requests: readonly WriteRequest[], operation: string, newTenants: readonly TenantRow[] = []): Promise<WriteResult[]> {
    const prepared = await this.#prepare(ctx, requests, operation, newTenants, true);
    await this.#commitWrites([prepared]);
    return prepared.results;
  }

  /**
   * Plans, checks and seals a write without committing it. When `audited`, a refusal is
   * recorded before it is thrown; otherwise the caller tries again and records the outcome.
   */
  async #prepare(ctx: AccessContext, requests: readonly WriteRequest[], operation: string, newTenants: readonly TenantRow[], audited: boolean, options: WriteOptions = INDEXED): Promise<PreparedWrite> {
    const refusal: Refusal = {
      ctx, operation,
      action: requests.length > 0 && requests.every((r) => r.method === 'PUT') ? 'U' : 'C',
      objects: requests.map((r) => ({ type: r.type, ...(r.id ? { id: r.id } : {}) })),
    };
    try {
      await this.#guard.admit(ctx);
      if (ctx.emergency) throw forbidden('break-glass gives read access only');
      if (!options.indexBsn && ctx.principal.role !== 'importer') throw forbidden('only the local operator writes canary patients');
      assertClinicalTenant(ctx);
      if (!newTenants.some((t) => t.id === ctx.tenant)) await this.#tenants.assertExists(ctx.tenant);
      if (requests.length === 0) throw invalidInput('nothing to write');
      if (requests.length > MAX_ENTRIES) throw invalidInput(`at most ${MAX_ENTRIES} entries per transaction`);
      const planned = await this.#plan(ctx, requests, operation);
      const at = this.#clock.now().toISOString();
      const persons: Versioned<PersonRow>[] = [];
      const resources: Versioned<ResourceRow>[] = [];
      // A transaction is one event: one entry for what it created and one for what it updated,
      // each naming every object and every patient (pseudonym) it touched.
      const events = { C: { patients: [] as string[], objects: [] as AuditObjectRef[] }, U: { patients: [] as string[], objects: [] as AuditObjectRef[] } };
      for (const p of planned) {
        p.resource.meta = { ...(p.resource.meta ?? {}), versionId: String(p.version), lastUpdated: at };
        const expectedVersion = p.previous ? p.previous.version : null;
        let pseudonym: string | null;
        if (p.type === 'Patient') {
          const row = await this.#codec.sealPerson(ctx.tenant, p.resource, p.version, ctx.principal.id, at, options.indexBsn);
          persons.push({ row, expectedVersion });
          pseudonym = row.pseudonym;
        } else {
          const row = await this.#codec.sealResource(ctx.tenant, p.resource, p.version, ctx.principal.id, at);
          resources.push({ row, expectedVersion });
          pseudonym = row.pseudonym;
        }
        const event = events[p.method === 'POST' ? 'C' : 'U'];
        if (pseudonym) event.patients.push(pseudonym);
        event.objects.push({ type: p.type, id: p.id, version: p.version });
      }
      const drafts = (['C', 'U'] as const)
        .filter((action) => events[action].objects.length > 0)
        .map((action) => this.#trail.draft(ctx, { action, operation, ...events[action], outcome: 'success' }));
      const back = readsBack(ctx.principal.role);
      const results = planned.map((p) => ({
        status: p.method === 'POST' ? '201 Created' : '200 OK',
        location: `${p.type}/${p.id}/_history/${p.version}`,
        etag: `W/"${p.version}"`,
        lastModified: at,
        type: p.type,
        id: p.id,
        version: p.version,
        resource: back ? p.resource : null,
      }));
      return { tenants: newTenants, persons, resources, drafts, results, refusal };
    } catch (e) {
      if (audited && !isLabkluisError(e, 'ERR_AUDIT_UNAVAILABLE')) await this.#refuse(refusal, e);
      throw e;
    }
  }

  async #refuse(r: Refusal, error: unknown): Promise<void> {
    await this.#trail.refusal(r.ctx, { action: r.action, operation: r.operation, patients: [], objects: r.objects }, error);
  }

  async #plan(ctx: AccessContext, requests: readonly WriteRequest[], operation: string): Promise<Planned[]> {
    const planned: Planned[] = [];
    const urls = new Map<string, string>();
    const inBundle = operation === 'transaction';
    // 1. validate, authorise, assign ids; remember fullUrl -> Type/id for reference rewriting
    for (const [index, req] of requests.entries()) {
      const where = inBundle ? `Bundle.entry[${index}]` : req.type;
      const tenantCreation = operation === 'create-tenant' && req.type === 'Organization';
      if (!VAULT_TYPES.has(req.type) && !tenantCreation) throw invalidInput(`${where}: ${req.type} cannot be written here`);
      const type = req.type as FhirType;
      authorize(ctx.principal, req.method === 'POST' ? 'create' : 'update', type);
      const resource = (req.validated ? req.resource : validateAt(req.resource, inBundle, index, this.#clock)) as AnyResource;
      if (resource.resourceType !== type) throw invalidResource(`${where}: resourceType is ${resource.resourceType}, the request is for ${type}`);
      let id: string;
      let previous: Planned['previous'] = null;
      if (req.method === 'POST') {
        // A tenant's Organization keeps the id the tenant was created under.
        id = tenantCreation && typeof resource.id === 'string' ? resource.id : randomId(this.#random);
      } else {
        if (!req.id || !ID_PATTERN.test(req.id)) throw invalidInput(`${where}: an update names the id in its url`);
        if (resource.id !== undefined && resource.id !== req.id) throw invalidResource(`${where}: the resource id does not match the url`, [{ expression: `${type}.id`, diagnostics: 'id differs from the url' }]);
        id = req.id;
        previous = await this.#current(ctx, type, id);
        if (req.ifMatch !== undefined && req.ifMatch !== `W/"${previous.version}"`) throw conflict(`${type}/${id} has changed (version ${previous.version})`);
      }
      resource.id = id;
      // The server owns versionId and lastUpdated; labels such as the synthetic-data tag stay.
      const { security, tag, profile } = resource.meta ?? {};
      resource.meta = { ...(security ? { security } : {}), ...(tag ? { tag } : {}), ...(profile ? { profile } : {}) };
      if (req.fullUrl) urls.set(req.fullUrl, `${type}/${id}`);
      planned.push({ index, method: req.method, type, id, version: previous ? previous.version + 1 : 1, resource, previous });
    }
    // 2. resolve urn:uuid references inside the bundle; none may dangle
    const createdBy = new Map(planned.map((p) => [`${p.type}/${p.id}`, p]));
    for (const p of planned) {
      rewriteReferences(p.resource, urls);
      for (const ref of listReferences(p.resource)) {
        if (ref.reference.startsWith('urn:')) throw invalidResource(`${ref.path}: refers to ${ref.reference}, which is not in this bundle`, [{ expression: ref.path, diagnostics: 'unresolved reference' }]);
      }
    }
    // 3. content rules; every reference resolves in this tenant (or in this bundle); four eyes
    const resolved = new Map<string, boolean>();
    for (const p of planned) {
      checkWrite(ctx.principal, p.resource, p.previous?.resource ?? null);
      for (const ref of listReferences(p.resource)) {
        if (createdBy.has(ref.reference) || (await this.#exists(ctx.tenant, ref.reference, resolved))) continue;
        throw invalidResource(`${ref.path}: ${ref.reference.split('/')[0]} does not exist in this tenant`, [{ expression: ref.path, diagnostics: 'unknown reference' }]);
      }
      if (p.type === 'Observation' && p.previous && (await inAuthorisedReport(this.#store, this.#codec, ctx.tenant, p.id))) {
        throw forbidden('this result is part of an authorised report: reopen the report first');
      }
      if (p.type === 'DiagnosticReport') await this.#checkReport(ctx, p, createdBy);
    }
    return planned;
  }

  /**
   * Whether a literal reference names a record in this tenant. Patients and the lab's own
   * clinical records are looked up; Device, Organization and Practitioner references name
   * things outside the vault and pass (their shape was validated).
   */
  async #exists(tenant: string, reference: string, cache: Map<string, boolean>): Promise<boolean> {
    const [type, id] = reference.split('/') as [string, string];
    if (!VAULT_TYPES.has(type)) return true;
    let found = cache.get(reference);
    if (found === undefined) {
      found = type === 'Patient'
        ? (await this.#store.getPerson(tenant, id)) !== null
        : (await this.#store.getResource(tenant, type as ResourceType, id)) !== null;
      cache.set(reference, found);
    }
    return found;
  }

  async #current(ctx: AccessContext, type: FhirType, id: string): Promise<{ resource: AnyResource; version: number }> {
    if (type === 'Patient') {
      const row = await this.#store.getPerson(ctx.tenant, id);
      if (!row) throw notFound(`${type}/${id} not found`);
      return { resource: await this.#codec.openPerson(row), version: row.version };
    }
    const row = await this.#store.getResource(ctx.tenant, type as ResourceType, id);
    if (!row) throw notFound(`${type}/${id} not found`);
    return { resource: await this.#codec.openResource(row), version: row.version };
  }

  /**
   * A report's life: authorised once as 'final', after that only as 'amended' (reopening in
   * between); and four eyes: whoever authorises entered neither any version of the report's
   * content nor any of its results. An authorising version that changes the content counts as
   * entered by its author too.
   */
  async #checkReport(ctx: AccessContext, p: Planned, inBundle: Map<string, Planned>): Promise<void> {
    const history: ResourceRow[] = [];
    for (let v = 1; p.previous && v <= p.previous.version; v++) {
      const row = await this.#store.getResource(ctx.tenant, 'DiagnosticReport', p.id, v);
      if (row) history.push(row);
    }
    const everAuthorised = history.some((r) => isAuthorisedStatus(r.status));
    const status = (p.resource as { status?: string }).status ?? '';
    if (status === 'final' && everAuthorised) throw forbidden("this report was authorised before: authorise the new version as 'amended'");
    if (status === 'amended' && !everAuthorised) throw forbidden("only a report that was authorised can be 'amended'");
    if (!authorises(p.resource)) return;

    const enteredBy = new Set<string>(history.filter((r) => !isAuthorisedStatus(r.status)).map((r) => r.enteredBy));
    if (!p.previous || contentChanged(p.previous.resource, p.resource)) enteredBy.add(ctx.principal.id);
    const results = ((p.resource as { result?: { reference?: string }[] }).result ?? []).map((r) => r.reference ?? '');
    for (const ref of results) {
      if (inBundle.has(ref)) {
        enteredBy.add(ctx.principal.id);
        continue;
      }
      const id = referencedId(ref, 'Observation');
      const current = id ? await this.#store.getResource(ctx.tenant, 'Observation', id) : null;
      if (!current) throw invalidResource(`DiagnosticReport.result: ${ref} does not exist in this tenant`, [{ expression: 'DiagnosticReport.result', diagnostics: 'unknown result' }]);
      for (let v = 1; v <= current.version; v++) {
        const row = v === current.version ? current : await this.#store.getResource(ctx.tenant, 'Observation', current.id, v);
        if (row) enteredBy.add(row.enteredBy);
      }
    }
    checkFourEyes(ctx.principal, enteredBy);
  }
}

/** A bundle whose every entry is a POST (anything malformed counts as not: it goes alone). */
function createsOnly(bundle: unknown): boolean {
  const entries = (bundle as { entry?: unknown } | null)?.entry;
  return Array.isArray(entries) && entries.every((e) => (e as { request?: { method?: unknown } } | null)?.request?.method === 'POST');
}

/** Whether two versions differ in anything but their status and server metadata. */
function contentChanged(before: AnyResource, after: AnyResource): boolean {
  const strip = (r: AnyResource) => {
    const { meta: _m, status: _s, ...rest } = r as AnyResource & { status?: string };
    return canonicalJson(rest as unknown as JsonValue);
  };
  return strip(before) !== strip(after);
}

export interface WriteResult {
  readonly status: string;
  readonly location: string;
  readonly etag: string;
  readonly lastModified: string;
  readonly type: FhirType;
  readonly id: string;
  readonly version: number;
  readonly resource: AnyResource | null;
}
