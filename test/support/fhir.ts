/**
 * Builders for synthetic FHIR resources used in tests. Every value is synthetic and marked
 * (HTEST label, 'Test-' family names, BSNs from the synthetic range). Each call returns
 * fresh values so that tests can search the raw bytes for exactly what they wrote.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { BARCODE_SYSTEM, BSN_SYSTEM, HTEST, LOINC, SNOMED, syntheticBsn } from '../../src/domain/index.js';
import { systemRandom } from '../../src/kernel/index.js';

const meta = () => ({ security: [{ ...HTEST }] });
const tag = () => randomBytes(4).toString('hex').toUpperCase();

export interface SyntheticPerson {
  readonly bsn: string;
  readonly family: string;
  readonly given: string;
  readonly street: string;
  readonly birthDate: string;
  readonly email: string;
}

export function syntheticPerson(): SyntheticPerson {
  const t = tag();
  return {
    bsn: syntheticBsn(systemRandom),
    family: `Test-Familie${t}`,
    given: `Voornaam${t}`,
    street: `Synthetischestraat${t} 12`,
    birthDate: `19${String(50 + (parseInt(t, 16) % 49)).padStart(2, '0')}-0${1 + (parseInt(t, 16) % 9)}-1${parseInt(t, 16) % 9}`,
    email: `test-${t.toLowerCase()}@example.invalid`,
  };
}

export function patient(p: SyntheticPerson = syntheticPerson()) {
  return {
    resourceType: 'Patient',
    meta: meta(),
    identifier: [{ system: BSN_SYSTEM, value: p.bsn }],
    name: [{ use: 'official', family: p.family, given: [p.given] }],
    telecom: [{ system: 'email', value: p.email }],
    gender: 'female',
    birthDate: p.birthDate,
    address: [{ use: 'home', line: [p.street], postalCode: '1234 AB', city: 'Teststad', country: 'NL' }],
  };
}

export const loinc = (code: string) => ({ coding: [{ system: LOINC, code }] });
const qualitative = (code: '10828004' | '260385009') => ({ coding: [{ system: SNOMED, code }] });

export function serviceRequest(subject: string, requester = 'Organization/unknown') {
  return {
    resourceType: 'ServiceRequest', meta: meta(), status: 'active', intent: 'order', code: loinc('77379-6'),
    subject: { reference: subject }, requester: { reference: requester }, authoredOn: '2026-10-01T09:00:00Z',
  };
}

export function specimen(subject: string, request: string, barcode = `T${tag()}${tag().slice(0, 3)}`) {
  return {
    resourceType: 'Specimen', meta: meta(), identifier: [{ system: BARCODE_SYSTEM, value: barcode }], status: 'available',
    type: { coding: [{ system: SNOMED, code: '276446009' }] }, subject: { reference: subject }, request: [{ reference: request }],
    collection: { collectedDateTime: '2026-10-02T09:00:00Z' },
  };
}

export function hpvObservation(subject: string, specimenRef: string, opts: { device?: string; positive?: boolean; status?: string } = {}) {
  return {
    resourceType: 'Observation', meta: meta(), status: opts.status ?? 'final', code: loinc('77379-6'), subject: { reference: subject },
    effectiveDateTime: '2026-10-03T10:00:00Z', specimen: { reference: specimenRef },
    ...(opts.device ? { device: { reference: opts.device } } : {}),
    valueCodeableConcept: qualitative(opts.positive ? '10828004' : '260385009'),
  };
}

export function report(
  subject: string, results: string[], status: string, refs: { basedOn: string; specimen: string },
  conclusion = `Geen afwijkingen; advies: vervolg over 5 jaar [SYNTHETISCH ${tag()}]`,
) {
  return {
    resourceType: 'DiagnosticReport', meta: meta(), status, code: loinc('77379-6'), subject: { reference: subject },
    basedOn: [{ reference: refs.basedOn }], specimen: [{ reference: refs.specimen }],
    effectiveDateTime: '2026-10-03T10:00:00Z', issued: '2026-10-04T10:00:00Z', result: results.map((reference) => ({ reference })), conclusion,
  };
}

/** A transaction of POST entries; entries name each other by their urn:uuid. */
export function transaction(...resources: Record<string, unknown>[]) {
  const urns = resources.map(() => `urn:uuid:${randomUUID()}`);
  return {
    urns,
    bundle: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: resources.map((resource, i) => ({ fullUrl: urns[i], resource, request: { method: 'POST', url: resource.resourceType } })),
    },
  };
}

/** Patient, order and specimen in one bundle, as a registrar sends them. */
export function intakeBundle(person: SyntheticPerson = syntheticPerson()) {
  const urn = [`urn:uuid:${randomUUID()}`, `urn:uuid:${randomUUID()}`, `urn:uuid:${randomUUID()}`];
  const entries = [
    { fullUrl: urn[0], resource: patient(person), request: { method: 'POST', url: 'Patient' } },
    { fullUrl: urn[1], resource: serviceRequest(urn[0]!), request: { method: 'POST', url: 'ServiceRequest' } },
    { fullUrl: urn[2], resource: specimen(urn[0]!, urn[1]!), request: { method: 'POST', url: 'Specimen' } },
  ];
  return { person, bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries } };
}
