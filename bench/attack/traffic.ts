/**
 * A normal lab day, planned at midnight: orders placed by the clients' systems the working day
 * before, couriers bringing the specimens, people's shifts (part-time, lunch, a late intake
 * shift, now and then an evening at home), the analysers' runs, and the systems fetching what
 * was authorised. Nothing here knows the sentinel's limits; see bench/README.md for the figures.
 */
import { HOUR, MINUTE, at, dayOf, isWeekday, weekday } from './calendar.js';
import type { Client } from './client.js';
import type { Authorised, LiveEpisode } from './lab.js';
import type { Tenant } from './seed.js';
import type { Analyser } from './staff.js';
import { fetchReport, placeOrder, postRun, register, reviewSpecimen, screenCytology, validatePage } from './work.js';
import { minutes, seconds, type World } from './world.js';

/** Specimens per working day, relative to the daily figure: Monday's post brings the weekend's. */
const WEEKDAY_FACTOR = [1.15, 1.05, 1.0, 1.0, 0.85, 0.15, 0] as const;
/** Courier runs on weekdays (local hour, share); hospitals also send an evening courier. */
const COURIERS: readonly (readonly [number, number])[] = [[8.75, 0.45], [11.5, 0.3], [14.5, 0.25]];
const EVENING_COURIER = 17.5;
const RUNS: Readonly<Record<Analyser, { weekday: readonly number[]; saturday: readonly number[]; hours: number }>> = {
  hpv: { weekday: [11, 14, 16.5], saturday: [11], hours: 3 },
  naat: { weekday: [10.5, 13.5, 16], saturday: [11], hours: 3.5 },
  sero: { weekday: [12, 15.5], saturday: [11], hours: 1.5 },
};
const PLATE = 94;

export class Traffic {
  readonly #w: World;
  readonly #plans = new Map<number, LiveEpisode[]>();
  readonly #screeningInbox: Authorised[] = [];
  readonly #daily: number;

  constructor(w: World, daily: number) {
    this.#w = w;
    this.#daily = daily;
  }

