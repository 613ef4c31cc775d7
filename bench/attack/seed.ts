/**
 * The tenant's history: synthetic patients (src/demo builders, every record HTEST-labelled,
 * family names 'Test-…', BSNs from the synthetic range), one episode each, written through the
 * vault's bulk path (app.vault.transactions with the local importer, as `labkluis import`
 * does). The clock is moved through the past while writing, so each record's last change is
 * about when its episode happened (within a week): what an archive of two years looks like.
 *
 * Tenants: one screening organisation (half the patients), two hospitals (an eighth each) and
 * twelve GP practices (the rest). Specimen barcodes follow one lab-wide sequence in order of
 * collection, as pre-printed label rolls do; live traffic continues the sequence.
 */
import { localImporter } from '../../src/auth/index.js';
import { AGB_SYSTEM, ORGANIZATION_KIND_SYSTEM, type Bundle, type FhirResource, type Organization } from '../../src/domain/index.js';
import { base32 } from '../../src/kernel/index.js';
import { testMeta } from '../../src/demo/builders.js';
import { Prng } from '../../src/demo/prng.js';
import { screeningEpisode } from '../../src/demo/screening.js';
import { stiEpisode } from '../../src/demo/sti.js';
import type { App } from '../../src/app.js';
import { DAY, DAY0_UTC_MS } from './calendar.js';
import type { SimClock } from './sim.js';

export type TenantKind = 'screening' | 'hospital' | 'gp-practice';

export interface Tenant {
  readonly id: string;
  readonly kind: TenantKind;
  readonly name: string;
  /** Share of the lab's patients and of its daily work. */
  readonly share: number;
}

export interface SeededPatient {
  readonly tenant: string;
  readonly pseudonym: string;
  readonly bsn: string;
  readonly work: 'screening' | 'sti';
  readonly gender: 'female' | 'male';
  /** When the episode's report was issued (ms). */
  readonly issuedMs: number;
  canary: boolean;
}

export interface Seed {
  readonly tenants: readonly Tenant[];
  readonly patients: readonly SeededPatient[];
  /** Non-canary patients per tenant (returning patients are drawn from these). */
  readonly byTenant: ReadonlyMap<string, readonly SeededPatient[]>;
  readonly canaries: readonly SeededPatient[];
  /** Every BSN in use (new patients get others). */
  readonly bsns: Set<string>;
  /** The next free number of the barcode sequence. */
  nextBarcode: number;
  /** Preliminary reports waiting for a validator at the start (per tenant). */
  readonly backlog: ReadonlyMap<string, number>;
  readonly resources: number;
  readonly seconds: number;
}

export const BARCODE_BASE = 100_000_000;
/** 'T' marks synthetic labels (as the demo's do), then the lab's running number. */
export const barcodeOf = (n: number): string => `T${n}`;

const GP_PRACTICES = 12;
const ARCHIVE_DAYS = 90;
const SEED_WINDOW = 7 * DAY;

export function tenantPlan(prng: Prng): Tenant[] {
  const org = (kind: TenantKind, name: string, share: number): Tenant => ({ id: base32(prng.bytes(16)), kind, name, share });
  return [
    org('screening', 'Test-Bevolkingsonderzoek Baarmoederhalskanker Regio West', 0.5),
    org('hospital', 'Test-Ziekenhuis Rijnmond', 0.125),
    org('hospital', 'Test-Ziekenhuis Haaglanden', 0.125),
    ...Array.from({ length: GP_PRACTICES }, (_, i) => org('gp-practice', `Test-Huisartsenpraktijk ${i + 1}`, 0.25 / GP_PRACTICES)),
  ];
}

function organization(t: Tenant, prng: Prng): Organization {
  return {
    resourceType: 'Organization', id: t.id, meta: testMeta(), active: true,
    // AGB codes starting 99 are synthetic here (as in the demo).
    identifier: [{ system: AGB_SYSTEM, value: `99${String(prng.int(0, 999_999)).padStart(6, '0')}` }],
    type: [{ coding: [{ system: ORGANIZATION_KIND_SYSTEM, code: t.kind }] }],
    name: t.name,
  } as Organization;
}

interface Draft {
  readonly tenant: Tenant;
  readonly bundle: Bundle;
  readonly collectedMs: number;
  readonly issuedMs: number;
  readonly bsn: string;
  readonly gender: 'female' | 'male';
}

/**
 * Builds and writes the history. `backlog` episodes (the newest) stay preliminary: the
 * validators' work at the start. `onProgress` hears the number of patients written so far.
 */
