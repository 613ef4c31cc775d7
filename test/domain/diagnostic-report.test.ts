import { describe, it } from 'vitest';
import { report } from './fixtures.js';
import { expectRefused } from './helpers.js';

describe('DiagnosticReport validation', () => {
  it('accepts only registered, preliminary, final and amended', () => {
    expectRefused({ ...report(), status: 'corrected' }, 'DiagnosticReport.status');
  });
  it('requires issued and results on a final report', () => {
    const { issued: _i, ...noIssued } = report();
    expectRefused(noIssued, 'DiagnosticReport.issued', /required when status is final/);
    const { result: _r, ...noResults } = report();
    expectRefused(noResults, 'DiagnosticReport.result', /results/);
  });
  it('requires results to be Observations, basedOn ServiceRequests and specimens Specimens', () => {
    expectRefused({ ...report(), result: [{ reference: 'Specimen/sp-1' }] }, 'DiagnosticReport.result[0].reference', /Observation/);
    expectRefused({ ...report(), basedOn: [] }, 'DiagnosticReport.basedOn');
    expectRefused({ ...report(), specimen: [{ reference: 'Patient/p' }] }, 'DiagnosticReport.specimen[0].reference', /Specimen/);
  });
  it('requires a known LOINC code and known advice codes', () => {
    expectRefused({ ...report(), code: { coding: [{ system: 'http://loinc.org', code: '11502-2' }] } }, 'DiagnosticReport.code.coding[0].code');
    const r = report();
    r.conclusionCode[0].coding[0].code = 'panic';
    expectRefused(r, 'DiagnosticReport.conclusionCode[0].coding[0].code', /advice/);
  });
  it('caps the conclusion length', () => {
    expectRefused({ ...report(), conclusion: 'x'.repeat(10_001) }, 'DiagnosticReport.conclusion', /at most/);
  });
});
