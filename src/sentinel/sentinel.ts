import type { Principal } from '../auth/index.js';
import { requireStepUp } from '../auth/index.js';
import { clientNetwork, forbidden, invalidInput, isLabkluisError, notFound, randomId, type Clock, type Random } from '../kernel/index.js';
import type { ContainmentRow, ReleaseOutcome, ReleaseTotals, Store } from '../store/index.js';
import type { AccessContext, AccountEvent, EgressGuard, Release } from '../vault/index.js';
import type { DeliverableAlert } from './delivery/index.js';
import { Baselines } from './baselines.js';
import { resolveSentinelPolicy, type SentinelPolicy, type SentinelPolicyInput, type WindowLimit } from './policy.js';
import { Signals, type Strictness } from './signals.js';
import { CanaryCache } from './canary-cache.js';
import { GRACE_MS, Leases, type Counted, type Flushed } from './leases.js';

/** What containment does beyond the sentinel's own records (the composition root wires these). */
export interface ContainmentActions {
  /** Ends every session of the principal at once; returns how many. */
  endSessions(principalId: string, reason: string): Promise<number>;
  /** Revokes every API token of the principal at once (a system's credential); returns how many. */
  revokeApiTokens(principalId: string, reason: string): Promise<number>;
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
  readonly policy?: SentinelPolicyInput;
  /** This labkluis process among those serving one database (its leases are its own). */
  readonly node?: string;
}

/** Security events from sign-in and sessions that mean a device or a token is in other hands. */
export type SecuritySignal = 'token-replay' | 'refresh-reuse';

const PRUNE_EVERY_MS = 10 * 60_000;
/** How often a request looks for ended leases to write (the app's timer does too). */
const FLUSH_EVERY_MS = 1_000;
/** How often a response at the edge of its budget reads the totals again (#settle). */
const SETTLE_POLL_MS = 200;
/** Archive counts are kept under the principal's id with this suffix (and its role's). */
const ARCHIVE = '#archive';
/** Work in progress is counted under the principal's id with this suffix (and its role's). */
const WORK = '#work';
/** At most this many audit entries are named as an alert's evidence (the auditQuery finds all). */
const MAX_EVIDENCE = 200;
const CONTAINED_MESSAGE = 'access is stopped: the sentinel contained this account; a security officer must review it';

/**
 * The sentinel (issue 4) on the live path: it counts what leaves the vault per principal and
 * contains a principal within the request that crosses a limit. Containment ends the
 * principal's sessions, revokes its API tokens, locks its clinical access until a security
 * officer lifts it with a reason, raises an alert, and is audited. The local operator on the
 * host is not watched. Most reads of an authenticated principal are counted in a lease on this
 * node and written to the store within seconds (leases.ts); the read that would cross a limit
 * is always judged on the store's totals.
 */
export class Sentinel implements EgressGuard {
  readonly #d: SentinelDeps;
  readonly policy: SentinelPolicy;
  readonly #baselines: Baselines;
  readonly #signals: Signals;
  readonly #tenantKinds = new Map<string, string>();
  readonly #leases: Leases;
  readonly #canaries: CanaryCache;
  /** When this node last pruned release history (ms); one request in ten minutes pays for it. */
  #prunedAt = 0;
  /** When a request last looked for ended leases (ms). */
  #flushedAt = 0;
  /**
   * Principals this node contained or found contained, and when (ms): refused here at once,
   * also in requests authenticated just before, until every lease it could have held has ended;
   * after that, authentication's `contained` decides (so a lift on another node holds here too).
   */
  readonly #marks = new Map<string, { readonly at: number; readonly containmentId: string }>();
  /** Canary touches found while writing leases whose containment has not succeeded yet. */
  readonly #touched = new Map<string, string>();

  constructor(deps: SentinelDeps) {
    this.#d = deps;
    this.policy = resolveSentinelPolicy(deps.policy);
    this.#baselines = new Baselines(deps.store.sentinel, deps.clock, this.policy.baseline);
    this.#signals = new Signals(this.policy.signals);
    this.#leases = new Leases(deps.store.sentinel, `${deps.node ?? 'labkluis'}/${randomId(deps.random)}`, this.policy.leases);
    this.#canaries = new CanaryCache(deps.store.sentinel, this.policy.leases.canariesSeconds);
  }

