import { describe, expect, it } from 'vitest';
import type { Bundle } from '../../src/domain/index.js';
import { transaction, urn } from './fixtures.js';
import { expectRefused, refusal, valid } from './helpers.js';

describe('Bundle validation', () => {
  it('accepts a transaction with urn:uuid references between entries', () => {
    const b = valid(transaction()) as Bundle;
    expect(b.entry).toHaveLength(5);
  });
  it('returns a copy with references as sent, leaving the input untouched', () => {
    const input = transaction();
    const before = JSON.stringify(input);
    const b = valid(input) as Bundle;
    expect(JSON.stringify(input)).toBe(before);
    expect(JSON.stringify(b)).toBe(before); // urn:uuid references back in place after the typed check
    (b.entry![3]!.resource as { status?: string }).status = 'cancelled';
    expect(JSON.stringify(input)).toBe(before);
  });
  it('refuses an entry with a "__proto__" element and pollutes nothing', () => {
    const b = JSON.parse(JSON.stringify(transaction()).replace('"resourceType":"Patient"', '"__proto__":{"polluted":1},"resourceType":"Patient"'));
    expectRefused(b, 'Bundle.entry[0].resource.__proto__', /unknown element/);
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });
  it('accepts only type transaction', () => {
    expectRefused({ ...transaction(), type: 'batch' }, 'Bundle.type', /transaction/);
  });
  it('requires urn:uuid fullUrls, unique', () => {
    const b = transaction();
    b.entry[0].fullUrl = 'Patient/1';
    expectRefused(b, 'Bundle.entry[0].fullUrl', /urn:uuid/);
    const c = transaction();
    c.entry[1].fullUrl = c.entry[0].fullUrl;
    expectRefused(c, 'Bundle.entry[1].fullUrl', /duplicates/);
  });
  it('refuses a urn:uuid reference that is not in the bundle', () => {
    const b = transaction();
    b.entry[3].resource.subject.reference = urn(99);
    expectRefused(b, 'Bundle.entry[3].resource.subject.reference', /not in this bundle/);
  });
  it('refuses a urn:uuid reference to an entry of the wrong type', () => {
    const b = transaction();
    b.entry[3].resource.subject.reference = urn(2); // a ServiceRequest
    expectRefused(b, 'Bundle.entry[3].resource.subject.reference', /Patient/);
  });
  it('checks entry requests: method POST or PUT, url matching the resource', () => {
    const a = transaction();
    a.entry[0].request.method = 'GET';
    expectRefused(a, 'Bundle.entry[0].request.method', /POST or PUT/);
    const b = transaction();
    b.entry[0].request.url = 'Observation';
    expectRefused(b, 'Bundle.entry[0].request.url', /resource type/);
    const c = transaction();
    c.entry[0].resource.id = 'p1';
    expectRefused(c, 'Bundle.entry[0].resource.id', /absent on POST/);
    const d = transaction();
    d.entry[2].request = { method: 'PUT', url: 'Specimen' };
    expectRefused(d, 'Bundle.entry[2].request.url', /Type\/id/);
    const e = transaction();
    e.entry[2].request = { method: 'PUT', url: 'Specimen/sp-9' };
    e.entry[2].resource.id = 'sp-1';
    expectRefused(e, 'Bundle.entry[2].resource.id', /match/);
  });
  it('names problems inside entries with their full path', () => {
    const b = transaction();
    b.entry[0].resource.identifier[0].value = '123456789';
    b.entry[4].resource.status = 'corrected';
    const expressions = refusal(b).map((i) => i.expression);
    expect(expressions).toEqual(expect.arrayContaining(['Bundle.entry[0].resource.identifier[0].value', 'Bundle.entry[4].resource.status']));
  });
  it('refuses nested bundles, missing resources and empty bundles', () => {
    const b = transaction();
    b.entry[0].resource = { resourceType: 'Bundle', type: 'transaction', entry: [] };
    expectRefused(b, 'Bundle.entry[0].resource.resourceType', /nested/);
    const c = transaction();
    delete c.entry[1].resource;
    expectRefused(c, 'Bundle.entry[1].resource', /required/);
    expectRefused({ ...transaction(), entry: [] }, 'Bundle.entry', /at least one/);
    expectRefused(transaction(), 'Bundle', /nested/, { allowUrnReferences: true });
  });
  it('refuses more than 1000 entries without looking inside them', () => {
    const b = transaction();
    b.entry = Array.from({ length: 1001 }, (_, i) => ({ fullUrl: urn(i + 1), resource: {}, request: { method: 'POST', url: 'Patient' } }));
    const issues = refusal(b);
    expect(issues.map((i) => i.expression)).toEqual(['Bundle.entry']);
    expect(issues[0]!.diagnostics).toMatch(/at most 1000/);
  });
});
