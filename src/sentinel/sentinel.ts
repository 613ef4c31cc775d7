import type { Principal } from '../auth/index.js';
import { requireStepUp } from '../auth/index.js';
import { forbidden, invalidInput, isLabkluisError, notFound, randomId, type Clock, type Random } from '../kernel/index.js';
import type { ContainmentRow, Store } from '../store/index.js';
import type { AccessContext, AccountEvent, EgressGuard, Release } from '../vault/index.js';
import type { DeliverableAlert } from './delivery/index.js';
import { checkSentinelPolicy, DEFAULT_SENTINEL_POLICY, type SentinelPolicy, type WindowLimit } from './policy.js';

/** What containment does beyond the sentinel's own records (the composition root wires these). */
export interface ContainmentActions {
  /** Ends every session of the principal at once; returns how many. */
  endSessions(principalId: string, reason: string): Promise<number>;
}

export interface SentinelDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: Random;
  readonly actions: ContainmentActions;
  /** Into the audit log (vault.recordAccountEvent). */
  readonly events: (event: AccountEvent) => Promise<void>;
  /** Seals a security officer's free-text note (it may describe a person's situation). */
  readonly sealNote: (kind: 'ContainmentNote' | 'AlertNote', id: string, text: string) => Promise<Buffer>;
  /** Hands an alert to delivery (webhook, syslog) once it is stored; none: listed only. */
  readonly deliver?: (alert: DeliverableAlert) => Promise<unknown>;
  readonly policy?: Partial<SentinelPolicy>;
}

/** Security events from sign-in and sessions that mean a device or a token is in other hands. */
export type SecuritySignal = 'token-replay' | 'refresh-reuse';

const PRUNE_EVERY_MS = 10 * 60_000;
const CONTAINED_MESSAGE = 'access is stopped: the sentinel contained this account; a security officer must review it';

/**
 * The sentinel (issue 4) on the live path: it counts what leaves the vault per principal and
 * contains a principal within the request that crosses a limit. Containment ends the
 * principal's sessions, locks its clinical access until a security officer lifts it with a
 * reason, raises an alert, and is audited. The local operator on the host is not watched.
 */
export class Sentinel implements EgressGuard {
  readonly #d: SentinelDeps;
  readonly policy: SentinelPolicy;
  /** When this node last pruned release history (ms); one request in ten minutes pays for it. */
  #prunedAt = 0;

  constructor(deps: SentinelDeps) {
    this.#d = deps;
    this.policy = checkSentinelPolicy({ ...DEFAULT_SENTINEL_POLICY, ...deps.policy });
  }

  async admit(ctx: AccessContext): Promise<void> {
    if (!this.#watches(ctx.principal)) return;
    if (await this.#d.store.sentinel.liveContainment(ctx.principal.id)) throw forbidden(CONTAINED_MESSAGE);
  }

  async release(ctx: AccessContext, release: Release): Promise<void> {
    if (!this.#watches(ctx.principal)) return;
    if (release.patients.length === 0 && release.records === 0) return;
    if (release.patients.length > 0) {
      const canaries = await this.#d.store.sentinel.canariesAmong(ctx.tenant, release.patients);
      if (canaries.length > 0) await this.#contain(ctx.principal.id, ctx.tenant, 'canary', ctx);
    }
    const limits = this.#limitsFor(ctx.principal.role);
    const now = this.#d.clock.now().getTime();
    const totals = await this.#d.store.sentinel.recordRelease(
      {
        principalId: ctx.principal.id, role: ctx.principal.role, tenant: ctx.tenant, pseudonyms: release.patients,
        records: release.records, bytes: release.bytes, at: new Date(now).toISOString(),
      },
      limits.map((w) => new Date(now - w.seconds * 1000).toISOString()),
    );
    if (now - this.#prunedAt > PRUNE_EVERY_MS) {
      this.#prunedAt = now;
      await this.#d.store.sentinel.pruneReleases(new Date(now - this.policy.historySeconds * 1000).toISOString());
    }
    for (const [i, w] of limits.entries()) {
      const t = totals[i]!;
      if (t.patients > w.patients) await this.#contain(ctx.principal.id, ctx.tenant, `patients-${w.seconds}s`, ctx);
      if (w.bytes !== null && t.bytes > w.bytes) await this.#contain(ctx.principal.id, ctx.tenant, `bytes-${w.seconds}s`, ctx);
    }
  }

  /**
   * A copied token or a reused refresh token. The session it belonged to has already ended
   * (sessions.ts), so the copy opened nothing; the security officer gets an alert. It does not
   * lock the account by itself: a browser tab closed mid-refresh reuses a refresh token too.
   * Weighing these with the account's other signals is the scoring's job.
   */
  async signal(kind: SecuritySignal, principalId: string, _facts: { ip: string | null; userAgent: string | null }): Promise<void> {
    if (!this.policy.enabled) return;
    await this.#raise(principalId, null, `sentinel:${kind}`, null, 'high', kind === 'token-replay'
      ? 'a session or API token was presented without its device key; that session is ended'
      : 'a refresh token was used twice; its session is ended');
  }

  #limitsFor(role: string): readonly WindowLimit[] {
    return Object.hasOwn(this.policy.roles, role) ? this.policy.roles[role]! : this.policy.windows;
  }

