import { describe, it } from 'vitest';
import { specimen } from './fixtures.js';
import { expectRefused } from './helpers.js';

describe('Specimen validation', () => {
  it('requires a barcode identifier', () => {
    expectRefused({ ...specimen(), identifier: [{ system: 'urn:x', value: 'ABC123' }] }, 'Specimen.identifier', /barcode/);
  });
  it('refuses a malformed barcode', () => {
    for (const value of ['tst0001', 'ABC12', 'A'.repeat(21), 'ABC-123']) {
      const s = specimen();
      s.identifier[0].value = value;
      expectRefused(s, 'Specimen.identifier[0].value', /barcode/);
    }
  });
  it('requires a specimen type from the labkluis set', () => {
    expectRefused({ ...specimen(), type: { coding: [{ system: 'http://snomed.info/sct', code: '119297000' }] } }, 'Specimen.type.coding[0].code', /specimen type/);
  });
  it('requires subject, request and collection.collectedDateTime', () => {
    const { subject: _s, ...noSubject } = specimen();
    expectRefused(noSubject, 'Specimen.subject', /required/);
    expectRefused({ ...specimen(), request: [] }, 'Specimen.request');
    expectRefused({ ...specimen(), request: [{ reference: 'Observation/o1' }] }, 'Specimen.request[0].reference', /ServiceRequest/);
    expectRefused({ ...specimen(), collection: {} }, 'Specimen.collection.collectedDateTime', /required/);
  });
  it('refuses an unknown status', () => {
    expectRefused({ ...specimen(), status: 'lost' }, 'Specimen.status');
  });
});
