/**
 * What the security officer sees and does: every alert and containment the vault records
 * (read from the store as they come, so none is missed), and the review of containments. A
 * containment of someone doing normal work is a false one: the officer reviews it in office
 * hours, at the earliest half an hour after it (a call with the person or their team lead), and
 * lifts it through the API with a fresh passkey step-up. Containments of the attacked accounts
 * are never lifted.
 */
import type { AlertRow, ContainmentRow } from '../../src/store/index.js';
import { MINUTE, dayOf, hourOf, isWeekday } from './calendar.js';
import type { Client } from './client.js';
import type { Harness } from './harness.js';
import type { Scheduler } from './sim.js';

export interface AttackClaim {
  readonly attack: string;
  readonly startMs: number;
  /**
   * Which alert or containment kinds the attack can cause (default: any). A stolen token
   * opens nothing, so only theft signals are the attack's; a containment of its victims for
   * their own work that afternoon is an ordinary false one.
   */
  readonly kinds?: RegExp;
}

const LIST_LIMIT = 1000;
const REVIEW_AFTER = 30 * MINUTE;

export class Watch {
  readonly alerts = new Map<string, AlertRow>();
  readonly containments = new Map<string, ContainmentRow>();
  /** Attacked principals and when the attack on each began. */
  readonly attacked = new Map<string, AttackClaim>();
  readonly lifted: { id: string; principalId: string; containedMs: number; liftedMs: number }[] = [];
  /** Set when a listing came back full (some rows may have been missed between polls). */
  truncated = false;
  readonly #h: Harness;
  readonly #sim: Scheduler;
  readonly #officer: Client;

  constructor(h: Harness, sim: Scheduler, officer: Client) {
    this.#h = h;
    this.#sim = sim;
    this.#officer = officer;
  }

  claim(principalId: string, attack: string, startMs: number, kinds?: RegExp): void {
    if (!this.attacked.has(principalId)) this.attacked.set(principalId, { attack, startMs, ...(kinds ? { kinds } : {}) });
  }

  /** True when an alert or containment (its kind or reason) is the attack's doing: its principal attacked, at or after the start. */
  isAttack(principalId: string | null, createdAt: string, kind: string): boolean {
    const a = principalId === null ? undefined : this.attacked.get(principalId);
    return a !== undefined && Date.parse(createdAt) >= a.startMs && (a.kinds === undefined || a.kinds.test(kind));
  }

  async poll(): Promise<void> {
    const alerts = await this.#h.app.store.safeguards.listAlerts({ open: false, limit: LIST_LIMIT });
    const containments = await this.#h.app.store.sentinel.listContainments({ live: false, limit: LIST_LIMIT });
    if (alerts.length === LIST_LIMIT || containments.length === LIST_LIMIT) this.truncated = true;
    for (const a of alerts) this.alerts.set(a.id, a);
    for (const c of containments) this.containments.set(c.id, c);
  }

  async contained(principalId: string): Promise<boolean> {
    return (await this.#h.app.store.sentinel.liveContainment(principalId)) !== null;
  }

  /** Sleeps until the principal's containment is lifted; false if still contained at `untilMs`. */
  async waitForLift(principalId: string, untilMs: number): Promise<boolean> {
    while (this.#sim.now < untilMs) {
      if (!(await this.contained(principalId))) return true;
      await this.#sim.sleep(5 * MINUTE);
    }
    return !(await this.contained(principalId));
  }

  /** The officer's round: every 15 minutes in office hours (weekdays 08:00–17:00), live containments reviewed. */
  async officerRound(): Promise<void> {
    const now = this.#sim.now;
    const hour = hourOf(now);
    if (!isWeekday(dayOf(now)) || hour < 8 || hour >= 17) return;
    await this.poll();
    const list = await this.#officer.request('GET', '/auth/containments');
    if (list.status !== 200) throw new Error(`the security officer could not list containments: ${list.status}`);
    for (const c of list.body.containments as { id: string; principalId: string; createdAt: string; reason: string }[]) {
      if (this.isAttack(c.principalId, c.createdAt, c.reason)) continue;
      if (now - Date.parse(c.createdAt) < REVIEW_AFTER) continue;
      await this.#officer.signIn(); // a fresh passkey step-up (lifting needs one)
      const r = await this.#officer.request('POST', `/auth/containments/${c.id}/lift`, {
        body: { reason: 'Reviewed with the team lead: normal batch work for the lab (attack replay benchmark).' },
      });
      if (r.status >= 300) throw new Error(`lifting a containment failed: ${r.status} ${JSON.stringify(r.body)}`);
      this.lifted.push({ id: c.id, principalId: c.principalId, containedMs: Date.parse(c.createdAt), liftedMs: now });
    }
  }

  /** Polls every 30 minutes and runs the officer's rounds, from `fromMs` to `untilMs`. */
  start(fromMs: number, untilMs: number): void {
    this.#sim.spawn(fromMs, async () => {
      let tick = 0;
      while (this.#sim.now < untilMs) {
        if (tick % 2 === 0) await this.poll();
        await this.officerRound();
        tick++;
        await this.#sim.sleep(15 * MINUTE);
      }
    });
  }
}

