/**
 * Synthetic fixtures (no real person): BSN 999990019 is in the BRP test range, names carry
 * the 'Test-' prefix, every resource is labelled HTEST. Each call returns a fresh copy that a
 * test may break.
 */
import { ManualClock } from '../../src/kernel/index.js';

export const clock = new ManualClock('2026-01-15T10:00:00Z');
export const HTEST_META = { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HTEST' }] };
export const VALID_BSN = '999990019';
export const LOINC = 'http://loinc.org';
export const SCT = 'http://snomed.info/sct';

export type Json = Record<string, any>;

export const patient = (): Json => ({
  resourceType: 'Patient', id: 'pseudo-1', meta: HTEST_META,
  identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: VALID_BSN }],
  name: [{ family: 'Test-Jansen', given: ['Anna'] }],
  gender: 'female', birthDate: '1980-04-01',
  telecom: [{ system: 'email', value: 'anna.test@example.invalid' }],
  address: [{ line: ['Teststraat 1'], postalCode: '1234 AB', city: 'Rijswijk', country: 'NL' }],
});

export const organization = (): Json => ({
  resourceType: 'Organization', id: 'org-1', meta: HTEST_META,
  identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/agb-z', value: '99000001' }],
  type: [{ coding: [{ system: 'https://labkluis.nl/fhir/CodeSystem/organization-kind', code: 'gp-practice' }] }],
  name: 'Test-Huisartsenpraktijk',
});

export const serviceRequest = (): Json => ({
  resourceType: 'ServiceRequest', id: 'sr-1', meta: HTEST_META, status: 'active', intent: 'order',
  code: { coding: [{ system: LOINC, code: '77379-6' }] },
  subject: { reference: 'Patient/pseudo-1' }, requester: { reference: 'Organization/org-1' },
  authoredOn: '2026-01-10T09:00:00+01:00',
});

export const specimen = (): Json => ({
  resourceType: 'Specimen', id: 'sp-1', meta: HTEST_META,
  identifier: [{ system: 'https://labkluis.nl/fhir/NamingSystem/specimen-barcode', value: 'TST0000001' }],
  status: 'available', type: { coding: [{ system: SCT, code: '276446009' }] },
  subject: { reference: 'Patient/pseudo-1' }, request: [{ reference: 'ServiceRequest/sr-1' }],
  collection: { collectedDateTime: '2026-01-10T10:00:00+01:00' },
});

export const observation = (): Json => ({
  resourceType: 'Observation', id: 'obs-1', meta: HTEST_META, status: 'final',
  code: { coding: [{ system: LOINC, code: '77379-6' }] },
  subject: { reference: 'Patient/pseudo-1' }, specimen: { reference: 'Specimen/sp-1' }, device: { reference: 'Device/analyser-hpv-01' },
  basedOn: [{ reference: 'ServiceRequest/sr-1' }], effectiveDateTime: '2026-01-12T08:00:00Z',
  valueCodeableConcept: { coding: [{ system: SCT, code: '260385009' }] },
  interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'NEG' }] }],
});

export const cytology = (): Json => ({
  ...observation(), id: 'obs-2', code: { coding: [{ system: LOINC, code: '10524-7' }] },
  valueCodeableConcept: { coding: [{ system: 'https://labkluis.nl/fhir/CodeSystem/pap', code: 'Pap2' }] },
  interpretation: undefined,
  component: [{
    code: { coding: [{ system: 'https://labkluis.nl/fhir/CodeSystem/cytology-component', code: 'kopac-b' }] },
    valueCodeableConcept: { coding: [{ system: 'https://labkluis.nl/fhir/CodeSystem/kopac-b', code: 'K1O1P2A1C1B1' }] },
  }],
});

export const report = (): Json => ({
  resourceType: 'DiagnosticReport', id: 'dr-1', meta: HTEST_META, status: 'final',
  code: { coding: [{ system: LOINC, code: '77379-6' }] },
  subject: { reference: 'Patient/pseudo-1' }, basedOn: [{ reference: 'ServiceRequest/sr-1' }],
  specimen: [{ reference: 'Specimen/sp-1' }], result: [{ reference: 'Observation/obs-1' }],
  effectiveDateTime: '2026-01-12T08:00:00Z', issued: '2026-01-13T12:00:00Z',
  conclusion: 'hrHPV negatief (synthetisch).',
  conclusionCode: [{ coding: [{ system: 'https://labkluis.nl/fhir/CodeSystem/advice', code: 'routine-recall' }] }],
});

const U = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
export const urn = U;

/** A transaction bundle: Patient, ServiceRequest, Specimen, Observation, DiagnosticReport linked by urn:uuid. */
export const transaction = (): Json => {
  const strip = ({ id: _id, ...rest }: Json): Json => rest;
  const p: Json = strip(patient());
  const sr: Json = { ...strip(serviceRequest()), subject: { reference: U(1) } };
  const sp: Json = { ...strip(specimen()), subject: { reference: U(1) }, request: [{ reference: U(2) }] };
  const ob: Json = { ...strip(observation()), subject: { reference: U(1) }, specimen: { reference: U(3) }, basedOn: [{ reference: U(2) }] };
  const dr: Json = { ...strip(report()), subject: { reference: U(1) }, basedOn: [{ reference: U(2) }], specimen: [{ reference: U(3) }], result: [{ reference: U(4) }] };
  return {
    resourceType: 'Bundle', type: 'transaction', meta: HTEST_META,
    entry: [p, sr, sp, ob, dr].map((resource: Json, i) => ({ fullUrl: U(i + 1), resource, request: { method: 'POST', url: resource.resourceType } })),
  };
};
