import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import { conflict, forbidden, invalidInput, invalidResource, isLabkluisError, notFound, randomId, type Clock, type Random } from '../kernel/index.js';
import { canonicalJson, type JsonValue } from '../audit/index.js';
import type { PersonRow, ResourceRow, ResourceType, Store, TenantRow, Versioned } from '../store/index.js';
import { ID_PATTERN, listReferences, referencedId, rewriteReferences, validateResource } from '../domain/index.js';
import type { AccessContext } from './context.js';
import { assertClinicalTenant } from './cursor.js';
import { authorize, readsBack, type FhirType } from './policy.js';
import type { RecordCodec } from './records.js';
import { authorises, checkFourEyes, checkWrite, isAuthorisedStatus } from './rules.js';
import { inAuthorisedReport } from './released.js';
import { bundleRequests, validateAt, type WriteRequest } from './bundle-requests.js';
import type { TenantDirectory } from './tenants.js';
import type { AuditObjectRef, Trail } from './trail.js';

type AnyResource = Resource & { id: string; meta?: Resource['meta'] };
// The records the vault keeps: what may be written here, and what a reference is checked against.
const VAULT_TYPES = new Set(['Patient', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport']);
export const MAX_ENTRIES = 1000;

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

  constructor(deps: { store: Store; codec: RecordCodec; trail: Trail; clock: Clock; random: Random; tenants: TenantDirectory }) {
    this.#tenants = deps.tenants;
    this.#store = deps.store;
    this.#codec = deps.codec;
    this.#trail = deps.trail;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  /** A transaction Bundle (already shape-checked by the caller or not: it is checked here). */
  async transaction(ctx: AccessContext, bundle: unknown): Promise<Bundle> {
    let requests: WriteRequest[];
    try {
      // The whole bundle in one pass: every entry, and every urn:uuid reference pointing at an
      // entry of a type that field accepts (a result's subject must be a Patient).
      bundleRequests(bundle); // shape first: clearer messages for a bundle that is not a transaction
      const validated = validateResource(bundle, { clock: this.#clock }) as unknown as Bundle;
      requests = bundleRequests(validated).map((r) => ({ ...r, validated: true }));
    } catch (e) {
      await this.#trail.refusal(ctx, { action: 'C', operation: 'transaction', patients: [], objects: [{ type: 'Bundle' }] }, e);
      throw e;
    }
    const results = await this.apply(ctx, requests, 'transaction');
    return {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: results.map((r): BundleEntry => ({
        ...(r.resource ? { resource: r.resource } : {}),
        response: { status: r.status, location: r.location, etag: r.etag, lastModified: r.lastModified },
      })),
    };
  }

  async apply(ctx: AccessContext, requests: readonly WriteRequest[], operation: string, newTenants: readonly TenantRow[] = []): Promise<WriteResult[]> {
    const objects = requests.map((r) => ({ type: r.type, ...(r.id ? { id: r.id } : {}) }));
    let planned: Planned[] = [];
    try {
      assertClinicalTenant(ctx);
      if (!newTenants.some((t) => t.id === ctx.tenant)) await this.#tenants.assertExists(ctx.tenant);
      if (requests.length === 0) throw invalidInput('nothing to write');
      if (requests.length > MAX_ENTRIES) throw invalidInput(`at most ${MAX_ENTRIES} entries per transaction`);
      planned = await this.#plan(ctx, requests, operation);
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
          const row = await this.#codec.sealPerson(ctx.tenant, p.resource, p.version, ctx.principal.id, at);
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
      const rows = await this.#store.commit({ tenants: newTenants, persons, resources }, this.#trail.log.sealerFor(drafts));
      this.#trail.log.noteAppended(rows);
      const back = readsBack(ctx.principal.role);
      return planned.map((p) => ({
        status: p.method === 'POST' ? '201 Created' : '200 OK',
        location: `${p.type}/${p.id}/_history/${p.version}`,
        etag: `W/"${p.version}"`,
        lastModified: at,
        type: p.type,
        id: p.id,
        version: p.version,
        resource: back ? p.resource : null,
      }));
    } catch (e) {
      if (!isLabkluisError(e, 'ERR_AUDIT_UNAVAILABLE')) {
        const action = requests.every((r) => r.method === 'PUT') ? 'U' : 'C';
        await this.#trail.refusal(ctx, { action, operation, patients: [], objects }, e);
      }
      throw e;
    }
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
