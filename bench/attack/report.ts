/**
 * The attack replay's output: a table for the terminal and the "Attack replay" section of
 * bench/README.md (this file writes that section only, from its heading to the next one, and
 * leaves the rest of the file as it is).
 */
import { durationLabel } from './calendar.js';
import type { AttackOutcome, FalseSignal, RoleDay } from './evaluate.js';
import type { MachineBasics } from '../lib/machine.js';

export interface AttackResults {
  readonly machine: MachineBasics;
  readonly backend: 'sqlite' | 'postgres';
  readonly postgres: string | null;
  readonly options: { patients: number; days: number; daily: number; seed: string };
  readonly timings: {
    seedSeconds: number; simulationSeconds: number; totalSeconds: number; simulatedDays: number; requests: number;
    perDay: readonly { day: number; label: string; requests: number; wallSeconds: number }[];
  };
  readonly seed: { patients: number; resources: number; canaries: number; tenants: readonly { kind: string; share: number }[] };
  readonly lab: Record<string, number>;
  readonly staff: Record<string, number>;
  readonly sentinelPolicy: unknown;
  readonly attackDay: string;
  readonly attacks: readonly AttackOutcome[];
  readonly falseAlarms: readonly FalseSignal[];
  readonly falseContainments: readonly FalseSignal[];
  readonly roles: readonly RoleDay[];
  readonly lifted: number;
  readonly unexpected: Record<string, number>;
  readonly truncatedListings: boolean;
}

const HEADING = '## Attack replay';
const mark = (ok: boolean) => (ok ? '✓' : '✗');
const after = (ms: number | null, none: string) => (ms === null ? none : durationLabel(ms));

function attackRows(r: AttackResults): string[][] {
  return r.attacks.map((a) => [
    a.title,
    a.accounts.join(', '),
    a.name === 'canary' ? `${a.exposed} (${a.facts.exposedAfterTouch ?? '?'} after the touch)` : String(a.exposed),
    a.name === 'stolen' ? stolenSummary(a) : after(a.containedAfterMs, 'not contained'),
    a.alertAfterMs === null ? 'none' : `${durationLabel(a.alertAfterMs)} (${a.alertKinds.join(', ')})`,
    a.target,
    mark(a.met),
  ]);
}

function stolenSummary(a: AttackOutcome): string {
  const v = (a.facts.variants ?? []) as { variant: string; status: number }[];
  const statuses = [...new Set(v.map((x) => x.status))].join('/');
  return `every use refused (${statuses}); session and API token ended at first use${a.facts.apiTokenRevoked ? '' : ' (API token NOT revoked)'}`;
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((x) => `| ${x.join(' | ')} |`)].join('\n');
}

const ATTACK_HEAD = ['attack', 'account(s)', 'patients exposed', 'time to containment', 'first alert after', 'target', ''];

