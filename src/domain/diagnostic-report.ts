/**
 * DiagnosticReport: the validated report for one order, with its results and the advice to
 * the requester (conclusion, conclusionCode). A final report says when it was issued.
 */
import { z } from 'zod';
import type { DiagnosticReport } from './fhir-types.js';
import { ADVICE_CODES, ADVICE_SYSTEM, LOINC, LOINC_CODES } from './codes.js';
import { codeableConcept, dateTime, identifier, instant, reference, resourceBase, str } from './datatypes.js';
import { asArray, checkCoding, type Problem } from './rules.js';

export const DIAGNOSTIC_REPORT_STATUSES = ['registered', 'preliminary', 'final', 'amended'] as const;

export const diagnosticReportSchema = z.strictObject({
  resourceType: z.literal('DiagnosticReport'),
  ...resourceBase,
  identifier: z.array(identifier).max(10).optional(),
  basedOn: z.array(reference(['ServiceRequest'])).min(1).max(20),
  status: z.enum(DIAGNOSTIC_REPORT_STATUSES),
  category: z.array(codeableConcept).max(5).optional(),
  code: codeableConcept,
  subject: reference(['Patient']),
  effectiveDateTime: dateTime,
  issued: instant.optional(),
  performer: z.array(reference(['Organization', 'Practitioner', 'PractitionerRole'])).max(5).optional(),
  resultsInterpreter: z.array(reference(['Organization', 'Practitioner', 'PractitionerRole'])).max(5).optional(),
  specimen: z.array(reference(['Specimen'])).min(1).max(20),
  result: z.array(reference(['Observation'])).max(100).optional(),
  conclusion: str(10_000).optional(),
  conclusionCode: z.array(codeableConcept).max(5).optional(),
});

export function diagnosticReportRules(raw: Readonly<Record<string, unknown>>): Problem[] {
  const problems = [...checkCoding(raw.code, ['code'], LOINC, LOINC_CODES, 'report LOINC').problems];
  const status = raw.status;
  if ((status === 'final' || status === 'amended') && raw.issued === undefined) {
    problems.push({ path: ['issued'], message: `is required when status is ${status}` });
  }
  if ((status === 'final' || status === 'amended') && asArray(raw.result).length === 0) {
    problems.push({ path: ['result'], message: `a ${status} report must reference its results` });
  }
  asArray(raw.conclusionCode).forEach((cc, i) => {
    problems.push(...checkCoding(cc, ['conclusionCode', i], ADVICE_SYSTEM, ADVICE_CODES, 'advice').problems);
  });
  return problems;
}

export type DiagnosticReportOut = z.output<typeof diagnosticReportSchema>;
const _isDiagnosticReport = (d: DiagnosticReportOut): DiagnosticReport => d;
void _isDiagnosticReport;
