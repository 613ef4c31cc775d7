import { describe, it } from 'vitest';
import { serviceRequest } from './fixtures.js';
import { expectRefused } from './helpers.js';

describe('ServiceRequest validation', () => {
  it('refuses an unknown status or intent', () => {
    expectRefused({ ...serviceRequest(), status: 'done' }, 'ServiceRequest.status');
    expectRefused({ ...serviceRequest(), intent: 'wish' }, 'ServiceRequest.intent');
  });
  it('requires a LOINC code from the labkluis test set', () => {
    expectRefused({ ...serviceRequest(), code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] } }, 'ServiceRequest.code.coding[0].code', /LOINC/);
    expectRefused({ ...serviceRequest(), code: { text: 'HPV' } }, 'ServiceRequest.code.coding', /http:\/\/loinc.org/);
  });
  it('requires subject to be a Patient and requester an Organization or practitioner', () => {
    expectRefused({ ...serviceRequest(), subject: { reference: 'Group/g1' } }, 'ServiceRequest.subject.reference', /Patient/);
    expectRefused({ ...serviceRequest(), requester: { reference: 'Patient/p1' } }, 'ServiceRequest.requester.reference', /Organization/);
  });
  it('requires authoredOn as a FHIR dateTime (a time needs a zone)', () => {
    expectRefused({ ...serviceRequest(), authoredOn: '2026-01-10T09:00:00' }, 'ServiceRequest.authoredOn', /dateTime/);
    const { authoredOn: _a, ...none } = serviceRequest();
    expectRefused(none, 'ServiceRequest.authoredOn', /required/);
  });
});