export function renderTable(r: AttackResults): string {
  const lines: string[] = [];
  lines.push(`Attack day ${r.attackDay} (after ${r.options.days} baseline days), ${r.seed.patients.toLocaleString('en')} patients, ${r.backend}`);
  lines.push(table(ATTACK_HEAD, attackRows(r)));
  for (const a of r.attacks) lines.push(`  ${a.name}: ${a.requests} requests, stopped: ${a.stop ?? '?'}; containment reasons: ${a.containReasons.join(', ') || 'none'}; per account: ${Object.entries(a.perAccount).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  lines.push('');
  lines.push(normalSummary(r));
  if (r.falseContainments.length > 0) {
    lines.push(byDay(r));
    for (const row of perAccount(r.falseContainments)) lines.push(`  ${row[0]}: ${row[1]} containment(s) on ${row[2]} day(s) (${row[3]}), ${row[4]} h locked`);
  }
  lines.push(`baseline patients per account-day: ${r.roles.map((x) => `${x.group} median ${x.p50}, p95 ${x.p95}, max ${x.max}`).join('; ')}`);
  const unexpected = Object.entries(r.unexpected);
  if (unexpected.length > 0) lines.push(`unexpected answers to normal work: ${unexpected.map(([k, n]) => `${k} ×${n}`).join('; ')}`);
  lines.push(`wall time: seed ${r.timings.seedSeconds.toFixed(0)} s, simulation ${r.timings.simulationSeconds.toFixed(0)} s (${r.timings.requests.toLocaleString('en')} requests over ${r.timings.simulatedDays} simulated days), total ${r.timings.totalSeconds.toFixed(0)} s`);
  return lines.join('\n');
}

/** False containments per account: how often, on how many days, why, and how long the account was locked. */
function perAccount(fc: readonly FalseSignal[]): string[][] {
  const m = new Map<string, FalseSignal[]>();
  for (const x of fc) m.set(x.account, [...(m.get(x.account) ?? []), x]);
  return [...m].sort((a, b) => b[1].length - a[1].length).map(([account, xs]) => {
    const reasons = new Map<string, number>();
    for (const x of xs) reasons.set(x.kind, (reasons.get(x.kind) ?? 0) + 1);
    return [
      account, String(xs.length), String(new Set(xs.map((x) => x.day)).size),
      [...reasons].map(([k, n]) => `${k} ×${n}`).join(', '),
      (xs.reduce((s, x) => s + (x.lockedMs ?? 0), 0) / 3_600_000).toFixed(1),
    ];
  });
}

function byDay(r: AttackResults): string {
  const m = new Map<number, number>();
  for (const x of r.falseContainments) m.set(x.day, (m.get(x.day) ?? 0) + 1);
  return `False containments by day (day 1 is the first working day; baselines need 5 days of the account's own history, or 10 account-days of its role's): ${
    r.timings.perDay.map((d) => `${d.label.slice(0, 3)} ${d.day}: ${m.get(d.day) ?? 0}`).join(', ')}.`;
}

function normalSummary(r: AttackResults): string {
  const fc = r.falseContainments;
  const fa = r.falseAlarms;
  const byKind = (xs: readonly FalseSignal[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(`${x.role} ${x.kind}`, (m.get(`${x.role} ${x.kind}`) ?? 0) + 1);
    return [...m].map(([k, n]) => `${n}× ${k}`).join(', ') || 'none';
  };
  const accounts = new Set(fc.map((x) => x.account)).size;
  const accountDays = new Set(fc.map((x) => `${x.account}@${x.day}`)).size;
  // Every containment raises an alert; only alerts beyond those are listed again.
  const extra = fa.filter((x) => !fc.some((c) => c.account === x.account && c.atMs === x.atMs && x.kind === `sentinel:${c.kind}`));
  return `normal traffic: ${fc.length} false containment(s) ${mark(fc.length === 0)} of ${accounts} account(s) on ${accountDays} account-day(s) (baseline weeks ${fc.filter((x) => !x.attackDay).length}, attack day ${fc.filter((x) => x.attackDay).length}: ${byKind(fc)}); `
    + `${fa.length} false alarm(s): ${extra.length === 0 ? 'the containments\' alerts, no others' : `the containments' and ${extra.length} more (${byKind(extra)})`}`;
}

/** Hand-written notes inside the section (findings of a run) survive regeneration between these markers. */
const NOTES_START = '<!-- attack:notes:start (hand-written; kept when the section is regenerated) -->';
const NOTES_END = '<!-- attack:notes:end -->';

export function renderReadmeSection(existing: string, r: AttackResults, resultsFile: string): string {
  const start = existing.indexOf(`\n${HEADING}\n`);
  if (start < 0) return `${existing.replace(/\n*$/, '\n')}\n${renderSection(r, resultsFile, null)}`;
  const rest = existing.slice(start + 1 + HEADING.length);
  const next = rest.search(/\n## /);
  const old = next < 0 ? rest : rest.slice(0, next);
  const a = old.indexOf('<!-- attack:notes:start');
  const b = old.indexOf(NOTES_END);
  const notes = a >= 0 && b > a ? old.slice(old.indexOf('\n', a) + 1, b).trim() : null;
  const tail = next < 0 ? '' : rest.slice(next);
  return `${existing.slice(0, start + 1)}${renderSection(r, resultsFile, notes)}${tail}`;
}

function renderSection(r: AttackResults, resultsFile: string, notes: string | null): string {
  const m = r.machine;
  const o: string[] = [HEADING, ''];
  o.push(`\`npm run bench:attack\` (issue 4, deliverable 5): ${r.seed.patients.toLocaleString('en')} synthetic patients, ${r.options.days} baseline days of normal `
    + `work and an attack day (${r.attackDay}), in simulated time; the sentinel runs with the app's defaults, as in production. `
    + `Run of ${m.date.slice(0, 16).replace('T', ' ')} UTC on ${r.backend === 'postgres' ? `PostgreSQL ${r.postgres ?? ''}` : `SQLite ${m.sqliteVersion}`}: `
    + `\`nproc\` = ${m.nproc}, ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, load ${m.loadAvgAtStart.join(' / ')} at the start. `
    + `Wall time: seed ${r.timings.seedSeconds.toFixed(0)} s, simulation ${r.timings.simulationSeconds.toFixed(0)} s (${r.timings.requests.toLocaleString('en')} requests), `
    + `total ${r.timings.totalSeconds.toFixed(0)} s. Raw figures: [\`${resultsFile}\`](${resultsFile}).`);
  o.push('');
  o.push(table(ATTACK_HEAD, attackRows(r)));
  o.push('');
  o.push(`**Normal traffic** (target: no false containment): ${normalSummary(r).replace(/^normal traffic: /, '')}. The security officer lifted ${r.lifted}.`);
  if (r.falseContainments.length > 0) {
    o.push('');
    o.push(byDay(r));
    o.push('');
    o.push(table(['account', 'containments', 'on days', 'reasons', 'hours locked (until lifted)'], perAccount(r.falseContainments)));
  }
  if (notes) o.push('', NOTES_START, '', notes, '', NOTES_END);
  o.push('');
  o.push('Distinct patients per account per working day in the baseline weeks (from the responses):');
  o.push('');
  o.push(table(['accounts', 'n', 'account-days', 'median', 'p95', 'max'], r.roles.map((x) => [x.group, String(x.accounts), String(x.days), String(x.p50), String(x.p95), String(x.max)])));
  const unexpected = Object.entries(r.unexpected);
  if (unexpected.length > 0) {
    o.push('');
    o.push(`Unexpected answers to normal work: ${unexpected.map(([k, n]) => `${k} ×${n}`).join('; ')}.`);
  }
  o.push('');
  o.push(...assumptions(r));
  o.push('');
  return o.join('\n');
}

