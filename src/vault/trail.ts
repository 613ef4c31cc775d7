import type { AuditDraft, AuditLog, PurposeOfUse } from '../audit/index.js';
import { isLabkluisError, type ErrorCode } from '../kernel/index.js';
import type { Role } from '../store/index.js';
import type { AccessContext } from './context.js';

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

  constructor(deps: { log: AuditLog; node: string }) {
    this.#log = deps.log;
    this.#node = deps.node;
  }

  draft(ctx: AccessContext, ev: AccessEvent): AuditDraft {
    const tenant = ctx.tenant === '*' ? null : ctx.tenant; // '*': a cross-tenant audit read
    return {
      action: ev.action,
      operation: ev.operation,
      // 'importer' is the local operator's role; the log records it as such.
      principal: { id: ctx.principal.id, role: ctx.principal.role as Role, handle: ctx.principal.displayName },
      actingFor: tenant,
      tenant,
      purposeOfUse: (ctx.emergency ? 'ETREAT' : ctx.purposeOfUse) as PurposeOfUse,
      patients: [...new Set(ev.patients)],
      objects: ev.objects.map((o) => ({ ...o })),
      outcome: ev.outcome,
      errorCode: (ev.errorCode ?? null) as ErrorCode | null,
      accessPoint: { ip: ctx.ip ?? 'local', userAgent: ctx.userAgent, node: this.#node },
      emergency: ctx.emergency,
    };
  }

  async record(ctx: AccessContext, ev: AccessEvent): Promise<void> {
    await this.#log.append([this.draft(ctx, ev)]);
  }

  /** Records a refused or failed access. The refusal stands whether or not this succeeds. */
  async refusal(ctx: AccessContext, ev: Omit<AccessEvent, 'outcome' | 'errorCode'>, error: unknown): Promise<void> {
    const code = isLabkluisError(error) ? error.code : 'ERR_INTERNAL';
    const outcome = code === 'ERR_FORBIDDEN' || code === 'ERR_NOT_FOUND' ? 'denied' : 'failed';
    try {
      await this.record(ctx, { ...ev, outcome, errorCode: code });
    } catch {
      /* already failing closed; the log's own failure is raised by AuditLog */
    }
  }

  get log(): AuditLog {
    return this.#log;
  }
}
