import type { AuditEvent } from 'fhir/r4.js';
import { toAuditEvent } from '../audit/index.js';
import { ID_PATTERN } from '../domain/index.js';
import { invalidInput, isLabkluisError } from '../kernel/index.js';
import type { AuditQuery, Store } from '../store/index.js';
import type { AccessContext } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { authorize } from './policy.js';
import { auditId } from './audit-safe.js';
import type { AuditObjectRef, Trail } from './trail.js';

const PARAMS = new Set(['patient', 'agent', 'date', '_count', '_cursor']);

/**
 * The security officer reads the log as FHIR AuditEvents. Reading the log is itself logged.
 * A security officer acting for all tenants ('*') sees every tenant's entries.
 */
export class AuditReads {
  readonly #store: Store;
  readonly #trail: Trail;

  constructor(deps: { store: Store; trail: Trail }) {
    this.#store = deps.store;
    this.#trail = deps.trail;
  }

  async search(ctx: AccessContext, params: URLSearchParams): Promise<{ events: AuditEvent[]; next: string | null }> {
    // Until the query has parsed, only which parameters were sent (unknown names hashed): a
    // value typed into a search box could be a name or a birth date.
    const objects: AuditObjectRef[] = [{ type: 'AuditEvent', query: { params: [...new Set(params.keys())].map((k) => (PARAMS.has(k) ? k : auditId(k))) } }];
    try {
      authorize(ctx.principal, 'search', 'AuditEvent');
      const q = parseAuditQuery(params);
      objects[0] = { type: 'AuditEvent', query: describe(q.query) };
      const query: AuditQuery = { ...q.query, ...(ctx.tenant === '*' ? {} : { tenant: ctx.tenant }), limit: q.count + 1 };
      const rows = await this.#store.searchAudit(query);
      const page = rows.slice(0, q.count);
      const next = rows.length > q.count ? encodeCursor(page[page.length - 1]!.seq) : null;
      await this.#trail.record(ctx, { action: 'R', operation: 'audit-search', patients: [], objects, outcome: 'success' });
      return { events: page.map((r) => toAuditEvent(r)), next };
    } catch (e) {
      if (!isLabkluisError(e, 'ERR_AUDIT_UNAVAILABLE')) await this.#trail.refusal(ctx, { action: 'R', operation: 'audit-search', patients: [], objects }, e);
      throw e;
    }
  }
}

function parseAuditQuery(params: URLSearchParams): { query: Omit<AuditQuery, 'limit'>; count: number } {
  const query: { patient?: string; principalId?: string; from?: string; to?: string; afterSeq?: number } = {};
  let count = 50;
  for (const [name, value] of params) {
    if (!PARAMS.has(name)) throw invalidInput(`unknown search parameter '${name}' for AuditEvent`, [{ expression: name, diagnostics: 'not supported' }]);
    if (name === 'patient') query.patient = idParam('patient', value.replace(/^Patient\//, ''));
    else if (name === 'agent') query.principalId = idParam('agent', value);
    else if (name === '_cursor') query.afterSeq = decodeCursor(value);
    else if (name === '_count') {
      if (!/^\d{1,4}$/.test(value) || Number(value) < 1) throw invalidInput('_count must be a positive number', [{ expression: '_count', diagnostics: 'malformed' }]);
      count = Math.min(Number(value), 200);
    } else if (name === 'date') {
      const m = /^(ge|lt)(\d{4}-\d{2}-\d{2}(T[0-9:.]+Z)?)$/.exec(value);
      if (!m || Number.isNaN(Date.parse(m[2]!))) throw invalidInput("date must be 'geYYYY-MM-DD' or 'ltYYYY-MM-DD'", [{ expression: 'date', diagnostics: 'malformed' }]);
      const iso = new Date(m[2]!).toISOString();
      if (m[1] === 'ge') query.from = iso;
      else query.to = iso;
    }
  }
  return { query, count };
}

function idParam(name: string, value: string): string {
  if (!ID_PATTERN.test(value)) throw invalidInput(`${name} must be an id`, [{ expression: name, diagnostics: 'not an id' }]);
  return value;
}

/** The parsed query as the log keeps it: ids in the shapes the server gives out, dates normalised. */
function describe(q: Omit<AuditQuery, 'limit'>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (q.patient) out.patient = [auditId(q.patient)];
  if (q.principalId) out.agent = [auditId(q.principalId)];
  if (q.from) out.from = [q.from];
  if (q.to) out.to = [q.to];
  return out;
}
