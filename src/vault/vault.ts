import type { Bundle, Organization, Resource } from 'fhir/r4.js';
import type { AuditLog } from '../audit/index.js';
import { ALL_TENANTS, principalFromRow, type Principal } from '../auth/index.js';
import type { DataKeys, RecordCipher } from '../crypto/index.js';
import { conflict, forbidden, invalidResource, isLabkluisError, randomId, type Clock, type ErrorCode, type Random } from '../kernel/index.js';
import type { Store } from '../store/index.js';
import { validateResource } from '../domain/index.js';
import { AuditReads } from './audit-reads.js';
import { BreakGlass, type BreakGlassGrant } from './break-glass.js';
import { accessContext, type AccessContext, type RequestFacts } from './context.js';
import { authorize, defaultPurpose, PURPOSES, type FhirType } from './policy.js';
import { VaultReads, type SearchPage } from './reads.js';
import { RecordCodec } from './records.js';
import { opaque } from './audit-safe.js';
import { TenantDirectory, TENANT_ID } from './tenants.js';
import { Trail, type AuditContext } from './trail.js';
import { VaultWrites, type BatchOutcome, type WriteResult } from './writes.js';
import { OPEN_GUARD, type EgressGuard } from './egress-guard.js';
import { VaultExports, type ExportRelease } from './export-reads.js'; // four-eyes bulk export (issue 4)

/** An account or session event for the audit log (no secrets, no personal data). */
export interface AccountEvent {
  readonly kind: string; // 'sign-in', 'session-opened', 'token-replay', ...
  readonly reason?: string; // a stable machine reason: 'key-mismatch', 'idle-timeout', ...
  readonly principalId: string | null;
  readonly sessionId: string | null;
  /** What the event was done to, when that is not the actor: the account an admin disabled, the alert acknowledged, the passkey removed. */
  readonly subject?: { readonly type: 'Account' | 'Alert' | 'Passkey' | 'Containment' | 'Canary' | 'Tenant' | 'ExportJob' | 'BackupDrill'; readonly id: string };
  readonly outcome: 'success' | 'denied' | 'failed';
  readonly errorCode?: ErrorCode;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
}

export interface VaultDeps {
  readonly store: Store;
  readonly keys: DataKeys;
  readonly cipher: RecordCipher;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly random: Random;
  readonly node: string; // this labkluis node, recorded as the audit access point
  /** The sentinel's place in the path (egress-guard.ts); none: everything passes. */
  readonly guard?: EgressGuard;
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
  readonly #breakGlass: BreakGlass;
  readonly #exports: VaultExports;
  readonly #deps: VaultDeps;

