import { describe, expect, it } from 'vitest';
import { generateDemo, seededRandom } from '../../src/demo/index.js';
import {
  BSN_SYSTEM, HTEST, isValidBsn, listReferences, validateResource,
  type Bundle, type DiagnosticReport, type Observation, type Patient,
} from '../../src/domain/index.js';
import { isLabkluisError, ManualClock } from '../../src/kernel/index.js';

const clock = new ManualClock('2026-01-15T10:00:00Z');
const isTest = (r: { meta?: { security?: { system?: string; code?: string }[] } }) =>
  r.meta?.security?.some((s) => s.system === HTEST.system && s.code === HTEST.code) === true;
const resources = (b: Bundle) => (b.entry ?? []).map((e) => e.resource!);

describe('generateDemo', () => {
  const demo = generateDemo({ random: seededRandom('demo'), clock, patientsPerTenant: 150 });

  it('makes a GP practice, a hospital and a screening organisation by default', () => {
    expect(demo.organizations.map((o) => o.type?.[0]?.coding?.[0]?.code)).toEqual(['gp-practice', 'hospital', 'screening']);
    expect(demo.bundles).toHaveLength(450);
    expect(demo.tenantOf).toHaveLength(450);
  });

  it('produces only resources that pass validateResource', () => {
    for (const org of demo.organizations) expect(() => validateResource(org, { clock })).not.toThrow();
    for (const bundle of demo.bundles) validateResource(bundle, { clock }); // throws with issues if not
  });

  it('marks every resource HTEST and every family name Test-', () => {
    for (const org of demo.organizations) expect(isTest(org)).toBe(true);
    for (const bundle of demo.bundles) {
      expect(isTest(bundle)).toBe(true);
      for (const r of resources(bundle)) {
        expect(isTest(r as never)).toBe(true);
        if (r.resourceType === 'Patient') expect((r as Patient).name?.[0]?.family).toMatch(/^Test-/);
      }
    }
  });

  it('gives each patient a distinct, valid synthetic BSN', () => {
    const bsns = demo.bundles.map((b) => (resources(b)[0] as Patient).identifier?.find((i) => i.system === BSN_SYSTEM)?.value ?? '');
    expect(bsns.every(isValidBsn)).toBe(true);
    expect(new Set(bsns).size).toBe(bsns.length);
  });

  it('links entries only by urn:uuid inside the bundle, and requesters by Organization id', () => {
    const orgs = new Set(demo.organizations.map((o) => `Organization/${o.id}`));
    for (const bundle of demo.bundles) {
      const urls = new Set(bundle.entry!.map((e) => e.fullUrl));
      for (const ref of bundle.entry!.flatMap((e) => listReferences(e.resource))) {
        const ok = urls.has(ref.reference) || orgs.has(ref.reference) || ref.reference.startsWith('Device/');
        expect(ok, ref.reference).toBe(true);
      }
    }
  });

  it('follows the screening algorithm: cytology only after a positive hrHPV, and advice to match', () => {
    const screening = demo.bundles.filter((_, i) => demo.tenantOf[i] === demo.organizations[2]!.id);
    let positives = 0;
    for (const bundle of screening) {
      const obs = resources(bundle).filter((r): r is Observation => r.resourceType === 'Observation');
      const hpv = obs.find((o) => o.code.coding?.[0]?.code === '77379-6')!.valueCodeableConcept?.coding?.[0]?.code;
      const hasCytology = obs.some((o) => o.code.coding?.[0]?.code === '10524-7');
      expect(hasCytology).toBe(hpv === '10828004');
      if (hasCytology) positives++;
      const report = resources(bundle).find((r): r is DiagnosticReport => r.resourceType === 'DiagnosticReport')!;
      expect(report.conclusion).toMatch(/SYNTHETISCHE TESTDATA/);
      if (hpv === '260385009') expect(report.conclusionCode?.[0]?.coding?.[0]?.code).toBe('routine-recall');
    }
    expect(positives).toBeGreaterThan(0);
  });

  it('is deterministic for a given Random and differs for another', () => {
    const again = generateDemo({ random: seededRandom('demo'), clock, patientsPerTenant: 150 });
    expect(again).toEqual(demo);
    const other = generateDemo({ random: seededRandom('other'), clock, patientsPerTenant: 150 });
    expect(other.bundles[0]).not.toEqual(demo.bundles[0]);
  });

  it('cycles tenant kinds for more than three tenants', () => {
    const d = generateDemo({ random: seededRandom('t'), clock, tenants: 5, patientsPerTenant: 1 });
    expect(d.organizations.map((o) => o.name)).toEqual([
      'Test-Huisartsenpraktijk De Linde', 'Test-Ziekenhuis Rijnmond', 'Test-Bevolkingsonderzoek Baarmoederhalskanker',
      'Test-Huisartsenpraktijk De Linde 2', 'Test-Ziekenhuis Rijnmond 2',
    ]);
  });

  it('refuses bad options with ERR_INVALID_INPUT naming the option', () => {
    for (const [opts, name] of [[{ tenants: 0 }, 'tenants'], [{ patientsPerTenant: -1 }, 'patientsPerTenant'], [{ patientsPerTenant: 1.5 }, 'patientsPerTenant'], [{ tenants: 3, patientsPerTenant: 20_000 }, 'patientsPerTenant']] as const) {
      try {
        generateDemo({ random: seededRandom('x'), clock, ...opts });
        expect.unreachable();
      } catch (e) {
        expect(isLabkluisError(e, 'ERR_INVALID_INPUT')).toBe(true);
        expect((e as { issues: { expression: string }[] }).issues[0]!.expression).toBe(name);
      }
    }
  });

  // Speed is measured by `npm run bench`, not asserted here (a shared machine makes timed tests flaky).
  it('generates 10,000 patients with distinct BSNs', () => {
    const big = generateDemo({ random: seededRandom('big'), clock, tenants: 4, patientsPerTenant: 2500 });
    expect(big.bundles).toHaveLength(10_000);
    const bsns = new Set(big.bundles.map((b) => JSON.stringify((b.entry![0]!.resource as { identifier: unknown[] }).identifier[0])));
    expect(bsns.size).toBe(10_000);
  });
});
