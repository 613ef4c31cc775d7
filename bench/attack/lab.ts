/**
 * The lab's live work during the simulated weeks: episodes that are ordered, arrive, are
 * registered, analysed, reviewed, authorised and fetched, and the queues between those steps.
 * The resources are made with the demo's builders (HTEST-labelled, synthetic people) so that
 * live records look like the seeded history.
 */
import { ADVICE, INTERPRETATION_SYSTEM, KOPAC_B_COMPONENT, KOPAC_B_SYSTEM, SPECIMEN_TYPES, papCode, syntheticBsn } from '../../src/domain/index.js';
import type { Code, FhirResource, PapClass, Qualitative } from '../../src/domain/index.js';
import { concept, instantAt, observationBase, patient, qualitativeObservation, report, serviceRequest, specimen, type Timeline } from '../../src/demo/builders.js';
import type { Prng } from '../../src/demo/prng.js';
import { CT, CYTOLOGY, GENOTYPES, HIV, HRHPV, NG, PAP_WEIGHTS, STI_POSITIVE, SYPHILIS, TV } from '../../src/demo/test-codes.js';
import { barcodeOf, type Seed, type SeededPatient, type Tenant } from './seed.js';
import type { Analyser } from './staff.js';


/** Share of episodes for someone already in the vault (screening: 6-month repeats; STI: retests). */
const RETURNING = { screening: 0.1, sti: 0.25 } as const;

export interface LiveEpisode {
  readonly n: number;
  readonly tenant: Tenant;
  readonly work: 'screening' | 'sti';
  readonly returning: SeededPatient | null;
  readonly bsn: string;
  readonly gender: 'female' | 'male';
  /** LOINC codes ordered, one order each. */
  readonly tests: readonly string[];
  readonly analyser: Analyser;
  readonly specimenType: Code;
  /** Instrument results, decided up front (same rates as the demo). */
  readonly outcomes: readonly Qualitative[];
  /** Screening, hrHPV positive: genotypes from the analyser, then cytology by an analyst. */
  readonly pap: PapClass | null;
  readonly orderDay: number;
  readonly arrivalDay: number;
  arrivalMs: number;
  pseudonym: string | null;
  orderIds: string[];
  barcode: string | null;
  specimenId: string | null;
  resultIds: string[];
}

/** A report a validator authorised: the requester system is told and fetches it. */
export interface Authorised {
  readonly tenant: string;
  readonly reportId: string;
  readonly results: readonly string[];
  readonly atMs: number;
}

export class Lab {
  readonly seed: Seed;
  readonly #prng: Prng;
  #n = 0;
  #serial = 1_000_000;
  /** Registrar work: arrived specimens, in arrival order. */
  readonly arrivals: LiveEpisode[] = [];
  /** Registered, waiting for the next run of their analyser. */
  readonly awaitingRun = new Map<Analyser, LiveEpisode[]>([['hpv', []], ['naat', []], ['sero', []]]);
  /** Runs whose results are in: analyst review, one run per analyst, in barcode order. */
  readonly review: LiveEpisode[][] = [];
  /** hrHPV positive smears for cytology (from `readyMs`). */
  readonly cytology: { episode: LiveEpisode; readyMs: number }[] = [];
  /** Preliminary reports per tenant (the validators' worklists). */
  readonly pending = new Map<string, number>();
  /** Tenants a validator is working on now (one validator per worklist). */
  readonly claimed = new Set<string>();
  readonly counts = { ordered: 0, registered: 0, resulted: 0, reported: 0, authorised: 0, fetched: 0, newPatients: 0 };

  constructor(seed: Seed, prng: Prng) {
    this.seed = seed;
    this.#prng = prng;
    for (const [tenant, n] of seed.backlog) this.pending.set(tenant, n);
  }

  nextBarcode(): string {
    return barcodeOf(this.seed.nextBarcode++);
  }