export async function seedVault(
  app: App, clock: SimClock, prng: Prng,
  options: { patients: number; backlog: number; onProgress?: (done: number) => void },
): Promise<Seed> {
  const started = performance.now();
  const tenants = tenantPlan(prng);
  const nowMs = DAY0_UTC_MS - 2 * 3_600_000;
  const bsns = new Set<string>();
  const drafts: Draft[] = [];
  let serial = 0;
  for (const t of tenants) {
    const n = Math.round(options.patients * t.share);
    for (let i = 0; i < n; i++) {
      const ctx = { prng, nowMs, requester: `Organization/${t.id}`, bsns, serial: serial++ };
      const bundle = t.kind === 'screening' ? screeningEpisode(ctx) : stiEpisode(ctx, t.kind === 'hospital' ? 0.4 : 0.2);
      const res = resources(bundle);
      const specimen = res.find((r) => r.resourceType === 'Specimen') as { collection: { collectedDateTime: string } };
      const report = res.find((r) => r.resourceType === 'DiagnosticReport') as { issued: string };
      const patient = res[0] as { identifier: { value: string }[]; gender: 'female' | 'male' };
      drafts.push({ tenant: t, bundle, collectedMs: Date.parse(specimen.collection.collectedDateTime), issuedMs: Date.parse(report.issued), bsn: patient.identifier[0]!.value, gender: patient.gender });
    }
  }
  // One label roll: barcodes in order of collection. Statuses: authorised, except the newest few.
  drafts.sort((a, b) => a.collectedMs - b.collectedMs);
  let nextBarcode = BARCODE_BASE;
  drafts.forEach((d, i) => {
    const preliminary = i >= drafts.length - options.backlog;
    for (const r of resources(d.bundle) as { resourceType: string; status?: string; identifier?: { value: string }[] }[]) {
      if (r.resourceType === 'Specimen') r.identifier![0]!.value = barcodeOf(nextBarcode++);
      if (r.resourceType === 'Observation') r.status = 'final';
      if (r.resourceType === 'DiagnosticReport') r.status = preliminary ? 'preliminary' : 'final';
    }
  });

  // The lab's clients exist before their first episode.
  clock.set(Math.min(...drafts.map((d) => d.issuedMs)) - DAY);
  const importer = localImporter('attack-bench');
  const facts = { ip: 'local', userAgent: 'labkluis-attack-bench' };
  for (const t of tenants) await app.vault.createTenant(importer, facts, organization(t, prng), 'client');
  const contexts = new Map(tenants.map((t) => [t.id, app.vault.context(importer, { tenant: t.id, ...facts })]));

  // Written in time order, a week at a time (each week per tenant in grouped commits), with the
  // clock at the week's last report: records carry roughly their episode's date.
  const byIssue = [...drafts].sort((a, b) => a.issuedMs - b.issuedMs);
  const patients: SeededPatient[] = [];
  let resourceCount = 0;
  for (let from = 0; from < byIssue.length;) {
    let to = from;
    const windowEnd = byIssue[from]!.issuedMs + SEED_WINDOW;
    while (to < byIssue.length && byIssue[to]!.issuedMs < windowEnd) to++;
    const week = byIssue.slice(from, to);
    clock.set(week[week.length - 1]!.issuedMs);
    for (const t of tenants) {
      const mine = week.filter((d) => d.tenant === t);
      for (let at = 0; at < mine.length; at += 64) {
        const part = mine.slice(at, at + 64);
        const outcome = await app.vault.transactions(contexts.get(t.id)!, part.map((d) => d.bundle));
        if (outcome.refused) throw outcome.refused.error;
        outcome.responses.forEach((response, j) => {
          const d = part[j]!;
          const location = response.entry?.[0]?.response?.location ?? '';
          const pseudonym = /^Patient\/([^/]+)/.exec(location)?.[1];
          if (!pseudonym) throw new Error('the seed could not read a patient id from a transaction response');
          const work = d.tenant.kind === 'screening' ? 'screening' : 'sti';
          patients.push({ tenant: t.id, pseudonym, bsn: d.bsn, work, gender: d.gender, issuedMs: d.issuedMs, canary: false });
          resourceCount += d.bundle.entry?.length ?? 0;
        });
      }
    }
    from = to;
    options.onProgress?.(patients.length);
  }

  // TODO(canaries): switch to the Canaries service once it lands (src/sentinel/canaries.ts);
  // until then a few seeded patients with old episodes are marked in the store directly.
  const old = patients.filter((p) => p.issuedMs < nowMs - ARCHIVE_DAYS * DAY);
  const wanted = Math.max(3, Math.round(options.patients / 1_000));
  const canaries: SeededPatient[] = [];
  while (canaries.length < Math.min(wanted, old.length)) {
    const p = old[prng.int(0, old.length - 1)]!;
    if (!p.canary) {
      p.canary = true;
      canaries.push(p);
    }
  }
  await app.store.sentinel.addCanaries(canaries.map((p) => ({ tenant: p.tenant, pseudonym: p.pseudonym, createdAt: clock.now().toISOString(), createdBy: 'attack-bench' })));

  const byTenant = new Map<string, SeededPatient[]>(tenants.map((t) => [t.id, []]));
  for (const p of patients) if (!p.canary) byTenant.get(p.tenant)!.push(p);
  const backlog = new Map<string, number>();
  for (const d of drafts.slice(drafts.length - options.backlog)) backlog.set(d.tenant.id, (backlog.get(d.tenant.id) ?? 0) + 1);
  return {
    tenants, patients, byTenant, canaries, bsns, nextBarcode, backlog, resources: resourceCount,
    seconds: (performance.now() - started) / 1000,
  };
}

function resources(bundle: Bundle): FhirResource[] {
  return (bundle.entry ?? []).map((e) => e.resource as FhirResource);
}
