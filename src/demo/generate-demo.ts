/**
 * generateDemo: synthetic tenants and patient episodes for demos, tests and load runs.
 * Deterministic for a given Random (it draws one 16-byte seed), marked HTEST throughout,
 * and every bundle passes validateResource.
 */
import { base32, invalidInput, type Clock, type LabkluisError, type Random } from '../kernel/index.js';
import { AGB_SYSTEM, ORGANIZATION_KIND_SYSTEM } from '../domain/index.js';
import type { Bundle, Organization, OrganizationKind } from '../domain/index.js';
import { testMeta } from './builders.js';
import { CITIES } from './names.js';
import { Prng } from './prng.js';
import { screeningEpisode, type EpisodeContext } from './screening.js';
import { stiEpisode } from './sti.js';

export interface DemoOptions {
  readonly random: Random;
  readonly clock: Clock;
  /** Number of tenants; they cycle through a GP practice, a hospital and the screening organisation. Default 3. */
  readonly tenants?: number;
  /** Patients (one episode bundle each) per tenant. Default 10. */
  readonly patientsPerTenant?: number;
}

export interface DemoData {
  readonly organizations: Organization[];
  /** One transaction Bundle per patient episode, in tenant order; `tenantOf[i]` is the Organization id of bundles[i]. */
  readonly bundles: Bundle[];
  readonly tenantOf: string[];
}

/** Synthetic BSNs come from a space of ~90,000 valid numbers; stay well inside it. */
export const MAX_DEMO_PATIENTS = 50_000;

const KINDS: readonly { kind: OrganizationKind; name: string; display: string }[] = [
  { kind: 'gp-practice', name: 'Test-Huisartsenpraktijk De Linde', display: 'GP practice' },
  { kind: 'hospital', name: 'Test-Ziekenhuis Rijnmond', display: 'Hospital' },
  { kind: 'screening', name: 'Test-Bevolkingsonderzoek Baarmoederhalskanker', display: 'Screening organisation' },
];

/** Bad options come from a CLI user: ERR_INVALID_INPUT naming the option. */
const badOption = (option: string, diagnostics: string): LabkluisError =>
  invalidInput(`demo option ${option} ${diagnostics}`, [{ expression: option, diagnostics }]);

export function generateDemo(options: DemoOptions): DemoData {
  const { random, clock, tenants = 3, patientsPerTenant = 10 } = options;
  if (!Number.isInteger(tenants) || tenants < 1 || tenants > 100) throw badOption('tenants', 'must be a whole number from 1 to 100');
  if (!Number.isInteger(patientsPerTenant) || patientsPerTenant < 0) throw badOption('patientsPerTenant', 'must be a whole number of at least 0');
  if (tenants * patientsPerTenant > MAX_DEMO_PATIENTS) throw badOption('patientsPerTenant', `at most ${MAX_DEMO_PATIENTS} patients in total`);

  const prng = Prng.from(random);
  const nowMs = clock.now().getTime();
  const bsns = new Set<string>();
  const organizations: Organization[] = [];
  const bundles: Bundle[] = [];
  const tenantOf: string[] = [];
  let serial = 0;

  for (let i = 0; i < tenants; i++) {
    const spec = KINDS[i % KINDS.length]!;
    const round = Math.floor(i / KINDS.length);
    const id = base32(prng.bytes(16));
    organizations.push({
      resourceType: 'Organization', id, meta: testMeta(),
      // AGB codes starting 99 are synthetic here; the first two digits of a real AGB code name the kind of care provider.
      identifier: [{ system: AGB_SYSTEM, value: `99${String(prng.int(0, 999_999)).padStart(6, '0')}` }],
      active: true,
      type: [{ coding: [{ system: ORGANIZATION_KIND_SYSTEM, code: spec.kind, display: spec.display }] }],
      name: round === 0 ? spec.name : `${spec.name} ${round + 1}`,
      address: [{ city: prng.pick(CITIES), country: 'NL' }],
    });
    for (let p = 0; p < patientsPerTenant; p++) {
      const ctx: EpisodeContext = { prng, nowMs, requester: `Organization/${id}`, bsns, serial: serial++ };
      bundles.push(spec.kind === 'screening' ? screeningEpisode(ctx) : stiEpisode(ctx, spec.kind === 'hospital' ? 0.4 : 0.2));
      tenantOf.push(id);
    }
  }
  return { organizations, bundles, tenantOf };
}