  /** A new episode for `tenant`: who, which tests and (already) what the analyser will find. */
  episode(tenant: Tenant, orderDay: number, arrivalDay: number): LiveEpisode {
    const p = this.#prng;
    const work = tenant.kind === 'screening' ? 'screening' : 'sti';
    const known = this.seed.byTenant.get(tenant.id) ?? [];
    const candidate = p.chance(RETURNING[work]) && known.length > 0 ? known[p.int(0, known.length - 1)]! : null;
    const returning = candidate && candidate.work === work ? candidate : null;
    let bsn = returning?.bsn ?? '';
    if (!returning) {
      do bsn = syntheticBsn(p.asRandom()); while (this.seed.bsns.has(bsn));
      this.seed.bsns.add(bsn);
    }
    const gender = returning?.gender ?? (work === 'screening' ? 'female' : p.chance(0.5) ? 'female' : 'male');
    let tests: string[];
    let analyser: Analyser;
    let specimenType: Code;
    let outcomes: Qualitative[];
    let pap: PapClass | null = null;
    if (work === 'screening') {
      tests = [HRHPV];
      analyser = 'hpv';
      specimenType = SPECIMEN_TYPES.cervicalSmear;
      const hpv: Qualitative = p.weighted([['negative', 90], ['positive', 9], ['inconclusive', 1]]);
      outcomes = [hpv];
      if (hpv === 'positive') {
        const hpv16 = p.chance(0.25);
        const hpv18 = p.chance(0.1);
        const other = !hpv16 && !hpv18 ? true : p.chance(0.6);
        outcomes = [hpv, ...[hpv16, hpv18, other].map((x): Qualitative => (x ? 'positive' : 'negative'))];
        pap = p.weighted(PAP_WEIGHTS);
      }
    } else if (p.chance(tenant.kind === 'hospital' ? 0.4 : 0.2)) {
      tests = [HIV, SYPHILIS];
      analyser = 'sero';
      specimenType = SPECIMEN_TYPES.serum;
      outcomes = tests.map((t) => outcome(p, t));
    } else {
      tests = gender === 'female' && p.chance(0.4) ? [CT, NG, TV] : [CT, NG];
      analyser = 'naat';
      specimenType = gender === 'female' ? SPECIMEN_TYPES.vaginalSwab : SPECIMEN_TYPES.urine;
      outcomes = tests.map((t) => outcome(p, t));
    }
    this.counts.ordered++;
    return {
      n: ++this.#n, tenant, work, returning, bsn, gender, tests, analyser, specimenType, outcomes, pap, orderDay, arrivalDay,
      arrivalMs: 0, pseudonym: returning?.pseudonym ?? null, orderIds: [], barcode: null, specimenId: null, resultIds: [],
    };
  }

