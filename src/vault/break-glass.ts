/**
 * Break-glass: emergency access of one signed-in person to one patient, with a stated reason,
 * for a short time (default 30 minutes). It needs a fresh passkey assertion, always raises an
 * alert for the security officer, and every access under it is flagged as emergency (ETREAT)
 * in the audit log, where it shows in that patient's access report.
 */
import { requireStepUp, type Principal } from '../auth/index.js';
import { forbidden, invalidInput, notFound, randomId, type Clock, type Random } from '../kernel/index.js';
import type { Store } from '../store/index.js';
import type { AccessContext } from './context.js';
import type { RecordCodec } from './records.js';
import type { Trail } from './trail.js';

export const BREAK_GLASS_DEFAULT_MINUTES = 30;
export const BREAK_GLASS_MAX_MINUTES = 60;
/** Roles whose work can make an emergency reason plausible; the others never break glass. */
const MAY_BREAK_GLASS = new Set<string>(['registrar', 'analyst', 'validator', 'requester']);

export interface BreakGlassGrant {
  readonly id: string;
  readonly patient: string; // pseudonym
  readonly expiresAt: string;
}

export class BreakGlass {
  readonly #store: Store;
  readonly #codec: RecordCodec;
  readonly #trail: Trail;
  readonly #clock: Clock;
  readonly #random: Random;

  constructor(deps: { store: Store; codec: RecordCodec; trail: Trail; clock: Clock; random: Random }) {
    this.#store = deps.store;
    this.#codec = deps.codec;
    this.#trail = deps.trail;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  /** Opens a grant. `ctx` is the person's ordinary context for the tenant (its purpose is replaced by ETREAT). */
  async open(ctx: AccessContext, input: { patient: unknown; reason: unknown; minutes?: unknown }): Promise<BreakGlassGrant> {
    const emergencyCtx: AccessContext = Object.freeze({ ...ctx, purposeOfUse: 'ETREAT', emergency: true });
    const patient = typeof input.patient === 'string' ? input.patient : '';
    try {
      const principal = ctx.principal;
      if (principal.authMethod !== 'session') throw forbidden('break-glass is for signed-in people');
      if (!MAY_BREAK_GLASS.has(principal.role)) throw forbidden(`role '${principal.role}' cannot break glass`);
      if (principal.suspended) throw forbidden('this account is suspended (access hygiene): no break-glass');
      requireStepUp(principal, this.#clock, 'break-glass');
      const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
      if (reason.length < 10 || reason.length > 500) throw invalidInput('state the reason for emergency access (10-500 characters)');
      const minutes = input.minutes === undefined ? BREAK_GLASS_DEFAULT_MINUTES : input.minutes;
      if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 5 || minutes > BREAK_GLASS_MAX_MINUTES) {
        throw invalidInput(`minutes: 5..${BREAK_GLASS_MAX_MINUTES}`);
      }
      if (!/^[a-z2-7]{26}$/.test(patient) || (await this.#store.getPerson(ctx.tenant, patient)) === null) throw notFound('no such patient in this tenant');
      const now = this.#clock.now();
      const id = randomId(this.#random);
      const grant = {
        id, principalId: principal.id, tenant: ctx.tenant, pseudonym: patient,
        reason: await this.#codec.sealNote(ctx.tenant, 'BreakGlass', id, reason),
        createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + minutes * 60_000).toISOString(), endedAt: null,
      };
      await this.#store.safeguards.insertBreakGlass(grant);
      try {
        await this.#trail.record(emergencyCtx, { action: 'E', operation: 'break-glass', patients: [patient], objects: [{ type: 'BreakGlass', id }], outcome: 'success' });
      } catch (e) {
        await this.#store.safeguards.endBreakGlass(id, this.#clock.now().toISOString()); // no grant without its audit entry
        throw e;
      }
      try {
        await this.#store.safeguards.insertAlert({
          id: randomId(this.#random), kind: 'break-glass', principalId: principal.id, tenant: ctx.tenant, subject: patient,
          createdAt: now.toISOString(), acknowledgedAt: null, acknowledgedBy: null,
        });
      } catch (e) {
        await this.#store.safeguards.endBreakGlass(id, this.#clock.now().toISOString()); // never a grant the security officer cannot see
        throw e;
      }
      return { id, patient, expiresAt: grant.expiresAt };
    } catch (e) {
      await this.#trail.refusal(emergencyCtx, { action: 'E', operation: 'break-glass', patients: [], objects: [{ type: 'BreakGlass' }] }, e);
      throw e;
    }
  }

  /** The pseudonyms this emergency context may see now; a context without emergency gets none. */
  async granted(ctx: AccessContext): Promise<ReadonlySet<string>> {
    if (!ctx.emergency) return new Set();
    const live = await this.#store.safeguards.liveBreakGlass(ctx.principal.id, ctx.tenant, this.#clock.now().toISOString());
    return new Set(live.map((g) => g.pseudonym));
  }

  /** Ends one's own grant early. */
  async end(principal: Principal, tenant: string, id: string): Promise<boolean> {
    const live = await this.#store.safeguards.liveBreakGlass(principal.id, tenant, this.#clock.now().toISOString());
    if (!live.some((g) => g.id === id)) throw notFound('no such live grant');
    return this.#store.safeguards.endBreakGlass(id, this.#clock.now().toISOString());
  }
}
