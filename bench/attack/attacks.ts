/**
 * The attacks, each run by malware on a staff member's PC (or in a client's system) with the
 * real, device-bound credential: it sends requests through the same browser session or key the
 * victim uses, so every proof is valid. Only the stolen-token attack works from another device.
 * Exposure is what the attacker actually received: distinct patients in its 2xx responses.
 *
 * The slow attackers know the policy as configured (its hard windows and archive rule, whatever
 * the app's defaults say now) and keep under it, with room for the victim's own work; they
 * cannot know the baselines learned from history or the signals a principal has shown.
 */
import { systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey } from '../../src/sessions/index.js';
import { HOUR, at } from './calendar.js';
import { sendRaw, type Client, type Method, type Reply } from './client.js';
import { PUBLIC_URL } from './harness.js';
import type { SeededPatient } from './seed.js';
import { seconds, type World } from './world.js';

export interface AttackRun {
  readonly name: string;
  readonly title: string;
  readonly clients: readonly Client[];
  startMs: number;
  /** When the attacker stopped (refused, nothing left, or its time was up). */
  endMs: number | null;
  readonly exposed: Set<string>;
  /** The same per attacking account (by client name). */
  readonly perClient: Map<string, Set<string>>;
  requests: number;
  /** Why it stopped: 'refused 403', 'unauthorised 401', 'done', 'time'. */
  stop: string | null;
  /** Attack-specific facts (canary: before/after the touch; stolen token: per variant). */
  readonly facts: Record<string, unknown>;
}

const run = (name: string, title: string, clients: Client[]): AttackRun => ({
  name, title, clients, startMs: 0, endMs: null, exposed: new Set(), perClient: new Map(), requests: 0, stop: null, facts: {},
});

/** Sends one attack request through the victim's own client and keeps what came back. */
async function hit(w: World, a: AttackRun, c: Client, method: Method, path: string, tenant: string): Promise<Reply> {
  let r = await c.request(method, path, { tenant });
  a.requests++;
  // Throttled (a budget that refuses without containing): wait as told, then the same request again.
  for (let i = 0; r.status === 429 && i < 50; i++) {
    await w.sim.sleep(Math.max(1_000, r.retryAfterMs ?? 60_000));
    r = await c.request(method, path, { tenant });
    a.requests++;
  }
  let mine = a.perClient.get(c.name);
  if (!mine) a.perClient.set(c.name, (mine = new Set()));
  for (const p of r.patients) {
    a.exposed.add(p);
    mine.add(p);
  }
  // A script runs as fast as the server answers (but not faster than a LAN round trip).
  await w.sim.sleep(Math.max(20, Math.round(r.wallMs)));
  return r;
}

function stopped(a: AttackRun, r: Reply): boolean {
  if (r.status === 403 || r.status === 401) {
    a.stop = `${r.status === 403 ? 'refused' : 'unauthorised'} ${r.status}`;
    return true;
  }
  return false;
}

const nextPath = (body: any): string | null => {
  const url = (body?.link as { relation: string; url: string }[] | undefined)?.find((l) => l.relation === 'next')?.url;
  return url ? url.slice(PUBLIC_URL.length) : null;
};

export interface AttackPlan {
  readonly runs: readonly AttackRun[];
  /** Attack principals (victims), in the order they are claimed. */
  readonly victims: ReadonlySet<Client>;
}

/** Who is attacked: fixed seats, so that each attack has its own victim and peers stay clean. */
export function planAttacks(w: Pick<World, 'roster'>): AttackPlan {
  const { registrars: r, analysts: an, validators: v, requesters } = w.roster;
  const gp1 = [...requesters.values()].find((c) => c.name === 'gp-1-system')!;
  const runs = [
    run('burst', 'burst bulk read', [v[0]!]),
    run('drip', 'slow drip', [an[0]!]),
    run('walking', 'sequential barcode walking', [an[1]!]),
    run('broad', 'broad search', [v[1]!]),
    run('canary', 'canary touch', [r[2]!]),
    run('stolen', 'stolen token, other device', [r[3]!, gp1]),
    run('distributed', 'distributed read, 3 accounts', [an[2]!, an[3]!, v[2]!]),
  ];
  return { runs, victims: new Set(runs.flatMap((x) => x.clients).filter((c) => c.spec.kind === 'person')) };
}