  constructor(deps: VaultDeps) {
    this.#deps = deps;
    const codec = new RecordCodec({ keys: deps.keys, cipher: deps.cipher });
    this.#trail = new Trail({ log: deps.audit, node: deps.node });
    const tenants = new TenantDirectory(deps.store);
    this.#breakGlass = new BreakGlass({ store: deps.store, codec, trail: this.#trail, clock: deps.clock, random: deps.random });
    const guard = deps.guard ?? OPEN_GUARD;
    this.#reads = new VaultReads({ store: deps.store, codec, trail: this.#trail, tenants, breakGlass: this.#breakGlass, clock: deps.clock, guard });
    this.#writes = new VaultWrites({ store: deps.store, codec, trail: this.#trail, clock: deps.clock, random: deps.random, tenants, guard });
    this.#audit = new AuditReads({ store: deps.store, trail: this.#trail });
    this.#exports = new VaultExports({ store: deps.store, codec, trail: this.#trail, tenants, guard, clock: deps.clock });
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
   * A canary patient's episode (sentinel/canaries.ts): validated, encrypted, tokenised and
   * audited like any transaction, but its Patient's BSN stays out of the BSN index, so a BSN
   * search never meets a canary. The local operator's role (importer) only.
   */
  canaryTransaction(ctx: AccessContext, bundle: unknown): Promise<Bundle> {
    return this.#writes.canaryTransaction(ctx, bundle);
  }

  /**
   * Many transaction Bundles in order (import, demo): each atomic and audited as its own
   * transaction, small ones sharing durable commits. Stops at the first refused bundle.
   */
  transactions(ctx: AccessContext, bundles: readonly unknown[]): Promise<BatchOutcome> {
    return this.#writes.transactions(ctx, bundles);
  }

  /**
   * A refusal that happened outside the vault's own operations (a tenant the principal may not
   * name, an unknown type, a malformed request): recorded unless the vault already recorded it.
   */
  async recordRefusal(principal: Principal, facts: RequestFacts, what: { action: 'C' | 'R' | 'U' | 'E'; type?: string }, error: unknown): Promise<void> {
    if (this.#trail.wasAudited(error) || isLabkluisError(error, 'ERR_AUDIT_UNAVAILABLE')) return;
    const purpose = facts.purposeOfUse && PURPOSES.includes(facts.purposeOfUse) ? facts.purposeOfUse : defaultPurpose(principal.role);
    // The tenant asked for is kept when it exists (a probe of another tenant); any other header value is hashed.
    const asked = facts.tenant ?? null;
    const tenant = asked === null || asked === ALL_TENANTS ? null : (await this.#deps.store.getTenant(asked).catch(() => null)) ? asked : opaque(asked);
    await this.#trail.refusal(
      { principal, tenant, purposeOfUse: purpose, ip: facts.ip ?? null, userAgent: facts.userAgent ?? null, emergency: false },
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

  /**
   * Sign-in, session and factor events (issue 3) as NEN 7513 entries: action E, the event
   * kind (and its machine reason) as the operation, the session as the object. A failed or
   * refused event is recorded as denied. Resolves once durable; throws ERR_AUDIT_UNAVAILABLE
   * otherwise, so the caller fails closed.
   */
  async recordAccountEvent(event: AccountEvent): Promise<void> {
    const row = event.principalId === null ? null : await this.#deps.store.getPrincipal(event.principalId);
    const principal = row === null ? null : principalFromRow(row, event.sessionId ?? '');
    const denied = event.outcome !== 'success';
    await this.#trail.record(
      {
        principal, tenant: null, purposeOfUse: 'HSYSADMIN', ip: event.ip ?? null, userAgent: event.userAgent ?? null, emergency: false,
      },
      {
        action: 'E', operation: event.reason ? `${event.kind}:${event.reason}` : event.kind, patients: [],
        objects: objectsOf(event),
        outcome: event.outcome, ...(denied ? { errorCode: event.errorCode ?? 'ERR_UNAUTHENTICATED' } : {}),
      },
    );
  }

  /** Break-glass: emergency read access to one patient (see break-glass.ts). */
  breakGlass(principal: Principal, facts: RequestFacts, input: { patient: unknown; reason: unknown; minutes?: unknown }): Promise<BreakGlassGrant> {
    // The grant is asked for under the person's ordinary purpose; accesses under it claim ETREAT.
    return this.#breakGlass.open(accessContext(principal, { ...facts, purposeOfUse: null }), input);
  }

  endBreakGlass(principal: Principal, facts: RequestFacts, id: string): Promise<boolean> {
    return this.#breakGlass.end(principal, accessContext(principal, { ...facts, purposeOfUse: null }).tenant, id);
  }

  /**
   * The records of an approved four-eyes export job (export-reads.ts): authorised from the
   * stored job, audited as one 'E' entry naming every patient, outside the sentinel's counting.
   */
  exportJob(jobId: string, order: (ref: string) => string): Promise<ExportRelease> {
    return this.#exports.open(jobId, order);
  }

  auditSearch(ctx: AccessContext, params: URLSearchParams) {
    return this.#audit.search(ctx, params);
  }

  /**
   * A new client organisation becomes a tenant: its own data keys, its own blind-index key.
   * Lab-wide admins (and the local importer) may do this. The tenant row, its Organization and
   * the audit entry are one commit: there is no tenant without its record in the log.
   */
  async createTenant(principal: Principal, facts: RequestFacts, input: unknown, kind = 'client'): Promise<WriteResult> {
    const base: AuditContext = {
      principal, tenant: null, purposeOfUse: defaultPurpose(principal.role), ip: facts.ip ?? null, userAgent: facts.userAgent ?? null, emergency: false,
    };
    let org: Organization;
    let id: string;
    try {
      authorize(principal, 'create', 'Organization');
      if (!principal.tenants.includes(ALL_TENANTS)) throw forbidden('only a lab-wide principal creates tenants');
      org = validateResource(input, { clock: this.#deps.clock }) as Organization;
      id = org.id ?? randomId(this.#deps.random);
      if (!TENANT_ID.test(id)) {
        throw invalidResource('a tenant id is 4-64 lowercase letters, digits or dashes, with a letter', [{ expression: 'Organization.id', diagnostics: 'not a tenant id' }]);
      }
      if (await this.#deps.store.getTenant(id)) throw conflict('that tenant exists');
    } catch (e) {
      await this.#trail.refusal(base, { action: 'C', operation: 'create-tenant', patients: [], objects: [{ type: 'Organization' }] }, e);
      throw e;
    }
    const ctx: AccessContext = Object.freeze({ ...base, principal, tenant: id });
    const tenant = { id, name: org.name ?? id, kind, createdAt: this.#deps.clock.now().toISOString() };
    const [result] = await this.#writes.apply(ctx, [{ method: 'POST', type: 'Organization', resource: { ...org, id } }], 'create-tenant', [tenant]);
    return result!;
  }
}

/** The session the actor used, and what the event was done to; at least the account type. */
function objectsOf(event: AccountEvent): { type: string; id?: string }[] {
  const objects: { type: string; id?: string }[] = [];
  if (event.sessionId) objects.push({ type: 'Session', id: event.sessionId });
  if (event.subject) objects.push({ type: event.subject.type, id: event.subject.id });
  return objects.length > 0 ? objects : [{ type: 'Account' }];
}