/** The model behind the figures, kept next to them. */
const assumptions = (r: AttackResults): string[] => [
  '### How the replay works, and what it assumes',
  '',
  '- **The vault.** Built through `createApp` as in production (temp data directory, keyring beside it, SQLite or a fresh',
  '  PostgreSQL database), the sentinel on its **defaults** but for one setting an operator makes when onboarding a bulk',
  '  integration: the screening organisation\'s connector gets its own budget (`principals`: 60 patients in 10 minutes,',
  '  150 an hour, 400 a day; labkluis.json `sentinel`, applied by a restart before the first working day). Requests go',
  '  through Fastify `inject` with a DPoP proof per request.',
  '  The clock is injected and simulated: a discrete-event scheduler runs one actor at a time at its simulated moment, so two',
  '  weeks take minutes. Times below are local (CET); the store keeps UTC.',
  '- **History.** The demo builders (`src/demo`: every record `HTEST`, names `Test-…`, synthetic BSNs), one episode per',
  '  patient, written with `vault.transactions` as the local importer in time order with the clock moved along, so every',
  '  record was last changed about when its episode happened (the builders spread episodes over two years). Tenants: one',
  '  screening organisation (50% of patients and work), two hospitals (12.5% each), twelve GP practices (25% together).',
  '  Barcodes are one lab-wide sequence (`T100000000`, …) in collection order, continued by live registrations. One patient',
  '  in 1,000 (at least 3) is marked a canary with `store.sentinel.addCanaries`, among episodes older than 90 days',
  '  (TODO: the `Canaries` service once it lands).',
  `- **A lab doing ${r.options.daily} specimens a working day** (\`--daily\`): Monday ×1.15, Friday ×0.85, Saturday a hospital-post morning`,
  '  (×0.15), Sunday closed, ±15% from day to day. Orders are placed by the client\'s system the working day before',
  '  (hospitals any day 07–22 h, GP practices and the screening programme weekdays 08–17 h); returning patients',
  '  (screening 10%, STI 25%) are looked up by BSN and their earlier reports shown first. Couriers at 08:45, 11:30, 14:30',
  '  (hospitals also 17:30). Analysers: hrHPV runs at 11:00, 14:00, 16:30 (3 h), NAAT 10:30, 13:30, 16:00 (3.5 h),',
  '  serology 12:00, 15:30 (1.5 h); the middleware posts each result (an instrument principal, which reads nothing).',
  '- **People** (signed in with a device-bound session; 5-minute access tokens refreshed, a new sign-in after 15 minutes',
  `  idle; sign-in itself is \`sessions.open\`, not the WebAuthn ceremony): ${r.staff.registrars} registrars, ${r.staff.analysts} analysts, ${r.staff.validators} validators, each off`,
  '  one weekday (part-time), shifts 07:30–16:00 or 08:30–17:00 with ±20 min, 30–45 min lunch between 12:00 and 13:30; one',
  '  registrar a day on the late shift (11:30–20:00, the evening courier), one analyst until 18:30, a validator now and',
  '  then (8% of days) an hour of authorising from home after 19:30; Saturday one of each 08:00–13:00.',
  '  - registrar, per specimen: `Patient?identifier=<BSN>` from the form, `ServiceRequest?subject=…&status=active`, label,',
  '    `POST Specimen` (≈ 1–2.5 min each, from a shared intake queue);',
  '  - analyst, one analyser run at a time in barcode order: `Specimen?identifier=<barcode>`, `Observation?specimen=…`,',
  '    the history (`DiagnosticReport?subject=`) when something is positive, then the preliminary report (40–90 s a',
  '    negative, 2–4 min otherwise); hrHPV-positive smears go to cytology the next working day (6–10 min each);',
  '  - validator, one client\'s worklist at a time: `DiagnosticReport?status=preliminary&_count=10`, per report its',
  '    results (and the history when abnormal), then `PUT … final` (25–60 s a negative report, 2–4 min otherwise).',
  '- **Systems** (API tokens bound to their keys): each client\'s requester system fetches every authorised report and its',
  '  results when told (GP practices 2–30 min later, hospitals 1–10 min); the screening organisation\'s connector collects',
  '  everything authorised every 15 minutes, 07:00–19:00, Monday to Saturday.',
  '- **Containment of normal work** is a false containment. The security officer reviews in office hours (weekdays',
  '  08:00–17:00), at the earliest 30 minutes after it, and lifts it through the API with a fresh step-up; the person',
  '  signs in again and goes on. Containments of attacked accounts are never lifted.',
  '- **Attacks** (attack day, while normal work goes on; victims are ordinary staff with two weeks of history and work',
  '  that day too): malware on the victim\'s PC uses the victim\'s own session and device key, so every proof is valid.',
  '  Burst (09:30, validator-1): the reports list a page of 20 at a time (the UI\'s page size), and every result and',
  '  patient on it, as fast as the server answers. Walking (10:15, analyst-2): `Specimen?identifier=` down the barcode',
  '  sequence from the newest, with each hit\'s results. Broad (11:00, validator-2): unfiltered, status and date searches',
  '  paged through in turn. Canary (11:45, registrar-3): a list of 16 BSNs looked up one by one, the sixth a canary.',
  '  Stolen token (14:00): registrar-4\'s access token and then refresh token, and GP practice 1\'s API token, each used',
  '  from another machine with the thief\'s own DPoP key. Slow drip (analyst-1) and distributed (analyst-3, analyst-4,',
  '  validator-3, over separate clients\' records): from 08:30 to 17:30, one report and its results at a time, at 80% of',
  '  the rate the hard windows of the app\'s policy allow over those hours (room for the victim\'s own work), and, when the',
  '  policy has an archive rule, only records younger than it (`date=ge…`); they read the policy as configured, but cannot',
  '  know baselines or other signals. Exposure is counted from the attacker\'s own 2xx responses: distinct patients whose',
  '  data it received. Time to containment runs from the attack\'s start to the containment record. For the stolen token',
  '  only theft signals count as the attack\'s; other alerts of its victims that afternoon are counted as false ones.',
  '- **Counting false alarms.** Every alert and containment the vault records (store listings, polled every 30 minutes',
  '  and at the end of each day) that is not an attack\'s. A containment that the officer lifts and the same account\'s',
  '  next request causes again counts again: that is the officer\'s afternoon. "Hours locked" runs until the lift, nights',
  '  and weekends included.',
];