  /** Live containments first, then the lifted ones, newest first (security officer). */
  async containments(by: Principal, live: boolean): Promise<ContainmentRow[]> {
    this.#officer(by);
    return this.#d.store.sentinel.listContainments({ live, limit: 200 });
  }

  /**
   * Lifts a containment: a security officer, after a fresh step-up, with a reason (sealed at
   * rest, audited). The principal's clinical access returns; its ended sessions stay ended.
   */
  async lift(by: Principal, containmentId: string, reason: unknown, facts: { ip: string | null; userAgent: string | null }): Promise<void> {
    this.#officer(by);
    requireStepUp(by, this.#d.clock, 'lifting a containment');
    checkNote(reason, 'give the reason for lifting (10 to 1000 characters): what was checked, with whom');
    if (!/^[a-z2-7]{26}$/.test(containmentId)) throw notFound('no such containment');
    const note = await this.#d.sealNote('ContainmentNote', containmentId, reason.trim());
    const lifted = await this.#d.store.sentinel.liftContainment(containmentId, by.id, note, this.#d.clock.now().toISOString());
    if (!lifted) throw notFound('no live containment with that id');
    await this.#d.events({
      kind: 'sentinel-lifted', principalId: by.id, sessionId: null, subject: { type: 'Containment', id: containmentId }, outcome: 'success', ip: facts.ip, userAgent: facts.userAgent,
    });
  }

  /**
   * Closes an alert with what was found (sealed at rest, audited); closing also acknowledges it.
   * The first close stands. Any alert, not only the sentinel's: the security officer's inbox.
   */
  async closeAlert(by: Principal, alertId: string, note: unknown, facts: { ip: string | null; userAgent: string | null }): Promise<{ closed: boolean }> {
    this.#officer(by);
    checkNote(note, 'say what was found (10 to 1000 characters)');
    if (!/^[a-z2-7]{26}$/.test(alertId)) throw notFound('no such alert');
    const sealed = await this.#d.sealNote('AlertNote', alertId, note.trim());
    const closed = await this.#d.store.safeguards.closeAlert(alertId, by.id, sealed, this.#d.clock.now().toISOString());
    if (closed) {
      await this.#d.events({ kind: 'alert-closed', principalId: by.id, sessionId: null, subject: { type: 'Alert', id: alertId }, outcome: 'success', ip: facts.ip, userAgent: facts.userAgent });
    }
    return { closed };
  }

  /** Stores an alert for the security officer's list, then hands it to delivery. */
  async #raise(principalId: string, tenant: string | null, kind: string, subject: string | null, severity: DeliverableAlert['severity'], summary: string, id = randomId(this.#d.random)): Promise<void> {
    const createdAt = this.#d.clock.now().toISOString();
    await this.#d.store.safeguards.insertAlert({
      id, kind, principalId, tenant, subject, createdAt, acknowledgedAt: null, acknowledgedBy: null, evidence: [], closedAt: null, closedBy: null, closeNote: null,
    });
    await this.#d.deliver?.({ id, kind, principalId, tenant, subject, createdAt, severity, summary, evidence: [] });
  }

  #watches(principal: Principal): boolean {
    return this.policy.enabled && principal.kind !== 'local-operator';
  }

  #officer(by: Principal): void {
    if (by.role !== 'security-officer') throw forbidden('only a security officer manages containments');
  }

  /**
   * Contains the principal and refuses the request. The containment row is the lock and comes
   * first; a concurrent request that contained the same principal already is as good. Then the
   * alert, the sessions and the audit entry; whatever of those fails, the request is refused.
   */
  async #contain(principalId: string, tenant: string | null, reason: string, facts: { ip: string | null; userAgent: string | null }): Promise<never> {
    const at = this.#d.clock.now().toISOString();
    const id = randomId(this.#d.random);
    const alertId = randomId(this.#d.random);
    let fresh = true;
    try {
      await this.#d.store.sentinel.insertContainment({ id, principalId, reason, alertId, createdAt: at, liftedAt: null, liftedBy: null, liftNote: null });
    } catch (e) {
      if (!isLabkluisError(e, 'ERR_CONFLICT')) throw e;
      fresh = false;
    }
    if (fresh) {
      await this.#raise(principalId, tenant, `sentinel:${reason}`, id, 'critical',
        reason === 'canary' ? 'a canary patient was touched; the account is contained' : `limit ${reason} crossed; the account is contained`, alertId);
      await this.#d.actions.endSessions(principalId, `contained-${reason}`);
      await this.#d.events({
        kind: 'sentinel-contained', reason, principalId, sessionId: null, subject: { type: 'Containment', id }, outcome: 'success', ip: facts.ip, userAgent: facts.userAgent,
      });
    }
    throw forbidden(CONTAINED_MESSAGE);
  }
}

function checkNote(note: unknown, message: string): asserts note is string {
  if (typeof note !== 'string' || note.trim().length < 10 || note.length > 1000) throw invalidInput(message);
}
