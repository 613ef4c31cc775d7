/**
 * Who works in and with the lab: people (registrars, analysts, validators, a security officer),
 * each with an account, current security training and recertification, and a workstation
 * holding its own device key; and systems (each client organisation's requester system, the
 * analysers) with API tokens bound to their keys. Made through the store and the auth code the
 * CLI and the admin API use, dated by the simulated clock.
 */
import { createPrincipal } from '../../src/auth/index.js';
import { randomId, systemRandom } from '../../src/kernel/index.js';
import type { PrincipalRow, Role } from '../../src/store/index.js';
import { Client } from './client.js';
import type { Harness } from './harness.js';
import type { Tenant } from './seed.js';

export const ANALYSERS = {
  hpv: 'analyser-hpv-01',
  naat: 'analyser-naat-01',
  sero: 'analyser-sero-01',
} as const;
export type Analyser = keyof typeof ANALYSERS;

export interface Roster {
  readonly registrars: readonly Client[];
  readonly analysts: readonly Client[];
  readonly validators: readonly Client[];
  /** One requester system per client organisation. */
  readonly requesters: ReadonlyMap<string, Client>;
  readonly instruments: ReadonlyMap<Analyser, Client>;
  readonly officer: Client;
  readonly all: readonly Client[];
}

const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) labkluis-lims-web/2.3';

/** Staff sized to the daily volume (never fewer than the attacks need as victims plus peers). */
export function staffing(daily: number): { registrars: number; analysts: number; validators: number } {
  return { registrars: Math.max(4, Math.ceil(daily / 50)), analysts: Math.max(6, Math.ceil(daily / 33)), validators: Math.max(5, Math.ceil(daily / 40)) };
}

export async function buildRoster(h: Harness, tenants: readonly Tenant[], daily: number): Promise<Roster> {
  let hosts = 0;
  const ip = () => {
    hosts += 1;
    return `10.20.${hosts >> 8}.${hosts & 255}`;
  };
  const size = staffing(daily);
  const people = async (role: Role, label: string, n: number) => {
    const out: Client[] = [];
    for (let i = 1; i <= n; i++) {
      const principalId = await addPerson(h, role, `${label}-${i}`);
      out.push(await Client.person(h, { name: `${label}-${i}`, role, principalId, ip: ip(), userAgent: BROWSER }));
    }
    return out;
  };
  const registrars = await people('registrar', 'registrar', size.registrars);
  const analysts = await people('analyst', 'analyst', size.analysts);
  const validators = await people('validator', 'validator', size.validators);
  const [officer] = await people('security-officer', 'security-officer', 1);

  const deps = { store: h.app.store, clock: h.clock, random: systemRandom };
  const requesters = new Map<string, Client>();
  let gp = 0;
  let hospital = 0;
  for (const t of tenants) {
    const name = t.kind === 'screening' ? 'screening-org-system' : t.kind === 'hospital' ? `hospital-${++hospital}-system` : `gp-${++gp}-system`;
    const p = await createPrincipal(deps, { role: 'requester', tenants: [t.id], displayName: name, kind: 'service' });
    const ua = t.kind === 'screening' ? 'screenit-connector/7.1' : t.kind === 'hospital' ? 'hix-lab-interface/6.5' : 'gp-his-lab-module/4.2';
    requesters.set(t.id, await Client.service(h, { name, role: 'requester', principalId: p.id, ip: ip(), userAgent: ua, tenant: t.id }));
  }
  const instruments = new Map<Analyser, Client>();
  for (const [kind, device] of Object.entries(ANALYSERS) as [Analyser, string][]) {
    const p = await createPrincipal(deps, { role: 'instrument', tenants: tenants.map((t) => t.id), displayName: device, instrument: device, kind: 'service' });
    instruments.set(kind, await Client.service(h, { name: device, role: 'instrument', principalId: p.id, ip: ip(), userAgent: 'lab-middleware/3.0' }));
  }
  const all = [...registrars, ...analysts, ...validators, officer!, ...requesters.values(), ...instruments.values()];
  return { registrars, analysts, validators, requesters, instruments, officer: officer!, all };
}

/** A person's account as an admin's invitation, enrolment, training record and recertification leave it. */
async function addPerson(h: Harness, role: Role, handle: string): Promise<string> {
  const now = h.clock.now();
  const at = now.toISOString();
  const row: PrincipalRow = {
    id: randomId(systemRandom), kind: 'human', role, tenants: ['*'], instrument: null, displayName: handle, disabled: false, createdAt: at,
  };
  await h.app.store.accounts.insertAccount(row, {
    principalId: row.id, username: handle, passwordHash: null, passwordChangedAt: null, totpAllowed: false, createdAt: at,
  });
  const year = new Date(now.getTime() + 365 * 86_400_000).toISOString();
  const quarter = new Date(now.getTime() + 90 * 86_400_000).toISOString();
  await h.app.store.safeguards.recordTraining({ principalId: row.id, completedAt: at, expiresAt: year, recordedBy: 'attack-bench-admin', recordedAt: at });
  await h.app.store.safeguards.recordRecertification({
    principalId: row.id, role, tenants: ['*'], certifiedBy: 'attack-bench-admin', certifiedAt: at, expiresAt: quarter,
  });
  return row.id;
}
