import type { AuditDraft, AuditLog, PurposeOfUse } from '../audit/index.js';
import { isLabkluisError, type ErrorCode } from '../kernel/index.js';
import type { Role } from '../store/index.js';
import type { AccessContext } from './context.js';
import { auditId, auditText, auditType, auditUserAgent } from './audit-safe.js';

/** What an entry needs to know about the request; a refused request may lack a principal or tenant. */
export type AuditContext = Omit<AccessContext, 'principal' | 'tenant'> & {
  readonly principal: AccessContext['principal'] | null;
  readonly tenant: string | null;
};

/** One access as the vault sees it; trail.ts turns it into a NEN 7513 entry. */
export interface AccessEvent {
  readonly action: 'C' | 'R' | 'U' | 'D' | 'E';
  readonly operation: string;
  readonly patients: readonly string[]; // pseudonyms only
  readonly objects: readonly AuditObjectRef[];
  readonly outcome: 'success' | 'denied' | 'failed';
  readonly errorCode?: ErrorCode | 'ERR_INTERNAL';
}

/** What was touched; a search keeps its query with blind tokens in place of personal values. */
export interface AuditObjectRef {
  readonly type: string;
  readonly id?: string;
  readonly version?: number;
  readonly query?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The vault's side of the audit log. record() resolves only once the entry is durable; if it
 * cannot be written the caller gets ERR_AUDIT_UNAVAILABLE and returns no data (invariant 1).
 */
export class Trail {
  readonly #log: AuditLog;
  readonly #node: string;
  readonly #audited = new WeakSet<object>();

  constructor(deps: { log: AuditLog; node: string }) {
    this.#log = deps.log;
    this.#node = deps.node;
  }

  draft(ctx: AuditContext, ev: AccessEvent): AuditDraft {
    const tenant = ctx.tenant === null || ctx.tenant === '*' ? null : auditId(ctx.tenant); // '*': a cross-tenant audit read
    return {
      action: ev.action,
      operation: ev.operation,
      // 'importer' is the local operator's role; the log records it as such.
      principal: ctx.principal ? { id: auditId(ctx.principal.id), role: ctx.principal.role as Role, handle: auditText(ctx.principal.displayName, 64) } : null,
      actingFor: tenant,
      tenant,
      purposeOfUse: (ctx.emergency ? 'ETREAT' : ctx.purposeOfUse) as PurposeOfUse,
      patients: [...new Set(ev.patients.map(auditId))],
      objects: ev.objects.map(safeObject),
      outcome: ev.outcome,
      errorCode: (ev.errorCode ?? null) as ErrorCode | null,
      accessPoint: { ip: auditText(ctx.ip ?? 'local', 64), userAgent: ctx.userAgent === null ? null : auditUserAgent(ctx.userAgent), node: this.#node },
      emergency: ctx.emergency,
    };
  }

  async record(ctx: AuditContext, ev: AccessEvent): Promise<void> {
    await this.#log.append([this.draft(ctx, ev)]);
  }

  /**
   * Records a refused or failed access. The refusal stands whether or not this succeeds; if the
   * full entry cannot be written, a minimal one (no objects, no user agent) is tried, so that a
   * refusal is never silently unrecorded. The error is remembered as audited.
   */
  async refusal(ctx: AuditContext, ev: Omit<AccessEvent, 'outcome' | 'errorCode'>, error: unknown): Promise<void> {
    if (typeof error === 'object' && error !== null) this.#audited.add(error);
    const code = isLabkluisError(error) ? error.code : 'ERR_INTERNAL';
    const outcome = code === 'ERR_FORBIDDEN' || code === 'ERR_NOT_FOUND' || code === 'ERR_UNAUTHENTICATED' ? 'denied' : 'failed';
    try {
      await this.record(ctx, { ...ev, outcome, errorCode: code });
    } catch {
      try {
        await this.record({ ...ctx, userAgent: null }, { action: ev.action, operation: ev.operation, patients: [], objects: [], outcome, errorCode: code });
      } catch {
        /* the audit log itself is failing; AuditLog reports that, and the request already fails */
      }
    }
  }

  /** Whether this error has already been recorded (so the API edge does not record it twice). */
  wasAudited(error: unknown): boolean {
    return typeof error === 'object' && error !== null && this.#audited.has(error);
  }

  get log(): AuditLog {
    return this.#log;
  }
}

function safeObject(o: AuditObjectRef): AuditObjectRef {
  return {
    type: auditType(o.type),
    ...(o.id === undefined ? {} : { id: auditId(o.id) }),
    ...(o.version === undefined || !Number.isSafeInteger(o.version) || o.version < 1 ? {} : { version: o.version }),
    ...(o.query === undefined ? {} : {
      query: Object.fromEntries(Object.entries(o.query).map(([k, values]) => [auditParam(k), values.slice(0, 50).map((v) => auditText(v))])),
    }),
  };
}

/** Parameter names are chosen by the caller too: keep the ones that look like names. */
function auditParam(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_:.-]{0,63}$/.test(name) ? name : `p-${auditId(name).slice(2)}`;
}
