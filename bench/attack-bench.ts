/**
 * Attack replay benchmark (issue 4, deliverable 5): `npm run bench:attack`.
 *
 * Seeds a synthetic lab vault (default 50,000 patients), replays two weeks of a lab's normal
 * work from several roles in simulated time, then an attack day on which seven attacks run
 * with valid device-bound credentials while normal work goes on. Reports, per attack, the
 * patients the attacker received before containment, the time to containment and the alert;
 * for normal work, the false alarms and false containments. The sentinel runs with the app's
 * defaults, as in production. See bench/README.md, "Attack replay".
 *
 *   npm run bench:attack                        # 50,000 patients, SQLite
 *   npm run bench:attack -- --patients 5000     # a quick run
 *   npm run bench:attack -- --pg                # PostgreSQL at 127.0.0.1:5432 (a database per run)
 *
 * Other flags: --days <n> baseline days (14), --daily <n> specimens per working day (200),
 * --seed <text> for the synthetic data and traffic, --no-write (stdout only).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Prng } from '../src/demo/prng.js';
import { seededRandom } from '../src/demo/index.js';
import { Cleanup, postgresAvailable } from './lib/fixtures.js';
import { planAttacks, scheduleAttacks } from './attack/attacks.js';
import { DAY, HOUR, at, dayOf, localLabel } from './attack/calendar.js';
import { evaluate } from './attack/evaluate.js';
import { openHarness } from './attack/harness.js';
import { Lab } from './attack/lab.js';
import { machineBasics } from './lib/machine.js';
import { renderReadmeSection, renderTable, type AttackResults } from './attack/report.js';
import { seedVault } from './attack/seed.js';
import { SimClock, Scheduler } from './attack/sim.js';
import { buildRoster } from './attack/staff.js';
import type { WindowLimit } from '../src/sentinel/index.js';

/** The screening connector's own budget: about three times its busiest day, in batches of up to an hour's worth. */
const CONNECTOR_BUDGET: readonly WindowLimit[] = [
  { seconds: 600, patients: 60, bytes: null },
  { seconds: 3_600, patients: 150, bytes: null },
  { seconds: 86_400, patients: 400, bytes: null },
];
import { Traffic } from './attack/traffic.js';
import { Watch } from './attack/watch.js';
import type { World } from './attack/world.js';

