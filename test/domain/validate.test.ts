import { describe, expect, it } from 'vitest';
import { MAX_ISSUES, type Observation } from '../../src/domain/index.js';
import { type Json, cytology, observation, organization, patient, report, serviceRequest, specimen, transaction, urn, VALID_BSN } from './fixtures.js';
import { expectRefused, refusal, valid } from './helpers.js';

describe('validateResource: general rules', () => {
  it('accepts every valid fixture and returns it typed', () => {
    for (const make of [patient, organization, serviceRequest, specimen, observation, cytology, report, transaction]) {
      const json = make();
      expect(valid(json)).toEqual(JSON.parse(JSON.stringify(json)));
    }
    const obs = valid(observation()) as Observation;
    expect(obs.valueCodeableConcept?.coding?.[0]?.code).toBe('260385009');
  });

  it('refuses a non-object', () => {
    for (const bad of [null, 42, 'Patient', [patient()]]) expectRefused(bad, 'resource', /JSON object/);
  });

  it('refuses a missing or unsupported resourceType', () => {
    const { resourceType: _rt, ...noType } = patient();
    expectRefused(noType, 'resourceType');
    expectRefused({ ...patient(), resourceType: 'Device' }, 'resourceType', /one of/);
    expectRefused({ ...patient(), resourceType: 'patient' }, 'resourceType');
  });

  it('refuses unknown elements at the top level and nested, one issue each', () => {
    const p: Json = { ...patient(), foo: 1, extension: [], text: { status: 'generated', div: '<div/>' } };
    p.name[0].nickname = 'x';
    const issues = refusal(p);
    for (const e of ['Patient.foo', 'Patient.extension', 'Patient.text', 'Patient.name[0].nickname']) {
      expect(issues.some((i) => i.expression === e && i.diagnostics === 'unknown element'), e).toBe(true);
    }
  });

  it('refuses an id that is not a FHIR id', () => {
    expectRefused({ ...patient(), id: 'bad id!' }, 'Patient.id', /FHIR id/);
    expectRefused({ ...patient(), id: 'a'.repeat(65) }, 'Patient.id');
  });

  it('refuses references that are not Type/id', () => {
    for (const ref of ['Patient', 'http://example.org/Patient/1', 'Patient/1/_history/2', 'patient/1', 'Patient/bad id']) {
      expectRefused({ ...observation(), subject: { reference: ref } }, 'Observation.subject.reference');
    }
  });

  it('refuses urn:uuid references outside a transaction bundle, and allows them inside one', () => {
    const obs = { ...observation(), subject: { reference: urn(1) } };
    expectRefused(obs, 'Observation.subject.reference', /only inside a transaction Bundle/);
    expect(() => valid(obs, { allowUrnReferences: true })).not.toThrow();
  });

  it('names every problem, not only the first', () => {
    const p: Json = { ...patient(), gender: 'man', birthDate: '2030-01-01', id: '!' };
    p.identifier[0].value = '123456789';
    const expressions = refusal(p).map((i) => i.expression);
    expect(expressions).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate', 'Patient.id', 'Patient.identifier[0].value']));
  });

  it('never echoes the offending value in a diagnostic', () => {
    const p = patient();
    p.identifier[0].value = '123456789';
    p.name[0].family = 'x'.repeat(200);
    for (const issue of refusal(p)) {
      expect(issue.diagnostics).not.toContain('123456789');
      expect(issue.diagnostics).not.toContain('xxxxx');
    }
    expect(VALID_BSN).toHaveLength(9);
  });

  it('refuses malformed meta', () => {
    expectRefused({ ...patient(), meta: { lastUpdated: '2026-01-01' } }, 'Patient.meta.lastUpdated', /instant/);
    expectRefused({ ...patient(), meta: { security: [{ code: 'HTEST' }] } }, 'Patient.meta.security[0].system', /required/);
  });

  it('refuses strings with control characters and empty strings', () => {
    const p = patient();
    p.name[0].family = 'Test-\u0007';
    p.name[0].given = [''];
    const expressions = refusal(p).map((i) => i.expression);
    expect(expressions).toEqual(expect.arrayContaining(['Patient.name[0].family', 'Patient.name[0].given[0]']));
  });

  it('caps the number of issues it returns', () => {
    const b = transaction();
    b.entry = Array.from({ length: 300 }, (_, i) => ({ fullUrl: urn(i + 1), resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }));
    const issues = refusal(b);
    expect(issues).toHaveLength(MAX_ISSUES + 1);
    expect(issues[MAX_ISSUES]!.diagnostics).toMatch(/more problem/);
  });
});