  /**
   * Before a write: a contained principal changes nothing. (Reads are checked in release().)
   * Authentication read the containment with the principal; only a principal made in process
   * is looked up in the store.
   */
  async admit(ctx: AccessContext): Promise<void> {
    const p = ctx.principal;
    if (!this.#watches(p)) return;
    if (p.contained === true || this.#marked(p.id) || (p.contained === undefined && await this.#d.store.sentinel.liveContainment(p.id))) {
      throw forbidden(CONTAINED_MESSAGE);
    }
  }

  /**
   * Writes what this node's ended leases released (all of them with `all`: shutting down), and
   * contains whoever they show touched a canary; then fails with the first error, if any.
   */
  async flushLeases(all = false): Promise<void> {
    const flushed = await this.#leases.flush(this.#d.clock.now().getTime(), all);
    await this.#flushed(flushed);
    if (flushed.error !== null) throw flushed.error;
  }

  /**
   * A lease's releases held a canary the node's list did not know yet (seeded elsewhere within
   * canariesSeconds): the store found it when they were written, and the principal is contained
   * now, outside any request of its own. Each on its own: one failing does not stop the others.
   */
  async #flushed(flushed: Flushed): Promise<void> {
    // Kept until contained: the releases are written, so no later write would find them again.
    for (const t of flushed.touched) this.#touched.set(t.principalId, t.tenant);
    let failed: unknown = null;
    for (const [principalId, tenant] of [...this.#touched]) {
      try {
        await this.#containCanary({ principal: { id: principalId }, tenant, ip: null, userAgent: null }, this.#d.clock.now().getTime());
      } catch (e) {
        if (!isLabkluisError(e, 'ERR_FORBIDDEN')) {
          failed ??= e;
          continue;
        }
      }
      this.#touched.delete(principalId);
    }
    if (failed !== null) throw failed;
  }

  /** A tenant's canaries changed on this node: the lease path reads them again. */
  canariesChanged(tenant: string): void {
    this.#canaries.forget(tenant);
  }

  /**
   * A response about to leave. It fits this node's lease, or one store call records it (with
   * the lease's pending releases), says whether the principal is contained already and which of
   * its patients are canaries, and returns the window totals; the limits are the hard ones,
   * lowered by baselines and made stricter by signals. Patients seen only in work in progress
   * count in the work windows instead; patients seen only in the archive count once more, on
   * their own, against the archive limits.
   */
  async release(ctx: AccessContext, release: Release): Promise<void> {
    const p = ctx.principal;
    if (!this.#watches(p)) return;
    const now = this.#d.clock.now().getTime();
    // Authentication read the containment with the principal (every node sees it at once).
    if (p.contained === true || this.#marked(p.id)) throw forbidden(CONTAINED_MESSAGE);
    if (release.patients.length === 0 && release.records === 0) {
      // Nothing leaves; a contained principal still learns nothing from an empty answer.
      if (p.contained === undefined && await this.#d.store.sentinel.liveContainment(p.id)) throw forbidden(CONTAINED_MESSAGE);
      return;
    }
    if (now - this.#flushedAt >= FLUSH_EVERY_MS) {
      this.#flushedAt = now;
      // Others' leases: their failures are not this request's (the app's timer retries and logs them).
      await this.flushLeases().catch(() => {});
    }
    this.#signals.observe(p.id, p.role, release.query, now);
    const strict = this.#signals.strictness(p.id, now);
    const { main, work, archive } = this.#split(release, now);
    const at = new Date(now).toISOString();
    const windows = (limits: readonly WindowLimit[]) => limits.map((w) => new Date(now - w.seconds * 1000).toISOString());
    const peers = await this.#peerGroup(p.role, ctx.tenant);
    // Leases need the containment from authentication; a principal made in process (tools,
    // tests) goes to the store every time. A canary in the response goes there at once too.
    const leased = this.policy.leases.enabled && p.contained === false;
    const lease = leased && !(await this.#canaries.any(ctx.tenant, release.patients, now));
    const limits = await this.#limitsOf(p.id, peers, this.#hardFor(p.id, p.role), strict, !Object.hasOwn(this.policy.principals, p.id));
    const row = { principalId: p.id, role: peers, tenant: ctx.tenant, pseudonyms: main, records: release.records, bytes: release.bytes, at };
    await this.#count(ctx, { row, windows: windows(limits), limits }, '', strict, now, leased, lease);
    if (now - this.#prunedAt > PRUNE_EVERY_MS) {
      this.#prunedAt = now;
      await this.#d.store.sentinel.pruneReleases(new Date(now - this.policy.historySeconds * 1000).toISOString());
    }
    // Work in progress is counted in its own windows only; the archive again, in its own.
    for (const [part, pseudonyms, hard] of [[WORK, work, this.policy.work.windows], [ARCHIVE, archive, this.policy.archive.windows]] as const) {
      if (pseudonyms.length === 0) continue;
      const partLimits = part === WORK
        ? await this.#limitsOf(`${p.id}${part}`, `${peers}${part}`, hard, strict, true, 1)
        : hard.map((w) => ({ ...w, patients: this.#signals.stricter(w.patients, strict, w.seconds) }));
      const partRow = { principalId: `${p.id}${part}`, role: `${peers}${part}`, tenant: ctx.tenant, pseudonyms, records: 0, bytes: 0, at };
      await this.#count(ctx, { row: partRow, windows: windows(partLimits), limits: partLimits }, `${part.slice(1)}-`, strict, now, leased, lease);
    }
  }

  /**
   * Counts one part of a response: in this node's lease if it fits (nothing can cross then),
   * else in the store, which says whether the principal is contained already and which of its
   * patients are canaries, and returns the window totals to judge (with the node's pending
   * releases of that part, and a new lease when `lease`).
   */
  async #count(ctx: AccessContext, c: Counted, prefix: string, strict: Strictness, now: number, leased: boolean, lease: boolean): Promise<void> {
    if (this.#marked(ctx.principal.id)) throw forbidden(CONTAINED_MESSAGE); // contained by a request meanwhile
    if (lease && this.#leases.take(c, now)) return;
    const recorded = leased ? await this.#leases.record(c, now, lease) : await this.#d.store.sentinel.recordRelease(c.row, c.windows);
    if (recorded === null) return; // it fit the lease a concurrent read of the principal took
    let outcome = recorded;
    if (outcome.containment) {
      this.#mark(ctx.principal.id, outcome.containment.id);
      throw forbidden(CONTAINED_MESSAGE);
    }
    if (outcome.canaries.length > 0) await this.#containCanary(ctx, now);
    if (undecided(c.limits, outcome)) outcome = await this.#settle(ctx, c, lease);
    await this.#check(ctx, c.limits, outcome.totals, prefix, strict, now);
  }

  /**
   * The totals are within the limits but other leases (this node's for another tenant, other
   * nodes') may have released enough to cross them: this node's leases of the principal are
   * written and given back and the totals read again, then again every SETTLE_POLL_MS while
   * other nodes' leases still leave it open, until they are written (they end within the
   * lease's seconds; their nodes write them within a second after). So a principal is contained
   * neither early nor late; only a response at the edge of its budget waits, a few seconds at
   * most, and nothing more is released meanwhile. Past that (a node gone), the totals decide.
   */
  async #settle(ctx: AccessContext, c: Counted, lease: boolean): Promise<ReleaseOutcome> {
    const again = (): Promise<ReleaseOutcome> => {
      const now = this.#d.clock.now();
      return this.#leases.recordNow({ ...c, row: { ...c.row, pseudonyms: [], records: 0, bytes: 0, at: now.toISOString() } }, now.getTime(), lease);
    };
    const flushed = await this.#leases.flushOf(ctx.principal.id);
    if (flushed.touched.length > 0) {
      this.#touched.set(ctx.principal.id, ctx.tenant); // retried by the next flush if this fails
      try {
        await this.#containCanary(ctx, this.#d.clock.now().getTime());
      } catch (e) {
        if (isLabkluisError(e, 'ERR_FORBIDDEN')) this.#touched.delete(ctx.principal.id); // contained
        throw e;
      }
    }
    if (flushed.error !== null) throw flushed.error; // the totals would miss what this node let pass
    let outcome = await again();
    const polls = Math.ceil((this.policy.leases.seconds * 1000 + GRACE_MS + FLUSH_EVERY_MS) / SETTLE_POLL_MS);
    for (let i = 0; i < polls && outcome.containment === null && undecided(c.limits, outcome); i++) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      outcome = await again();
    }
    if (outcome.containment) throw forbidden(CONTAINED_MESSAGE);
    return outcome;
  }

  /**
   * A session was opened: from a network none of the principal's other sessions of the last
   * knownNetworkDays came from, its limits are stricter for a while. (Each session has a key
   * of its own, so a new device key alone says nothing; the network does.)
   */
  async sessionOpened(principalId: string, sessionId: string | null, ip: string | null): Promise<void> {
    if (!this.policy.enabled || ip === null) return;
    const now = this.#d.clock.now().getTime();
    const since = new Date(now - this.policy.signals.knownNetworkDays * 86_400_000).toISOString();
    const others = (await this.#d.store.accounts.listSessions(principalId)).filter((s) => s.id !== sessionId && s.createdAt >= since && s.ip !== null);
    if (others.length === 0) return;
    const net = networkOf(ip);
    if (!others.some((s) => networkOf(s.ip!) === net)) this.#signals.newNetwork(principalId, now);
  }

  /** A refused read (not found, forbidden, bad input): a run of them is probing. */
  refused(ctx: AccessContext): void {
    if (this.#watches(ctx.principal)) this.#signals.refused(ctx.principal.id, this.#d.clock.now().getTime());
  }

  /**
   * The response's patients in three: work in progress (counted in the work windows only), the
   * rest (the hard windows), and of the rest those seen only in records older than the archive
   * line (counted again, in the archive windows).
   */
  #split(release: Release, now: number): { main: string[]; work: string[]; archive: string[] } {
    const line = new Date(now - this.policy.archive.afterDays * 86_400_000).toISOString();
    const main: string[] = [];
    const work: string[] = [];
    const archive: string[] = [];
    release.patients.forEach((pseudonym, i) => {
      if (release.inProgress[i] === true) {
        work.push(pseudonym);
        return;
      }
      main.push(pseudonym);
      const changed = release.lastChanged[i];
      if (changed !== null && changed !== undefined && changed < line) archive.push(pseudonym);
    });
    return { main, work, archive };
  }

  /**
   * Whom a principal is compared with: its role, and for the roles named in
   * baseline.byTenantKind also the kind of tenant it acts for (a GP practice's system is no peer
   * of a hospital's or the screening organisation's). Tenant kinds never change: kept per node.
   */
  async #peerGroup(role: string, tenant: string): Promise<string> {
    if (!this.policy.baseline.byTenantKind.includes(role)) return role;
    let kind = this.#tenantKinds.get(tenant);
    if (kind === undefined) {
      kind = (await this.#d.store.getTenant(tenant))?.kind ?? 'unknown';
      this.#tenantKinds.set(tenant, kind);
    }
    return `${role}@${kind}`;
  }

  #hardFor(principalId: string, role: string): readonly WindowLimit[] {
    if (Object.hasOwn(this.policy.principals, principalId)) return this.policy.principals[principalId]!;
    return Object.hasOwn(this.policy.roles, role) ? this.policy.roles[role]! : this.policy.windows;
  }

  /** Contains the principal if any window's totals cross its limit. */
  async #check(ctx: AccessContext, limits: readonly WindowLimit[], totals: readonly ReleaseTotals[], prefix: string, strict: Strictness, now: number): Promise<void> {
    for (const [i, w] of limits.entries()) {
      const t = totals[i];
      if (t === undefined) continue;
      const why = strict.signals.length > 0 ? `; limits stricter for: ${strict.signals.join(', ')}` : '';
      if (t.patients > w.patients) {
        await this.#contain(ctx, `${prefix}patients-${w.seconds}s`, `${t.patients} ${prefix === 'archive-' ? 'archived ' : prefix === 'work-' ? 'in-progress ' : ''}patients in ${w.seconds} s, limit ${w.patients}${why}`, now - w.seconds * 1000);
      }
      if (w.bytes !== null && t.bytes > w.bytes) {
        await this.#contain(ctx, `${prefix}bytes-${w.seconds}s`, `${t.bytes} bytes in ${w.seconds} s, limit ${w.bytes}${why}`, now - w.seconds * 1000);
      }
    }
  }

  /**
   * The principal's limits now: the hard windows of its role (or its own); an hour or longer
   * lowered to its baseline (not for a principal with limits of its own): a day's window to the
   * day limit, shorter ones to `hourShare` of it (half; work in progress all of it, since a
   * validator authorises a worklist in bursts); every patient limit of a window up to an hour
   * divided by the signals' factor.
   */
  async #limitsOf(principalId: string, role: string, hard: readonly WindowLimit[], strict: Strictness, baselined = true, hourShare = 0.5): Promise<WindowLimit[]> {
    // A principal with a budget of its own keeps it: an operator set it for what it does.
    const day = baselined ? await this.#baselines.dayLimit(principalId, role) : null;
    return hard.map((w) => {
      let patients = w.patients;
      if (day !== null && w.seconds >= 86_400) patients = Math.min(patients, day);
      else if (day !== null && w.seconds >= 3_600) patients = Math.min(patients, Math.max(this.policy.baseline.minimumHour, Math.ceil(day * hourShare)));
      return { seconds: w.seconds, patients: this.#signals.stricter(patients, strict, w.seconds), bytes: w.bytes };
    });
  }

  /**
   * A copied token or a reused refresh token. The session it belonged to has already ended
   * (sessions.ts), so the copy opened nothing; the security officer gets an alert. It does not
   * lock the account by itself: a browser tab closed mid-refresh reuses a refresh token too.
   * Weighing these with the account's other signals is the scoring's job.
   */
  async signal(kind: SecuritySignal, principalId: string, _facts: { ip: string | null; userAgent: string | null }): Promise<void> {
    if (!this.policy.enabled) return;
    this.#signals.securityEvent(principalId, this.#d.clock.now().getTime());
    await this.#raise(principalId, null, `sentinel:${kind}`, null, 'high', kind === 'token-replay'
      ? 'a session or API token was presented without its device key; that session is ended'
      : 'a refresh token was used twice; its session is ended');
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
    // Reads return at once here (other nodes' marks end with their leases).
    for (const [principalId, mark] of this.#marks) {
      if (mark.containmentId === containmentId) {
        this.#marks.delete(principalId);
        this.#leases.unbar(principalId);
      }
    }
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
  async #raise(
    principalId: string, tenant: string | null, kind: string, subject: string | null, severity: DeliverableAlert['severity'], summary: string,
    id = randomId(this.#d.random), evidence: readonly number[] = [],
  ): Promise<void> {
    const createdAt = this.#d.clock.now().toISOString();
    await this.#d.store.safeguards.insertAlert({
      id, kind, principalId, tenant, subject, createdAt, acknowledgedAt: null, acknowledgedBy: null, evidence, closedAt: null, closedBy: null, closeNote: null,
    });
    await this.#d.deliver?.({ id, kind, principalId, tenant, subject, createdAt, severity, summary, evidence });
  }

  #marked(principalId: string): boolean {
    const mark = this.#marks.get(principalId);
    if (mark === undefined) return false;
    // A clock that stepped back keeps the mark.
    if (this.#d.clock.now().getTime() - mark.at < this.policy.leases.seconds * 1000 + GRACE_MS) return true;
    this.#marks.delete(principalId);
    return false;
  }

  /** Marks the principal contained on this node and drops its leases here (none is kept after). */
  #mark(principalId: string, containmentId: string): void {
    const now = this.#d.clock.now().getTime();
    this.#marks.set(principalId, { at: now, containmentId });
    this.#leases.drop(principalId, now);
  }

  #watches(principal: Principal): boolean {
    return this.policy.enabled && principal.kind !== 'local-operator';
  }

  #officer(by: Principal): void {
    if (by.role !== 'security-officer') throw forbidden('only a security officer manages containments');
  }

  /** A canary was touched: contained at once, the last ten minutes of its audit entries as evidence. */
  #containCanary(ctx: Containing, now: number): Promise<never> {
    return this.#contain(ctx, 'canary', 'a canary patient was touched', now - 600_000);
  }

