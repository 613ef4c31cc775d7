/**
 * From the run to figures: per attack the patients the attacker received, when the sentinel
 * contained it and when it raised an alert; for normal work the alerts and containments it
 * suffered (false alarms), and how many patients each role touched a day.
 */
import type { AlertRow, ContainmentRow } from '../../src/store/index.js';
import { dayOf } from './calendar.js';
import type { AttackRun } from './attacks.js';
import type { Client } from './client.js';
import type { World } from './world.js';

export interface AttackOutcome {
  readonly name: string;
  readonly title: string;
  readonly accounts: readonly string[];
  readonly startMs: number;
  readonly exposed: number;
  readonly perAccount: Readonly<Record<string, number>>;
  /** Time from the attack's start until the (last) account was contained; null: not contained. */
  readonly containedAfterMs: number | null;
  readonly containReasons: readonly string[];
  readonly alertAfterMs: number | null;
  readonly alertKinds: readonly string[];
  readonly requests: number;
  readonly stop: string | null;
  readonly target: string;
  readonly met: boolean;
  readonly facts: Record<string, unknown>;
}

export interface FalseSignal {
  readonly kind: string;
  readonly account: string;
  readonly role: string;
  readonly atMs: number;
  readonly day: number;
  readonly attackDay: boolean;
  /** Containments: when the officer lifted it (null: still live at the end). */
  readonly liftedAfterMs?: number | null;
  /** Containments: how long the account was locked (until lifted, or until the end of the run). */
  readonly lockedMs?: number;
}

export interface RoleDay {
  readonly group: string;
  readonly accounts: number;
  /** Distinct patients per account per day worked (days with any patient). */
  readonly days: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

const DAY_MS = 86_400_000;

export function evaluate(w: World, runs: readonly AttackRun[]): { attacks: AttackOutcome[]; falseAlarms: FalseSignal[]; falseContainments: FalseSignal[]; roles: RoleDay[] } {
  const byPrincipal = new Map(w.roster.all.map((c) => [c.principalId, c]));
  const alerts = [...w.watch.alerts.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const containments = [...w.watch.containments.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));

  const attacks = runs.map((a): AttackOutcome => {
    const ids = new Set(a.clients.map((c) => c.principalId));
    const after = <T extends { createdAt: string }>(rows: T[], pid: (r: T) => string | null, kind: (r: T) => string) =>
      rows.filter((r) => ids.has(pid(r) ?? '') && w.watch.isAttack(pid(r), r.createdAt, kind(r)));
    const cs = after(containments, (r: ContainmentRow) => r.principalId, (r) => r.reason);
    const firstPer = a.clients.map((c) => cs.find((r) => r.principalId === c.principalId) ?? null);
    const persons = a.name === 'stolen' ? [] : firstPer;
    const containedAfterMs = persons.length > 0 && persons.every((r) => r !== null)
      ? Math.max(...persons.map((r) => Date.parse(r!.createdAt))) - a.startMs : null;
    const as = after(alerts, (r: AlertRow) => r.principalId, (r) => r.kind);
    const alertAfterMs = as.length > 0 ? Date.parse(as[0]!.createdAt) - a.startMs : null;
    const perAccount = Object.fromEntries(a.clients.map((c) => [c.name, a.perClient.get(c.name)?.size ?? 0]));
    const exposed = a.exposed.size;
    const [target, met] = verdict(a, exposed, containedAfterMs);
    return {
      name: a.name, title: a.title, accounts: a.clients.map((c) => c.name), startMs: a.startMs, exposed, perAccount,
      containedAfterMs, containReasons: [...new Set(cs.map((r) => r.reason))], alertAfterMs, alertKinds: [...new Set(as.map((r) => r.kind))],
      requests: a.requests, stop: a.stop, target, met, facts: a.facts,
    };
  });

  const signal = (c: Client | undefined, kind: string, createdAt: string, extra: Partial<FalseSignal> = {}): FalseSignal => {
    const atMs = Date.parse(createdAt);
    return {
      kind, account: c?.name ?? 'unknown', role: c?.spec.role ?? 'unknown', atMs, day: dayOf(atMs), attackDay: dayOf(atMs) >= w.attackDay, ...extra,
    };
  };
  const falseAlarms = alerts.filter((r) => !w.watch.isAttack(r.principalId, r.createdAt, r.kind))
    .map((r) => signal(byPrincipal.get(r.principalId ?? ''), r.kind, r.createdAt));
  const falseContainments = containments.filter((r) => !w.watch.isAttack(r.principalId, r.createdAt, r.reason))
    .map((r) => {
      const liftedAfterMs = r.liftedAt ? Date.parse(r.liftedAt) - Date.parse(r.createdAt) : null;
      return signal(byPrincipal.get(r.principalId), r.reason, r.createdAt, { liftedAfterMs, lockedMs: liftedAfterMs ?? w.sim.now - Date.parse(r.createdAt) });
    });

  return { attacks, falseAlarms, falseContainments, roles: roleDays(w) };
}

function verdict(a: AttackRun, exposed: number, containedAfterMs: number | null): [string, boolean] {
  const contained = containedAfterMs !== null;
  switch (a.name) {
    case 'burst':
    case 'walking':
      return ['≤ 25 patients, contained', contained && exposed <= 25];
    case 'broad':
      return ['≤ 25 patients, contained (no target set; as burst)', contained && exposed <= 25];
    case 'canary': {
      const after = Number(a.facts.exposedAfterTouch ?? Infinity);
      return ['0 patients after the touch, contained', contained && after === 0];
    }
    case 'stolen':
      return ['0 patients', exposed === 0];
    default:
      return ['contained within 1 day, ≤ 500 patients', contained && containedAfterMs <= DAY_MS && exposed <= 500];
  }
}

/** Distinct patients per account-day of normal work, per group of accounts. */
function roleDays(w: World): RoleDay[] {
  const groups = new Map<string, number[]>();
  const accounts = new Map<string, Set<Client>>();
  for (const [c, days] of w.touched) {
    const group = c.spec.role === 'requester' ? c.name.replace(/-\d+-system$/, ' systems').replace('-system', ' system') : c.spec.role;
    for (const [day, set] of days) {
      if (day >= w.attackDay) continue; // the baseline weeks only
      groups.set(group, [...(groups.get(group) ?? []), set.size]);
      accounts.set(group, (accounts.get(group) ?? new Set()).add(c));
    }
  }
  return [...groups].map(([group, counts]) => {
    const s = [...counts].sort((x, y) => x - y);
    const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
    return { group, accounts: accounts.get(group)!.size, days: s.length, p50: q(0.5), p95: q(0.95), max: s[s.length - 1]! };
  });
}