interface Options {
  patients: number;
  days: number;
  daily: number;
  backend: 'sqlite' | 'postgres';
  seed: string;
  write: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { patients: 50_000, days: 14, daily: 200, backend: 'sqlite', seed: 'labkluis-attack-replay', write: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (min: number, max: number) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${a} takes a whole number from ${min} to ${max}`);
      return v;
    };
    if (a === '--patients') o.patients = num(1_000, 50_000);
    else if (a === '--days') o.days = num(1, 28);
    else if (a === '--daily') o.daily = num(20, 2_000);
    else if (a === '--pg' || a === '--postgres') o.backend = 'postgres';
    else if (a === '--seed') o.seed = String(argv[++i] ?? '');
    else if (a === '--no-write') o.write = false;
    else throw new Error(`unknown option ${a} (see the comment at the top of bench/attack-bench.ts)`);
  }
  return o;
}

const log = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const m = machineBasics();
  let pgVersion: string | null = null;
  if (o.backend === 'postgres') {
    const pg = await postgresAvailable();
    if (!pg.ok) throw new Error(`PostgreSQL does not answer at 127.0.0.1:5432: ${pg.reason}`);
    pgVersion = pg.version;
  }
  const cleanup = new Cleanup();
  // A closed pipe (`| head`) must not kill the run before its database and temp files are gone.
  process.stdout.on('error', () => {});
  const onSignal = () => void cleanup.runAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const prng = Prng.from(seededRandom(o.seed));
    const clock = new SimClock(at(-800, 0));
    const sim = new Scheduler(clock);
    const h = await openHarness(cleanup, o.backend, clock);
    log(`attack replay: ${o.patients.toLocaleString('en')} patients, ${o.days} baseline days, ${o.daily} specimens a working day, ${o.backend}${pgVersion ? ` (PostgreSQL ${pgVersion.split(' ')[0]})` : ''}`);

    // 1. History.
    let shown = 0;
    const seed = await seedVault(h.app, clock, prng, {
      patients: o.patients, backlog: Math.round(o.daily * 0.6),
      onProgress: (n) => {
        if (performance.now() - shown < 5_000) return;
        shown = performance.now();
        log(`  seeding: ${n.toLocaleString('en')} patients`);
      },
    });
    log(`  seeded ${seed.patients.length.toLocaleString('en')} patients (${seed.resources.toLocaleString('en')} resources, ${seed.canaries.length} canaries) in ${seed.seconds.toFixed(0)} s`);

    // 2. People and systems, the day before the simulated weeks.
    clock.set(at(0, 0) - HOUR);
    const lab = new Lab(seed, prng);
    const roster = await buildRoster(h, seed.tenants, o.daily);
    // Onboarding, as an operator does it: the screening organisation's connector fetches every
    // authorised result of the largest client, in batches. Its role's peers (GP and hospital
    // systems) say nothing about it, so it gets a budget of its own in labkluis.json
    // ("sentinel.principals"), applied by a restart. Nothing else differs from the defaults.
    const screening = seed.tenants.find((t) => t.kind === 'screening')!;
    await h.restart({ principals: { [roster.requesters.get(screening.id)!.principalId]: CONNECTOR_BUDGET } });
    const watch = new Watch(h, sim, roster.officer);
    const attackDay = o.days + 1;
    const plan = planAttacks({ roster });
    const w: World = {
      h, sim, lab, roster, watch, prng, attackDay, victims: plan.victims,
      touched: new Map(), unexpected: new Map(), shiftEnds: new Map(),
    };
    // Day 0 (a Monday) only places the orders for day 1; the lab works days 1..days, then the attack day.
    const endMs = at(attackDay, 8.5) + DAY + HOUR;
    const traffic = new Traffic(w, o.daily);
    traffic.start(0, dayOf(endMs), endMs);
    watch.start(at(0, 0), endMs);
    scheduleAttacks(w, plan);

    // 3. Run, a simulated day at a time.
    const simStarted = performance.now();
    const perDay: { day: number; label: string; requests: number; wallSeconds: number }[] = [];
    const requests = () => roster.all.reduce((n, c) => n + c.stats.requests, 0);
    for (let d = 0; at(d, 0) < endMs; d++) {
      const t0 = performance.now();
      const r0 = requests();
      await sim.run(Math.min(endMs, at(d + 1, 0)));
      const entry = { day: d, label: localLabel(at(d, 0)).slice(0, 14), requests: requests() - r0, wallSeconds: (performance.now() - t0) / 1000 };
      perDay.push(entry);
      await watch.poll();
      const fa = [...watch.alerts.values()].filter((x) => !watch.isAttack(x.principalId, x.createdAt, x.kind)).length;
      const fc = [...watch.containments.values()].filter((x) => !watch.isAttack(x.principalId, x.createdAt, x.reason)).length;
      const odd = [...w.unexpected].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${k} ×${n}`).join('; ');
      log(`  day ${String(d).padStart(2)} ${entry.label}${d === attackDay ? ' (attack day)' : ''}: ${entry.requests.toLocaleString('en')} requests in ${entry.wallSeconds.toFixed(1)} s; `
        + `so far ${fa} alert(s) and ${fc} containment(s) outside the attacks${odd ? `; unexpected answers so far: ${odd}` : ''}`);
    }
    const simSeconds = (performance.now() - simStarted) / 1000;
    await watch.poll();

    const outcome = evaluate(w, plan.runs);
    const results: AttackResults = {
      machine: m, backend: o.backend, postgres: pgVersion, options: o,
      timings: { seedSeconds: seed.seconds, simulationSeconds: simSeconds, totalSeconds: (performance.now() - started) / 1000, simulatedDays: perDay.length, requests: requests(), perDay },
      seed: { patients: seed.patients.length, resources: seed.resources, canaries: seed.canaries.length, tenants: seed.tenants.map((t) => ({ kind: t.kind, share: t.share })) },
      lab: { ...lab.counts },
      staff: { registrars: roster.registrars.length, analysts: roster.analysts.length, validators: roster.validators.length, requesterSystems: roster.requesters.size, instruments: roster.instruments.size },
      sentinelPolicy: h.app.sentinel.policy,
      attackDay: localLabel(at(attackDay, 0)).slice(0, 14),
      ...outcome,
      lifted: watch.lifted.length,
      unexpected: Object.fromEntries(w.unexpected),
      truncatedListings: watch.truncated,
    };
    log('');
    log(renderTable(results));
    if (o.write) {
      const here = dirname(fileURLToPath(import.meta.url));
      const day = m.date.slice(0, 10);
      const file = join(here, 'results', `${day}-attack${o.patients === 50_000 && o.backend === 'sqlite' ? '' : `-${o.patients}${o.backend === 'postgres' ? '-pg' : ''}`}.json`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
      const readme = join(here, 'README.md');
      writeFileSync(readme, renderReadmeSection(readFileSync(readme, 'utf8'), results, `results/${file.split('/').pop()}`));
      log(`wrote ${file} and the "Attack replay" section of bench/README.md`);
    }
  } finally {
    const failures = await cleanup.runAll();
    for (const f of failures) log(`cleanup: ${f}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`attack replay failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