  /**
   * Contains the principal and refuses the request. The containment row is the lock and comes
   * first; a concurrent request that contained the same principal already is as good. Then the
   * alert (with the principal's audit entries since `evidenceFrom` as evidence), the sessions
   * and the audit entry; whatever of those fails, the request is refused.
   */
  async #contain(ctx: Containing, reason: string, summary: string, evidenceFrom: number): Promise<never> {
    const principalId = ctx.principal.id;
    const at = this.#d.clock.now().toISOString();
    const id = randomId(this.#d.random);
    const alertId = randomId(this.#d.random);
    let fresh = true;
    // Refused here from now on, whatever its requests under way hold; what this node's leases
    // released for it is counted first (once contained, nothing is), then they are gone.
    this.#mark(principalId, id);
    await this.#leases.flushOf(principalId);
    this.#mark(principalId, id);
    try {
      await this.#d.store.sentinel.insertContainment({ id, principalId, reason, alertId, createdAt: at, liftedAt: null, liftedBy: null, liftNote: null });
    } catch (e) {
      if (!isLabkluisError(e, 'ERR_CONFLICT')) throw e;
      fresh = false;
    }
    if (fresh) {
      const evidence = (await this.#d.store.searchAudit({ principalId, from: new Date(evidenceFrom).toISOString(), limit: MAX_EVIDENCE })).map((r) => r.seq);
      await this.#raise(principalId, ctx.tenant, `sentinel:${reason}`, id, 'critical', `${summary}; the account is contained`, alertId, evidence);
      await this.#d.actions.endSessions(principalId, `contained-${reason}`);
      await this.#d.actions.revokeApiTokens(principalId, `contained-${reason}`);
      await this.#d.events({
        kind: 'sentinel-contained', reason, principalId, sessionId: null, subject: { type: 'Containment', id }, outcome: 'success', ip: ctx.ip, userAgent: ctx.userAgent,
      });
    }
    throw forbidden(CONTAINED_MESSAGE);
  }
}

/** Whom #contain contains: a request's context, or what a lease's flush knows of one. */
type Containing = Pick<AccessContext, 'tenant' | 'ip' | 'userAgent'> & { readonly principal: { readonly id: string } };

/** Whether other holders' leases could take some window's totals over its limit. */
function undecided(limits: readonly WindowLimit[], outcome: ReleaseOutcome): boolean {
  const others = outcome.lease;
  if (others === null || (others.othersPatients === 0 && others.othersBytes === 0)) return false;
  return limits.some((w, i) => {
    const t = outcome.totals[i];
    if (t === undefined || t.patients > w.patients || (w.bytes !== null && t.bytes > w.bytes)) return false;
    return t.patients + others.othersPatients > w.patients || (w.bytes !== null && t.bytes + others.othersBytes > w.bytes);
  });
}

/** The network a sign-in comes from: an office's IPv4 /24 (addresses move within it), an IPv6 /64. */
export function networkOf(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$/i.exec(ip);
  return v4 ? `${v4[1]}.0/24` : clientNetwork(ip);
}

function checkNote(note: unknown, message: string): asserts note is string {
  if (typeof note !== 'string' || note.trim().length < 10 || note.length > 1000) throw invalidInput(message);
}
