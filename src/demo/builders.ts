/**
 * Builders for the resources of one synthetic patient episode, shared by the screening and
 * STI generators. Every resource carries the HTEST security label.
 */
import { BARCODE_SYSTEM, BSN_SYSTEM, HTEST, INTERPRETATION_SYSTEM, LAB_TESTS, QUALITATIVE, syntheticBsn } from '../domain/index.js';
import type { Bundle, Code, DiagnosticReport, FhirResource, Observation, Patient, Qualitative, ServiceRequest, Specimen } from '../domain/index.js';
import { CITIES, FAMILY_STEMS, FEMALE_GIVEN, MALE_GIVEN, STREETS } from './names.js';
import type { Prng } from './prng.js';

/*
 * Leaf values that never change (the HTEST label, code concepts) are frozen and shared
 * between resources: 10,000 patients are ~80,000 resources, and allocation is their main cost.
 * Consumers may replace or delete these elements on a resource, but not change them.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
const META = deepFreeze({ security: [{ system: HTEST.system, code: HTEST.code, display: HTEST.display }] });
export const testMeta = (): typeof META => META;
const concepts = new Map<string, { coding: { system: string; code: string; display: string }[] }>();
export const concept = (c: Code): { coding: { system: string; code: string; display: string }[] } => {
  const key = `${c.system}|${c.code}`;
  let cc = concepts.get(key);
  if (cc === undefined) concepts.set(key, (cc = deepFreeze({ coding: [{ system: c.system, code: c.code, display: c.display }] })));
  return cc;
};

const DAY = 86_400_000;
/** FHIR instant without milliseconds. */
export const instantAt = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The timeline of an episode: ordered, collected, analysed, reported — all before `now`. */
export interface Timeline { readonly authoredOn: string; readonly collected: string; readonly effective: string; readonly issued: string }
export function timeline(prng: Prng, nowMs: number): Timeline {
  const collected = nowMs - prng.int(10, 730) * DAY - prng.int(0, 8 * 3600) * 1000;
  const authored = collected - prng.int(0, 3 * DAY / 1000) * 1000;
  const effective = collected + prng.int(1, 4) * DAY + prng.int(0, 8 * 3600) * 1000;
  const issued = effective + prng.int(1, 2 * DAY / 1000) * 1000;
  return { authoredOn: instantAt(authored), collected: instantAt(collected), effective: instantAt(effective), issued: instantAt(issued) };
}

export interface PersonSpec { readonly gender: 'female' | 'male'; readonly minAge: number; readonly maxAge: number }

export function patient(prng: Prng, nowMs: number, spec: PersonSpec, bsns: Set<string>, serial: number): Patient {
  let bsn: string;
  do bsn = syntheticBsn(prng.asRandom()); while (bsns.has(bsn));
  bsns.add(bsn);
  const given = prng.pick(spec.gender === 'female' ? FEMALE_GIVEN : MALE_GIVEN);
  const birth = new Date(nowMs - (prng.int(spec.minAge, spec.maxAge) * 365.25 + prng.int(0, 364)) * DAY);
  const postcode = `${prng.int(1000, 9999)} ${String.fromCharCode(65 + prng.int(0, 25), 65 + prng.int(0, 25))}`;
  return {
    resourceType: 'Patient',
    meta: testMeta(),
    identifier: [{ system: BSN_SYSTEM, value: bsn }],
    name: [{ use: 'official', family: `Test-${prng.pick(FAMILY_STEMS)}`, given: [given] }],
    telecom: [{ system: 'email', value: `${given.toLowerCase()}.test${serial}@example.invalid` }],
    gender: spec.gender,
    birthDate: birth.toISOString().slice(0, 10),
    address: [{ use: 'home', line: [`${prng.pick(STREETS)} ${prng.int(1, 250)}`], postalCode: postcode, city: prng.pick(CITIES), country: 'NL' }],
  };
}

export function serviceRequest(loinc: string, subject: string, requester: string, authoredOn: string, intent: 'order' | 'reflex-order' = 'order'): ServiceRequest {
  return {
    resourceType: 'ServiceRequest', meta: testMeta(), status: 'completed', intent,
    code: concept(LAB_TESTS[loinc]!), subject: { reference: subject }, requester: { reference: requester }, authoredOn,
  };
}

const BARCODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function barcode(prng: Prng): string {
  let out = 'T';
  for (let i = 0; i < 11; i++) out += BARCODE_ALPHABET[prng.int(0, BARCODE_ALPHABET.length - 1)];
  return out;
}

export function specimen(prng: Prng, type: Code, subject: string, requests: readonly string[], t: Timeline): Specimen {
  return {
    resourceType: 'Specimen', meta: testMeta(), identifier: [{ system: BARCODE_SYSTEM, value: barcode(prng) }], status: 'available',
    type: concept(type), subject: { reference: subject }, request: requests.map((reference) => ({ reference })),
    collection: { collectedDateTime: t.collected }, receivedTime: t.collected,
  };
}

const INTERPRETATION: Record<Qualitative, string> = { positive: 'POS', negative: 'NEG', inconclusive: 'IND' };

export interface ObservationSpec { readonly loinc: string; readonly subject: string; readonly specimen: string; readonly basedOn: string; readonly device: string; readonly status: 'final' | 'preliminary'; readonly t: Timeline }

export function qualitativeObservation(spec: ObservationSpec, result: Qualitative): Observation {
  return {
    ...observationBase(spec),
    valueCodeableConcept: concept(QUALITATIVE[result]),
    interpretation: [{ coding: [{ system: INTERPRETATION_SYSTEM, code: INTERPRETATION[result] }] }],
  };
}

export function observationBase(spec: ObservationSpec): Observation {
  return {
    resourceType: 'Observation', meta: testMeta(), basedOn: [{ reference: spec.basedOn }], status: spec.status,
    code: concept(LAB_TESTS[spec.loinc]!), subject: { reference: spec.subject }, effectiveDateTime: spec.t.effective,
    issued: spec.t.issued, specimen: { reference: spec.specimen }, device: { reference: spec.device },
  };
}

export function report(loinc: string, subject: string, basedOn: readonly string[], specimenRef: string, results: readonly string[],
  status: 'final' | 'preliminary', t: Timeline, advice: Code, conclusion: string): DiagnosticReport {
  return {
    resourceType: 'DiagnosticReport', meta: testMeta(), basedOn: basedOn.map((reference) => ({ reference })), status,
    code: concept(LAB_TESTS[loinc]!), subject: { reference: subject }, effectiveDateTime: t.effective, issued: t.issued,
    specimen: [{ reference: specimenRef }], result: results.map((reference) => ({ reference })),
    conclusion: `${conclusion} [SYNTHETISCHE TESTDATA]`, conclusionCode: [concept(advice)],
  };
}

/** A transaction Bundle POSTing each resource under its urn:uuid fullUrl. */
export function transaction(entries: readonly (readonly [string, FhirResource])[]): Bundle {
  return {
    resourceType: 'Bundle', meta: testMeta(), type: 'transaction',
    entry: entries.map(([fullUrl, resource]) => ({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } })),
  };
}
