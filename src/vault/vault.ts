import type { Bundle, Organization, Resource } from 'fhir/r4.js';
import type { AuditLog } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import type { DataKeys, RecordCipher } from '../crypto/index.js';
import { conflict, isLabkluisError, randomId, type Clock, type Random } from '../kernel/index.js';
import type { Store } from '../store/index.js';
import { validateResource } from '../domain/index.js';
import { AuditReads } from './audit-reads.js';
import { accessContext, type AccessContext, type RequestFacts } from './context.js';
import { authorize, defaultPurpose, PURPOSES, type FhirType } from './policy.js';
import { VaultReads, type SearchPage } from './reads.js';
import { RecordCodec } from './records.js';
import { Trail } from './trail.js';
import { VaultWrites, type WriteResult } from './writes.js';

export interface VaultDeps {
  readonly store: Store;
  readonly keys: DataKeys;
  readonly cipher: RecordCipher;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly random: Random;
  readonly node: string; // this labkluis node, recorded as the audit access point
}

/**
 * The only door to data (DESIGN.md "Shape"). Every method takes the access context, checks
 * the role, audits, and talks to the store through ciphertext only.
 */
export class Vault {
  readonly #reads: VaultReads;
  readonly #writes: VaultWrites;
  readonly #audit: AuditReads;
  readonly #trail: Trail;
  readonly #deps: VaultDeps;

  constructor(deps: VaultDeps) {
    this.#deps = deps;
    const codec = new RecordCodec({ keys: deps.keys, cipher: deps.cipher });
    this.#trail = new Trail({ log: deps.audit, node: deps.node });
    this.#reads = new VaultReads({ store: deps.store, codec, trail: this.#trail });
    this.#writes = new VaultWrites({ store: deps.store, codec, trail: this.#trail, clock: deps.clock, random: deps.random });
    this.#audit = new AuditReads({ store: deps.store, trail: this.#trail });
  }

  context(principal: Principal, facts: RequestFacts): AccessContext {
    return accessContext(principal, facts);
  }

  read(ctx: AccessContext, type: FhirType, id: string, version?: number): Promise<Resource & { id: string }> {
    return this.#reads.read(ctx, type, id, version);
  }

  search(ctx: AccessContext, type: FhirType, params: URLSearchParams): Promise<SearchPage> {
    return this.#reads.search(ctx, type, params);
  }

  async create(ctx: AccessContext, type: string, resource: unknown): Promise<WriteResult> {
    const [result] = await this.#writes.apply(ctx, [{ method: 'POST', type, resource }], 'create');
    return result!;
  }

  async update(ctx: AccessContext, type: string, id: string, resource: unknown, ifMatch?: string): Promise<WriteResult> {
    const [result] = await this.#writes.apply(ctx, [{ method: 'PUT', type, id, resource, ...(ifMatch ? { ifMatch } : {}) }], 'update');
    return result!;
  }

  transaction(ctx: AccessContext, bundle: unknown): Promise<Bundle> {
    return this.#writes.transaction(ctx, bundle);
  }

  /**
   * A refusal that happened outside the vault's own operations (a tenant the principal may not
   * name, an unknown type, a malformed request): recorded unless the vault already recorded it.
   */
  async recordRefusal(principal: Principal, facts: RequestFacts, what: { action: 'C' | 'R' | 'U' | 'E'; type?: string }, error: unknown): Promise<void> {
    if (this.#trail.wasAudited(error) || isLabkluisError(error, 'ERR_AUDIT_UNAVAILABLE')) return;
    const purpose = facts.purposeOfUse && PURPOSES.includes(facts.purposeOfUse) ? facts.purposeOfUse : defaultPurpose(principal.role);
    await this.#trail.refusal(
      { principal, tenant: facts.tenant ?? null, purposeOfUse: purpose, ip: facts.ip ?? null, userAgent: facts.userAgent ?? null, emergency: false },
      { action: what.action, operation: 'request', patients: [], objects: what.type ? [{ type: what.type }] : [] },
      error,
    );
  }

  /** A request that presented no valid credential: recorded without a principal. */
  async recordRefusedCredential(facts: RequestFacts, error: unknown): Promise<void> {
    await this.#trail.refusal(
      { principal: null, tenant: null, purposeOfUse: 'HSYSADMIN', ip: facts.ip ?? null, userAgent: facts.userAgent ?? null, emergency: false },
      { action: 'E', operation: 'token-refused', patients: [], objects: [{ type: 'Credential' }] },
      error,
    );
  }

  auditSearch(ctx: AccessContext, params: URLSearchParams) {
    return this.#audit.search(ctx, params);
  }

  /**
   * A new client organisation becomes a tenant: its own data keys, its own blind-index key.
   * Admins and the local importer may do this; the Organization resource is kept in the
   * new tenant's clinical part.
   */
  async createTenant(principal: Principal, facts: RequestFacts, input: unknown, kind = 'client'): Promise<WriteResult> {
    const org = validateResource(input) as Organization;
    const id = org.id ?? randomId(this.#deps.random);
    const ctx: AccessContext = Object.freeze({ ...accessContext(principal, { ...facts, tenant: null, ...(principal.tenants.includes('*') ? { tenant: id } : {}) }) });
    try {
      authorize(principal, 'create', 'Organization');
      if (await this.#deps.store.getTenant(id)) throw conflict(`tenant ${id} exists`);
      await this.#deps.store.insertTenant({ id, name: org.name ?? id, kind, createdAt: this.#deps.clock.now().toISOString() });
    } catch (e) {
      if (!isLabkluisError(e, 'ERR_AUDIT_UNAVAILABLE')) await this.#trail.refusal(ctx, { action: 'C', operation: 'create-tenant', patients: [], objects: [{ type: 'Organization', id }] }, e);
      throw e;
    }
    const [result] = await this.#writes.apply({ ...ctx, tenant: id }, [{ method: 'POST', type: 'Organization', resource: { ...org, id } }], 'create-tenant');
    return result!;
  }
}