  /** Plans every day from `firstDay` (orders only) to `lastDay`; nothing runs after `endMs`. */
  start(firstDay: number, lastDay: number, endMs: number): void {
    const { sim } = this.#w;
    for (let d = firstDay; d <= lastDay; d++) sim.spawn(at(d, 0), async () => this.#planDay(d, d > firstDay, endMs));
    sim.spawn(at(firstDay, 7), async () => {
      // The screening organisation's connector collects what was authorised every 15 minutes, 07:00–19:00, Monday to Saturday.
      while (sim.now < endMs) {
        const h = (sim.now - at(dayOf(sim.now), 0)) / HOUR;
        if (weekday(dayOf(sim.now)) < 6 && h >= 7 && h < 19 && this.#screeningInbox.length > 0) {
          const batch = this.#screeningInbox.splice(0);
          const c = this.#requester(batch[0]!.tenant);
          for (const a of batch) await fetchReport(this.#w, c, a);
        }
        await sim.sleep(15 * MINUTE);
      }
    });
  }

  /** What a validator's authorisation sets off: the client's system is told and fetches the report. */
  authorised = (a: Authorised): void => {
    const tenant = this.#w.lab.seed.tenants.find((t) => t.id === a.tenant)!;
    if (tenant.kind === 'screening') {
      this.#screeningInbox.push(a);
      return;
    }
    const delay = tenant.kind === 'hospital' ? minutes(this.#w, 1, 10) : minutes(this.#w, 2, 30);
    this.#w.sim.spawn(this.#w.sim.now + delay, () => fetchReport(this.#w, this.#requester(a.tenant), a));
  };

  #requester(tenant: string): Client {
    return this.#w.roster.requesters.get(tenant)!;
  }

  async #planDay(d: number, labWorks: boolean, endMs: number): Promise<void> {
    const w = this.#w;
    // Orders placed today for the next arrival days.
    for (let a = d + 1; a <= d + 3; a++) {
      for (const e of this.#plan(a)) {
        if (e.orderDay !== d) continue;
        const [from, to] = e.tenant.kind === 'hospital' ? [7, 22] : [8, 17];
        w.sim.spawn(at(d, from + w.prng.float() * (to - from)), () => placeOrder(w, this.#requester(e.tenant.id), e));
      }
    }
    if (!labWorks) return;
    // Couriers.
    const arriving = this.#plan(d);
    if (arriving.length > 0) {
      const groups = new Map<number, LiveEpisode[]>();
      for (const e of arriving) {
        let hour: number;
        if (weekday(d) === 5) hour = 9.5;
        else if (e.tenant.kind === 'hospital' && w.prng.chance(0.1)) hour = EVENING_COURIER;
        else hour = w.prng.weighted(COURIERS.map(([h, share]) => [h, share] as const));
        const list = groups.get(hour) ?? [];
        list.push(e);
        groups.set(hour, list);
      }
      for (const [hour, list] of groups) {
        w.sim.spawn(at(d, hour), async () => {
          for (const e of list) e.arrivalMs = w.sim.now;
          w.lab.arrivals.push(...list);
        });
      }
    }
    // Analyser runs.
    if (weekday(d) < 6) {
      for (const [kind, run] of Object.entries(RUNS) as [Analyser, (typeof RUNS)[Analyser]][]) {
        for (const hour of isWeekday(d) ? run.weekday : run.saturday) {
          w.sim.spawn(at(d, hour), async () => {
            const queue = w.lab.awaitingRun.get(kind)!;
            const batch = queue.splice(0, PLATE);
            if (batch.length === 0) return;
            await w.sim.sleep(run.hours * HOUR + minutes(w, 0, 15));
            await postRun(w, w.roster.instruments.get(kind)!, kind, batch);
          });
        }
      }
    }
    this.#shifts(d, endMs);
  }

  /** Specimens arriving on day `a` (made once, the first time a planner asks). */
  #plan(a: number): LiveEpisode[] {
    let plan = this.#plans.get(a);
    if (plan) return plan;
    plan = [];
    const w = this.#w;
    const factor = WEEKDAY_FACTOR[weekday(a)]!;
    const n = factor === 0 ? 0 : Math.round(this.#daily * factor * (0.85 + 0.3 * w.prng.float()));
    const tenants = w.lab.seed.tenants;
    for (let i = 0; i < n; i++) {
      const t: Tenant = w.prng.weighted(tenants.map((x) => [x, x.share] as const));
      // GP practices and the screening programme order on weekdays; hospitals every day.
      let orderDay = a - 1;
      if (t.kind !== 'hospital') while (!isWeekday(orderDay)) orderDay--;
      if (weekday(a) === 5 && t.kind !== 'hospital' && w.prng.chance(0.7)) continue; // Saturday: mostly hospital post
      plan.push(w.lab.episode(t, orderDay, a));
    }
    this.#plans.set(a, plan);
    return plan;
  }

  #shifts(d: number, endMs: number): void {
    const w = this.#w;
    const wd = weekday(d);
    if (wd === 6) return;
    const { registrars, analysts, validators } = w.roster;
    const present = (list: readonly Client[], i: number) =>
      w.victims.has(list[i]!) && d === w.attackDay ? true : wd === 5 ? i === d % list.length : i % 5 !== wd || list.length < 5;
    const jitter = () => minutes(w, -20, 20);
    registrars.forEach((c, i) => {
      if (!present(registrars, i)) return;
      const late = wd < 5 && i === d % registrars.length && !(w.victims.has(c) && d === w.attackDay);
      const [from, to] = wd === 5 ? [8, 13] : late ? [11.5, 20] : i % 2 ? [7.5, 16] : [8.5, 17];
      this.#shift(c, at(d, from) + jitter(), Math.min(endMs, at(d, to) + jitter()), d, () => this.#registerNext(c));
    });
    analysts.forEach((c, i) => {
      if (!present(analysts, i)) return;
      const overtime = wd < 5 && i === (d + 1) % analysts.length;
      const [from, to] = wd === 5 ? [8, 13] : [8, overtime ? 18.5 : 16.5];
      this.#shift(c, at(d, from) + jitter(), Math.min(endMs, at(d, to) + jitter()), d, (end) => this.#analyse(c, end));
    });
    validators.forEach((c, i) => {
      if (!present(validators, i)) return;
      const [from, to] = wd === 5 ? [8, 13] : [8.5, 17];
      this.#shift(c, at(d, from) + jitter(), Math.min(endMs, at(d, to) + jitter()), d, (end) => this.#validate(c, end));
      // Now and then an hour of authorising from home in the evening.
      if (wd < 5 && w.prng.chance(0.08)) {
        const from2 = at(d, 19.5) + jitter();
        this.#shift(c, from2, Math.min(endMs, from2 + minutes(w, 45, 90)), d, (end) => this.#validate(c, end), false);
      }
    });
  }

  /** One person's shift: work while there is work, lunch around noon, wait a few minutes when the queue is empty. */
  #shift(c: Client, startMs: number, endMs: number, d: number, unit: (endMs: number) => Promise<boolean>, lunch = true): void {
    const w = this.#w;
    if (startMs >= endMs) return;
    const lunchFrom = at(d, 12) + minutes(w, 0, 45);
    const lunchTo = lunchFrom + minutes(w, 30, 45);
    w.sim.spawn(startMs, async () => {
      w.shiftEnds.set(c, endMs);
      while (w.sim.now < endMs) {
        if (lunch && w.sim.now >= lunchFrom && w.sim.now < lunchTo) {
          await w.sim.sleepUntil(lunchTo);
          continue;
        }
        const before = w.sim.now;
        const worked = await unit(endMs);
        if (!worked) await w.sim.sleep(minutes(w, 4, 10));
        else if (w.sim.now === before) await w.sim.sleep(minutes(w, 1, 2)); // nothing came of it: a moment before the next try
      }
      if (w.prng.chance(0.4)) await c.signOut();
      else c.forgetSession();
    });
  }

  async #registerNext(c: Client): Promise<boolean> {
    const w = this.#w;
    const i = w.lab.arrivals.findIndex((e) => e.arrivalMs <= w.sim.now && e.orderIds.length > 0);
    if (i < 0) return false;
    const [e] = w.lab.arrivals.splice(i, 1);
    if (!(await register(w, c, e!))) w.lab.arrivals.push(e!); // try again later (order not found yet, contained)
    return true;
  }