/** Local start hour of each attack on the attack day. */
const START: Readonly<Record<string, number>> = {
  drip: 8.5, distributed: 8.5, burst: 9.5, walking: 10.25, broad: 11, canary: 11.75, stolen: 14,
};
/** What a stolen token can set off (it opens nothing, so it causes no containment for volume). */
const THEFT = /token-replay|refresh-reuse|security-event/;
/** Working hours the slow attacks keep to (the victim is at the PC). */
const ACTIVE_FROM = 8.5;
const ACTIVE_TO = 17.5;

export function scheduleAttacks(w: World, plan: AttackPlan): void {
  const screening = w.lab.seed.tenants.find((t) => t.kind === 'screening')!.id;
  for (const a of plan.runs) {
    const startMs = at(w.attackDay, START[a.name]!);
    a.startMs = startMs;
    for (const c of a.clients) w.watch.claim(c.principalId, a.name, startMs, a.name === 'stolen' ? THEFT : undefined);
    w.sim.spawn(startMs, async () => {
      switch (a.name) {
        case 'burst': await burst(w, a, screening); break;
        case 'drip': await drip(w, a, a.clients[0]!, [screening]); break;
        case 'walking': await walking(w, a, screening); break;
        case 'broad': await broad(w, a, screening); break;
        case 'canary': await canary(w, a); break;
        case 'stolen': await stolen(w, a); break;
        case 'distributed': distributed(w, a, screening); return; // three actors of its own
      }
      a.endMs ??= w.sim.now;
    });
  }
}

/** As fast as possible: list reports a page at a time (the UI's page size) and read every result and patient on it. */
async function burst(w: World, a: AttackRun, tenant: string): Promise<void> {
  const c = a.clients[0]!;
  let path: string | null = '/fhir/DiagnosticReport?_count=20';
  while (path && w.sim.now < a.startMs + HOUR) {
    const page = await hit(w, a, c, 'GET', path, tenant);
    if (stopped(a, page)) return;
    for (const e of (page.body?.entry ?? []) as { resource: any }[]) {
      for (const ref of [...((e.resource.result ?? []) as { reference: string }[]).map((x) => x.reference), e.resource.subject?.reference]) {
        if (!ref) continue;
        const r = await hit(w, a, c, 'GET', `/fhir/${ref}`, tenant);
        if (stopped(a, r)) return;
      }
    }
    path = nextPath(page.body);
  }
  a.stop = path ? 'time' : 'done';
}

/** Specimen?identifier=<barcode> down the label sequence from the newest, and the results of each hit. */
async function walking(w: World, a: AttackRun, tenant: string): Promise<void> {
  const c = a.clients[0]!;
  const newest = w.lab.seed.nextBarcode - 1;
  for (let n = newest, steps = 0; steps < 2_000 && w.sim.now < a.startMs + HOUR; n--, steps++) {
    const s = await hit(w, a, c, 'GET', `/fhir/Specimen?identifier=T${n}`, tenant);
    if (stopped(a, s)) return;
    const id = s.body?.entry?.[0]?.resource?.id as string | undefined;
    if (!id) continue;
    const r = await hit(w, a, c, 'GET', `/fhir/Observation?specimen=Specimen/${id}`, tenant);
    if (stopped(a, r)) return;
  }
  a.stop = 'time';
}

/** Searches that name no one (unfiltered, by status, by date), each paged through, in turn. */
async function broad(w: World, a: AttackRun, tenant: string): Promise<void> {
  const c = a.clients[0]!;
  const paths: (string | null)[] = ['/fhir/DiagnosticReport', '/fhir/DiagnosticReport?status=final', '/fhir/Observation?date=ge2024-01-01'];
  while (paths.some((p) => p !== null) && w.sim.now < a.startMs + HOUR) {
    for (let i = 0; i < paths.length; i++) {
      if (paths[i] === null) continue;
      const r = await hit(w, a, c, 'GET', paths[i]!, tenant);
      if (stopped(a, r)) return;
      paths[i] = nextPath(r.body);
    }
  }
  a.stop = paths.some((p) => p !== null) ? 'time' : 'done';
}

