import { describe, expect, it } from 'vitest';
import { BARCODE_SYSTEM, BSN_SYSTEM, indexFieldsOf, type LabResource } from '../../src/domain/index.js';
import { observation, organization, patient, report, serviceRequest, specimen, urn } from './fixtures.js';
import { valid } from './helpers.js';

const fields = (json: unknown) => indexFieldsOf(valid(json) as LabResource);

describe('indexFieldsOf', () => {
  it('gives a Patient its own id as subject and its BSN as unique token', () => {
    expect(fields(patient())).toEqual({ subject: 'pseudo-1', status: null, date: null, tokens: [], unique: [{ param: 'identifier', system: BSN_SYSTEM, value: '999990019' }] });
  });
  it('indexes an Observation by subject, status, date, code (with and without system), specimen, device, based-on', () => {
    const f = fields(observation());
    expect(f.subject).toBe('pseudo-1');
    expect(f.status).toBe('final');
    expect(f.date).toBe('2026-01-12T08:00:00.000Z');
    expect(f.tokens).toEqual([
      { param: 'code', system: 'http://loinc.org', value: '77379-6' },
      { param: 'code', system: undefined, value: '77379-6' },
      { param: 'specimen', system: undefined, value: 'Specimen/sp-1' },
      { param: 'device', system: undefined, value: 'Device/analyser-hpv-01' },
      { param: 'based-on', system: undefined, value: 'ServiceRequest/sr-1' },
    ]);
    expect(f.unique).toEqual([]);
  });
  it('makes the Specimen barcode a unique token and a search token', () => {
    const f = fields(specimen());
    expect(f.unique).toEqual([{ param: 'identifier', system: BARCODE_SYSTEM, value: 'TST0000001' }]);
    expect(f.tokens).toContainEqual({ param: 'identifier', system: undefined, value: 'TST0000001' });
    expect(f.date).toBe('2026-01-10T09:00:00.000Z');
    expect(f.status).toBe('available');
  });
  it('indexes ServiceRequest by authoredOn and DiagnosticReport by effective time and its links', () => {
    expect(fields(serviceRequest()).date).toBe('2026-01-10T08:00:00.000Z');
    const dr = fields(report());
    expect(dr.date).toBe('2026-01-12T08:00:00.000Z');
    expect(dr.tokens.filter((t) => t.param === 'result')).toEqual([{ param: 'result', system: undefined, value: 'Observation/obs-1' }]);
    expect(fields(organization()).unique).toEqual([{ param: 'identifier', system: 'http://fhir.nl/fhir/NamingSystem/agb-z', value: '99000001' }]);
  });
  it('reads a date-only effective time as local midnight in Amsterdam', () => {
    expect(fields({ ...observation(), effectiveDateTime: '2026-07-01' }).date).toBe('2026-06-30T22:00:00.000Z');
  });
  it('refuses to index unresolved urn:uuid references (a programming error)', () => {
    const obs = valid({ ...observation(), subject: { reference: urn(1) } }, { allowUrnReferences: true }) as LabResource;
    expect(() => indexFieldsOf(obs)).toThrow(TypeError);
  });
});
