import { describe, expect, it } from 'vitest';
import { clock, patient } from './fixtures.js';
import { expectRefused, valid } from './helpers.js';

describe('Patient validation', () => {
  it('requires a BSN identifier', () => {
    expectRefused({ ...patient(), identifier: [{ system: 'urn:oid:2.16.840.1.113883.2.4.6.3', value: '999990019' }] }, 'Patient.identifier', /BSN/);
  });
  it('refuses a BSN that fails the 11-check', () => {
    const p = patient();
    p.identifier[0].value = '999990018';
    expectRefused(p, 'Patient.identifier[0].value', /11-check/);
  });
  it('refuses 000000000 and non-digit BSNs', () => {
    for (const value of ['000000000', '99999001', '99999001X']) {
      const p = patient();
      p.identifier[0].value = value;
      expectRefused(p, 'Patient.identifier[0].value', /11-check/);
    }
  });
  it('refuses a second BSN', () => {
    const p = patient();
    p.identifier.push({ ...p.identifier[0] });
    expectRefused(p, 'Patient.identifier[1]', /only one BSN/);
  });
  it('refuses a birthDate in the future of the injected clock, at any precision', () => {
    expectRefused({ ...patient(), birthDate: '2026-01-16' }, 'Patient.birthDate', /future/);
    expectRefused({ ...patient(), birthDate: '2027' }, 'Patient.birthDate', /future/);
    expect(() => valid({ ...patient(), birthDate: '2026-01-15' })).not.toThrow(); // today (Amsterdam) is fine
    expect(() => valid({ ...patient(), birthDate: '2026' })).not.toThrow();
    expect(clock.now().toISOString()).toBe('2026-01-15T10:00:00.000Z');
  });
  it('refuses a birthDate that is not a calendar date, and a missing one', () => {
    for (const birthDate of ['1980-02-30', '1980-13-01', '01-04-1980', '1980-04-01T00:00:00Z']) {
      expectRefused({ ...patient(), birthDate }, 'Patient.birthDate', /FHIR date/);
    }
    const { birthDate: _b, ...noBirth } = patient();
    expectRefused(noBirth, 'Patient.birthDate', /required/);
  });
  it('refuses an unknown gender', () => {
    expectRefused({ ...patient(), gender: 'man' }, 'Patient.gender');
  });
  it('requires a name with a family name or text', () => {
    const { name: _n, ...noName } = patient();
    expectRefused(noName, 'Patient.name', /required/);
    expectRefused({ ...patient(), name: [{ given: ['Anna'] }] }, 'Patient.name[0]', /family/);
  });
  it('checks telecom and address elements', () => {
    expectRefused({ ...patient(), telecom: [{ system: 'pigeon', value: 'x' }] }, 'Patient.telecom[0].system');
    expectRefused({ ...patient(), telecom: [{ system: 'email' }] }, 'Patient.telecom[0].value', /required/);
    expectRefused({ ...patient(), address: [{ street: 'Teststraat' }] }, 'Patient.address[0].street', /unknown element/);
  });
});