/**
 * Enriching a list of BSNs (from an earlier leak) with identities; one of them is a canary.
 * Exposure is split at the touch: the target is nothing after it.
 */
async function canary(w: World, a: AttackRun): Promise<void> {
  const c = a.clients[0]!;
  const bird: SeededPatient = w.lab.seed.canaries.find((p) => p.work === 'screening') ?? w.lab.seed.canaries[0]!;
  const pool = w.lab.seed.byTenant.get(bird.tenant)!;
  const list = Array.from({ length: 15 }, () => pool[w.prng.int(0, pool.length - 1)]!);
  list.splice(5, 0, bird);
  let before = 0;
  for (const p of list) {
    if (p === bird) {
      before = a.exposed.size;
      a.facts.touchedAtMs = w.sim.now;
    }
    const r = await hit(w, a, c, 'GET', `/fhir/Patient?identifier=${p.bsn}`, p.tenant);
    if (p === bird) a.facts.touchStatus = r.status;
    if (stopped(a, r)) break;
    await w.sim.sleep(seconds(w, 2, 5));
  }
  a.facts.exposedBeforeTouch = before;
  a.facts.exposedAfterTouch = a.exposed.size - before;
  a.stop ??= 'done';
}

/**
 * A copy of a credential used from the thief's own machine (its own DPoP key, its own address):
 * (a) a person's access token, (b) the same person's refresh token, (c) a GP system's API token.
 */
async function stolen(w: World, a: AttackRun): Promise<void> {
  const [person, system] = a.clients as [Client, Client];
  const thief = await generateDpopKey();
  const ip = '203.0.113.66';
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';
  const pool = w.lab.seed.byTenant.get(w.lab.seed.tenants[0]!.id)!;
  const variants: Record<string, unknown>[] = [];
  const use = async (variant: string, token: string, method: Method, path: string, tenant: string) => {
    const dpop = await createDpopProof(thief, { method, url: `${PUBLIC_URL}${path}`, accessToken: token, clock: w.h.clock, random: systemRandom });
    const r = await sendRaw(w.h, { method, path, ip, tenant, headers: { authorization: `DPoP ${token}`, dpop, 'user-agent': ua, 'x-labkluis-tenant': tenant } });
    a.requests++;
    for (const p of r.patients) a.exposed.add(p);
    variants.push({ variant, status: r.status, patients: r.patients.length, atMs: w.sim.now });
    await w.sim.sleep(seconds(w, 1, 3));
    return r;
  };
  const tenant = w.lab.seed.tenants[0]!.id;
  // (a) The victim is working; the malware copies the access token out of the browser.
  await person.request('GET', '/auth/sessions');
  const access = person.credentials.accessToken!;
  for (let i = 0; i < 3; i++) await use('session access token', access, 'GET', `/fhir/Patient?identifier=${pool[w.prng.int(0, pool.length - 1)]!.bsn}`, tenant);
  await w.sim.sleep(seconds(w, 60, 180));
  // (b) The victim signs in again (the copy ended the session); the thief now redeems the refresh token.
  await person.request('GET', '/auth/sessions');
  const refresh = person.credentials.refreshToken!;
  const proof = await createDpopProof(thief, { method: 'POST', url: `${PUBLIC_URL}/auth/token`, clock: w.h.clock, random: systemRandom });
  const redeemed = await sendRaw(w.h, { method: 'POST', path: '/auth/token', ip, tenant: '', body: { refreshToken: refresh }, headers: { dpop: proof, 'user-agent': ua } });
  a.requests++;
  variants.push({ variant: 'session refresh token', status: redeemed.status, patients: 0, atMs: w.sim.now });
  if (redeemed.status === 200) {
    for (let i = 0; i < 3; i++) await use('tokens from the refresh token', redeemed.body.accessToken, 'GET', `/fhir/Patient?identifier=${pool[w.prng.int(0, pool.length - 1)]!.bsn}`, tenant);
  }
  await w.sim.sleep(seconds(w, 60, 180));
  // (c) A GP practice's system: its API token copied off the server (the key file stays behind).
  const gpTenant = system.spec.tenant!;
  for (let i = 0; i < 3; i++) await use('API token', system.credentials.apiToken!, 'GET', '/fhir/DiagnosticReport?status=final&_count=20', gpTenant);
  const probe = await system.request('GET', `/fhir/Organization/${gpTenant}`);
  a.facts.apiTokenRevoked = probe.status === 401;
  a.facts.variants = variants;
  a.stop = variants.every((v) => v.status === 401) ? 'unauthorised 401' : 'opened';
}