  async #analyse(c: Client, endMs: number): Promise<boolean> {
    const w = this.#w;
    const run = w.lab.review.shift();
    if (run) {
      while (run.length > 0 && w.sim.now < endMs) {
        const e = run.shift()!;
        if (!(await reviewSpecimen(w, c, e))) {
          run.unshift(e); // refused (contained): the plate waits
          break;
        }
      }
      if (run.length > 0) w.lab.review.unshift(run); // the rest of the plate waits for tomorrow (or a colleague)
      return true;
    }
    const i = w.lab.cytology.findIndex((x) => x.readyMs <= w.sim.now);
    if (i < 0) return false;
    const [item] = w.lab.cytology.splice(i, 1);
    await screenCytology(w, c, item!.episode);
    return true;
  }

  async #validate(c: Client, endMs: number): Promise<boolean> {
    const w = this.#w;
    const open = [...w.lab.pending].filter(([t, n]) => n > 0 && !w.lab.claimed.has(t)).sort((a, b) => b[1] - a[1]);
    if (open.length === 0) return false;
    const tenant = open[0]![0];
    w.lab.claimed.add(tenant);
    try {
      while (w.sim.now < endMs && (w.lab.pending.get(tenant) ?? 0) > 0) {
        const n = await validatePage(w, c, tenant, endMs, this.authorised);
        if (n === 0) break;
        await w.sim.sleep(seconds(w, 10, 60));
      }
    } finally {
      w.lab.claimed.delete(tenant);
    }
    return true;
  }
}
