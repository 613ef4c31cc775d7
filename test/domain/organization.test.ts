import { describe, it } from 'vitest';
import { organization } from './fixtures.js';
import { expectRefused } from './helpers.js';

describe('Organization validation', () => {
  it('requires an AGB identifier of 8 digits', () => {
    expectRefused({ ...organization(), identifier: [{ system: 'urn:x', value: '1' }] }, 'Organization.identifier', /AGB/);
    const o = organization();
    o.identifier[0].value = '1234567';
    expectRefused(o, 'Organization.identifier[0].value', /8 digits/);
  });
  it('requires a name', () => {
    const { name: _n, ...noName } = organization();
    expectRefused(noName, 'Organization.name', /required/);
  });
  it('requires a type from the organization-kind code system', () => {
    const { type: _t, ...noType } = organization();
    expectRefused(noType, 'Organization.type', /required/);
    const o = organization();
    o.type[0].coding[0].code = 'bakery';
    expectRefused(o, 'Organization.type[0].coding[0].code', /organization kind/);
  });
});