/**
 * Under the limits: as many patients a day as every window allows, less 20% room for the
 * victim's own work, spread over the working day, one report (and its results) at a time.
 */
async function drip(w: World, a: AttackRun, c: Client, tenants: readonly string[]): Promise<void> {
  const perDay = dripRate(w, c.spec.role);
  a.facts[`perDay:${c.name}`] = perDay;
  const from = Math.max(w.sim.now, at(w.attackDay, ACTIVE_FROM));
  const to = at(w.attackDay, ACTIVE_TO);
  await w.sim.sleepUntil(from);
  const gap = (to - from) / perDay;
  const queue = [...tenants];
  let tenant = queue.shift()!;
  const first = `/fhir/DiagnosticReport?_count=1${recentOnly(w)}`;
  let path: string | null = first;
  while (w.sim.now < to) {
    const page = await hit(w, a, c, 'GET', path!, tenant);
    const halt = (r: Reply) => {
      if (!stopped(a, r)) return false;
      a.facts[`stop:${c.name}`] = { status: r.status, atMs: w.sim.now };
      return true;
    };
    if (halt(page)) return;
    for (const e of (page.body?.entry ?? []) as { resource: any }[]) {
      for (const ref of ((e.resource.result ?? []) as { reference: string }[]).map((x) => x.reference)) {
        if (halt(await hit(w, a, c, 'GET', `/fhir/${ref}`, tenant))) return;
      }
    }
    path = nextPath(page.body);
    if (!path) {
      if (queue.length === 0) break;
      tenant = queue.shift()!;
      path = first;
    }
    await w.sim.sleep(Math.round(gap * (0.7 + 0.6 * w.prng.float())));
  }
  a.stop ??= 'time';
}

/** Three accounts, each dripping under its own limits, over separate clients' records. */
function distributed(w: World, a: AttackRun, screening: string): void {
  const others = w.lab.seed.tenants.filter((t) => t.id !== screening);
  const shares = [[screening], others.filter((t) => t.kind === 'hospital').map((t) => t.id), others.filter((t) => t.kind === 'gp-practice').map((t) => t.id)];
  let running = a.clients.length;
  a.clients.forEach((c, i) => {
    w.sim.spawn(w.sim.now, async () => {
      await drip(w, a, c, shares[i]!);
      if (--running > 0) return;
      a.endMs = w.sim.now;
      const stops = a.clients.map((x) => a.facts[`stop:${x.name}`]).filter(Boolean);
      a.stop = stops.length === a.clients.length ? 'refused 403 (all three)' : stops.length > 0 ? `refused (${stops.length} of 3)` : 'time';
    });
  });
}

/**
 * When the policy counts looks into old records against lower limits (an archive rule), the
 * drip keeps to records younger than that (a week's margin): `&date=ge<day>`; otherwise all.
 */
function recentOnly(w: World): string {
  const days = (w.h.app.sentinel.policy as { archive?: { afterDays?: number } }).archive?.afterDays;
  if (typeof days !== 'number') return '';
  return `&date=ge${new Date(w.sim.now - (days - 7) * 86_400_000).toISOString().slice(0, 10)}`;
}

/** Patients a day the published limits allow at a steady pace over the active hours, less 20%. */
export function dripRate(w: World, role: string): number {
  const policy = w.h.app.sentinel.policy as { windows?: readonly { seconds: number; patients: number }[]; roles?: Record<string, readonly { seconds: number; patients: number }[]> };
  const windows = (policy.roles && Object.hasOwn(policy.roles, role) ? policy.roles[role] : policy.windows) ?? [];
  const active = (ACTIVE_TO - ACTIVE_FROM) * 3600;
  const perDay = Math.min(...windows.map((x) => x.patients * Math.max(1, active / x.seconds)));
  return Number.isFinite(perDay) ? Math.max(1, Math.floor(0.8 * perDay)) : 240;
}