  /** The new patient's record as the requester's system sends it. */
  newPatient(e: LiveEpisode, nowMs: number): FhirResource {
    this.counts.newPatients++;
    const spec = e.work === 'screening' ? { gender: 'female' as const, minAge: 30, maxAge: 65 } : { gender: e.gender, minAge: 16, maxAge: 65 };
    const person = patient(this.#prng, nowMs, spec, new Set<string>(), this.#serial++);
    (person as { identifier: { value: string }[] }).identifier[0]!.value = e.bsn;
    return person;
  }

  orders(e: LiveEpisode, subject: string, nowMs: number): FhirResource[] {
    return e.tests.map((loinc) => ({ ...serviceRequest(loinc, subject, `Organization/${e.tenant.id}`, instantAt(nowMs)), status: 'active' }) as FhirResource);
  }

  specimen(e: LiveEpisode, collectedMs: number): FhirResource {
    const s = specimen(this.#prng, e.specimenType, `Patient/${e.pseudonym}`, e.orderIds.map((id) => `ServiceRequest/${id}`), timelineAt(collectedMs, collectedMs));
    (s as { identifier: { value: string }[] }).identifier[0]!.value = e.barcode!;
    return s;
  }

  /** What the analyser reports for the specimen: one result per order, genotypes with a positive hrHPV. */
  instrumentResults(e: LiveEpisode, device: string, nowMs: number): FhirResource[] {
    const t = timelineAt(nowMs - 2 * 3_600_000, nowMs);
    const loincs = e.work === 'screening' ? [HRHPV, ...(e.outcomes.length > 1 ? GENOTYPES : [])] : e.tests;
    return loincs.map((loinc, i) => qualitativeObservation({
      loinc, subject: `Patient/${e.pseudonym}`, specimen: `Specimen/${e.specimenId}`,
      basedOn: `ServiceRequest/${e.orderIds[e.work === 'screening' ? 0 : i]}`, device: `Device/${device}`, status: 'final', t,
    }, e.outcomes[i]!));
  }

  cytologyResult(e: LiveEpisode, nowMs: number): FhirResource {
    const pap = e.pap!;
    const axis: Record<PapClass, string> = { Pap0: '1', Pap1: '1', Pap2: '2', Pap3a1: '4', Pap3a2: '5', Pap3b: '6', Pap4: '7', Pap5: '9' };
    return {
      ...observationBase({
        loinc: CYTOLOGY, subject: `Patient/${e.pseudonym}`, specimen: `Specimen/${e.specimenId}`, basedOn: `ServiceRequest/${e.orderIds[0]}`,
        device: 'Device/scanner-cyto-01', status: 'final', t: timelineAt(nowMs - 3_600_000, nowMs),
      }),
      valueCodeableConcept: concept(papCode(pap)),
      interpretation: [{ coding: [{ system: INTERPRETATION_SYSTEM, code: pap === 'Pap1' ? 'N' : 'A' }] }],
      component: [{ code: concept(KOPAC_B_COMPONENT), valueCodeableConcept: { coding: [{ system: KOPAC_B_SYSTEM, code: `K1O1P${axis[pap]}A1C1B${pap === 'Pap0' ? 3 : 1}` }] } }],
    } as FhirResource;
  }

  /** The analyst's preliminary report over every result of the specimen. */
  report(e: LiveEpisode, nowMs: number): FhirResource {
    const [advice, conclusion] = adviceFor(e);
    return report(e.tests[0]!, `Patient/${e.pseudonym}`, e.orderIds.map((id) => `ServiceRequest/${id}`), `Specimen/${e.specimenId}`,
      e.resultIds.map((id) => `Observation/${id}`), 'preliminary', timelineAt(nowMs - 3 * 3_600_000, nowMs), advice, conclusion);
  }

  /** Whether the analyst and validator look closer (history, longer review). */
  static abnormal(e: LiveEpisode): boolean {
    return e.outcomes.some((o) => o !== 'negative');
  }
}

function outcome(p: Prng, loinc: string): Qualitative {
  return p.chance(0.005) ? 'inconclusive' : p.chance(STI_POSITIVE[loinc] ?? 0) ? 'positive' : 'negative';
}

function timelineAt(collectedMs: number, issuedMs: number): Timeline {
  return { authoredOn: instantAt(collectedMs - 86_400_000), collected: instantAt(collectedMs), effective: instantAt(issuedMs - 3_600_000), issued: instantAt(issuedMs) };
}

function adviceFor(e: LiveEpisode): [Code, string] {
  if (e.work === 'screening') {
    const hpv = e.outcomes[0];
    if (hpv === 'negative') return [ADVICE.routineRecall, 'hrHPV negatief. Geen vervolgonderzoek nodig; volgende uitnodiging volgens schema.'];
    if (hpv === 'inconclusive' || e.pap === 'Pap0') return [ADVICE.repeatSample, 'Uitslag niet te beoordelen. Een nieuw monster is nodig.'];
    if (e.pap === 'Pap1') return [ADVICE.repeatCytology, 'hrHPV positief, cytologie zonder afwijkingen (Pap 1). Herhaalonderzoek over 6 maanden.'];
    return [ADVICE.referGynaecology, `hrHPV positief met afwijkende cytologie (${e.pap}). Verwijzing naar de gynaecoloog voor colposcopie.`];
  }
  if (e.outcomes.includes('positive')) return [ADVICE.treatAndNotify, 'Positieve uitslag voor een of meer soa-testen. Behandeling starten en partnerwaarschuwing bespreken.'];
  if (e.outcomes.includes('inconclusive')) return [ADVICE.repeatSample, 'Een of meer uitslagen niet te beoordelen. Een nieuw monster is nodig.'];
  return [ADVICE.noAction, 'Geen aanwijzingen voor een soa in de aangevraagde testen.'];
}
