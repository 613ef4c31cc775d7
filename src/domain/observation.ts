/**
 * Observation: one lab result. The LOINC code decides the value it must carry:
 * hrHPV, HPV genotypes, NAATs and serology a qualitative SNOMED CT result
 * (positive/negative/inconclusive); cervical cytology a Pap class, optionally with a
 * KOPAC-B component.
 */
import { z } from 'zod';
import type { Observation } from './fhir-types.js';
import {
  INTERPRETATION_CODES, INTERPRETATION_SYSTEM, KOPAC_B_COMPONENT, KOPAC_B_PATTERN, KOPAC_B_SYSTEM, LOINC, LOINC_CODES,
  PAP_CLASSES, PAP_SYSTEM, QUALITATIVE_CODES, SNOMED, labTest,
} from './codes.js';
import { annotation, codeableConcept, dateTime, identifier, instant, reference, resourceBase } from './datatypes.js';
import { asArray, asObject, checkCoding, type Problem } from './rules.js';

export const OBSERVATION_STATUSES = ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error'] as const;
/** Statuses that report a result, so a value (or a dataAbsentReason) must be present. */
const RESULT_STATUSES: readonly string[] = ['preliminary', 'final', 'amended', 'corrected'];

export const observationSchema = z.strictObject({
  resourceType: z.literal('Observation'),
  ...resourceBase,
  identifier: z.array(identifier).max(10).optional(),
  basedOn: z.array(reference(['ServiceRequest'])).max(10).optional(),
  status: z.enum(OBSERVATION_STATUSES),
  category: z.array(codeableConcept).max(5).optional(),
  code: codeableConcept,
  subject: reference(['Patient']),
  effectiveDateTime: dateTime,
  issued: instant.optional(),
  performer: z.array(reference(['Organization', 'Practitioner', 'PractitionerRole'])).max(5).optional(),
  valueCodeableConcept: codeableConcept.optional(),
  dataAbsentReason: codeableConcept.optional(),
  interpretation: z.array(codeableConcept).max(5).optional(),
  note: z.array(annotation).max(10).optional(),
  method: codeableConcept.optional(),
  specimen: reference(['Specimen']),
  device: reference(['Device']).optional(),
  component: z.array(z.strictObject({ code: codeableConcept, valueCodeableConcept: codeableConcept })).max(5).optional(),
});

export function observationRules(raw: Readonly<Record<string, unknown>>): Problem[] {
  const code = checkCoding(raw.code, ['code'], LOINC, LOINC_CODES, 'result LOINC');
  const problems = [...code.problems];
  const test = code.code === undefined ? undefined : labTest(code.code);
  const value = raw.valueCodeableConcept;

  if (value !== undefined && raw.dataAbsentReason !== undefined) {
    problems.push({ path: ['dataAbsentReason'], message: 'must be absent when a value is present' });
  }
  if (value === undefined && raw.dataAbsentReason === undefined && typeof raw.status === 'string' && RESULT_STATUSES.includes(raw.status)) {
    problems.push({ path: ['valueCodeableConcept'], message: `is required when status is ${raw.status}` });
  }
  if (test?.valueKind === 'qualitative' && value !== undefined) {
    problems.push(...checkCoding(value, ['valueCodeableConcept'], SNOMED, QUALITATIVE_CODES, 'qualitative result (positive, negative, inconclusive)').problems);
  }
  if (test?.valueKind === 'cytology' && value !== undefined) {
    problems.push(...checkCoding(value, ['valueCodeableConcept'], PAP_SYSTEM, PAP_CLASSES, 'Pap class').problems);
  }

  const components = asArray(raw.component);
  if (components.length > 0 && test !== undefined && test.valueKind !== 'cytology') {
    problems.push({ path: ['component'], message: 'only cytology results carry components' });
  } else {
    components.forEach((c, i) => {
      const component = asObject(c);
      if (component === undefined) return;
      problems.push(...checkCoding(component.code, ['component', i, 'code'], KOPAC_B_COMPONENT.system, [KOPAC_B_COMPONENT.code], 'cytology component').problems);
      problems.push(...checkCoding(component.valueCodeableConcept, ['component', i, 'valueCodeableConcept'], KOPAC_B_SYSTEM, KOPAC_B_PATTERN, 'KOPAC-B').problems);
    });
  }

  asArray(raw.interpretation).forEach((cc, i) => {
    problems.push(...checkCoding(cc, ['interpretation', i], INTERPRETATION_SYSTEM, INTERPRETATION_CODES, 'interpretation').problems);
  });
  return problems;
}

export type ObservationOut = z.output<typeof observationSchema>;
const _isObservation = (o: ObservationOut): Observation => o;
void _isObservation;
