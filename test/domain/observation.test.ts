import { describe, expect, it } from 'vitest';
import { cytology, observation, SCT } from './fixtures.js';
import { expectRefused, valid } from './helpers.js';

const PAP = 'https://labkluis.nl/fhir/CodeSystem/pap';

describe('Observation validation', () => {
  it('refuses an unknown status', () => {
    expectRefused({ ...observation(), status: 'done' }, 'Observation.status');
  });
  it('requires a LOINC code from the result set', () => {
    expectRefused({ ...observation(), code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] } }, 'Observation.code.coding[0].code', /LOINC/);
  });
  it('requires a qualitative SNOMED result for hrHPV, genotypes and NAATs', () => {
    for (const code of ['77379-6', '77399-4', '77400-0', '71431-1', '43304-5', '43305-2', '46154-1', '24110-9', '56888-1']) {
      const base = { ...observation(), code: { coding: [{ system: 'http://loinc.org', code }] } };
      expect(() => valid(base)).not.toThrow();
      expectRefused({ ...base, valueCodeableConcept: { coding: [{ system: SCT, code: '123456' }] } }, 'Observation.valueCodeableConcept.coding[0].code', /qualitative/);
      expectRefused({ ...base, valueCodeableConcept: { coding: [{ system: PAP, code: 'Pap1' }] } }, 'Observation.valueCodeableConcept.coding', /snomed/);
    }
  });
  it('requires a Pap class for cervical cytology', () => {
    expect(() => valid(cytology())).not.toThrow();
    expectRefused({ ...cytology(), valueCodeableConcept: { coding: [{ system: PAP, code: 'Pap9' }] } }, 'Observation.valueCodeableConcept.coding[0].code', /Pap class/);
    expectRefused({ ...cytology(), valueCodeableConcept: { coding: [{ system: SCT, code: '10828004' }] } }, 'Observation.valueCodeableConcept.coding', /pap/);
  });
  it('checks the KOPAC-B component of cytology and refuses components elsewhere', () => {
    const c = cytology();
    c.component[0].valueCodeableConcept.coding[0].code = 'K1 O1 P2';
    expectRefused(c, 'Observation.component[0].valueCodeableConcept.coding[0].code', /KOPAC-B/);
    const d = cytology();
    d.component[0].code.coding[0].code = 'pap';
    expectRefused(d, 'Observation.component[0].code.coding[0].code', /component/);
    expectRefused({ ...observation(), component: cytology().component }, 'Observation.component', /only cytology/);
  });
  it('requires a value for reported statuses, but not for registered', () => {
    const { valueCodeableConcept: _v, interpretation: _i, ...noValue } = observation();
    expectRefused(noValue, 'Observation.valueCodeableConcept', /required when status is final/);
    expect(() => valid({ ...noValue, status: 'registered' })).not.toThrow();
    expect(() => valid({ ...noValue, dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'error' }] } })).not.toThrow();
  });
  it('refuses a value together with a dataAbsentReason', () => {
    expectRefused({ ...observation(), dataAbsentReason: { text: 'x' } }, 'Observation.dataAbsentReason', /absent/);
  });
  it('refuses value types other than valueCodeableConcept', () => {
    expectRefused({ ...observation(), valueString: 'positive' }, 'Observation.valueString', /unknown element/);
  });
  it('checks subject, specimen and device references', () => {
    expectRefused({ ...observation(), subject: { reference: 'Group/g' } }, 'Observation.subject.reference', /Patient/);
    const { specimen: _s, ...noSpecimen } = observation();
    expectRefused(noSpecimen, 'Observation.specimen', /required/);
    expectRefused({ ...observation(), device: { reference: 'Organization/o' } }, 'Observation.device.reference', /Device/);
  });
  it('checks interpretation codes, effectiveDateTime and notes', () => {
    expectRefused({ ...observation(), interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'HH' }] }] }, 'Observation.interpretation[0].coding[0].code', /interpretation/);
    const { effectiveDateTime: _e, ...noTime } = observation();
    expectRefused(noTime, 'Observation.effectiveDateTime', /required/);
    expectRefused({ ...observation(), note: [{ text: '' }] }, 'Observation.note[0].text', /empty/);
  });
});
