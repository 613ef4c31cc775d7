/**
 * Specimen: a sample with a barcode, collected from a patient for one or more orders. The
 * barcode is unique per tenant; analysts and instruments work by barcode, never by name.
 */
import { z } from 'zod';
import type { Specimen } from './fhir-types.js';
import { BARCODE_SYSTEM, SNOMED, SPECIMEN_TYPE_CODES } from './codes.js';
import { annotation, codeableConcept, dateTime, identifier, reference, resourceBase } from './datatypes.js';
import { asObject, asString, checkCoding, singleIdentifier, type Problem } from './rules.js';

/** Barcode values: 6–20 uppercase letters and digits. */
export const BARCODE_PATTERN = /^[A-Z0-9]{6,20}$/;
export const SPECIMEN_STATUSES = ['available', 'unavailable', 'unsatisfactory', 'entered-in-error'] as const;

export const specimenSchema = z.strictObject({
  resourceType: z.literal('Specimen'),
  ...resourceBase,
  identifier: z.array(identifier).min(1).max(10),
  accessionIdentifier: identifier.optional(),
  status: z.enum(SPECIMEN_STATUSES).optional(),
  type: codeableConcept,
  subject: reference(['Patient']),
  receivedTime: dateTime.optional(),
  request: z.array(reference(['ServiceRequest'])).min(1).max(20),
  collection: z.strictObject({
    collectedDateTime: dateTime,
    bodySite: codeableConcept.optional(),
    method: codeableConcept.optional(),
  }),
  note: z.array(annotation).max(10).optional(),
});

export function specimenRules(raw: Readonly<Record<string, unknown>>): Problem[] {
  const barcode = singleIdentifier(raw, BARCODE_SYSTEM, 'barcode');
  const problems = [...barcode.problems];
  if (barcode.index !== undefined) {
    const value = asString(asObject((raw.identifier as unknown[])[barcode.index])?.value);
    if (value !== undefined && !BARCODE_PATTERN.test(value)) {
      problems.push({ path: ['identifier', barcode.index, 'value'], message: 'barcode must be 6–20 uppercase letters or digits' });
    }
  }
  problems.push(...checkCoding(raw.type, ['type'], SNOMED, SPECIMEN_TYPE_CODES, 'specimen type').problems);
  return problems;
}

export type SpecimenOut = z.output<typeof specimenSchema>;
const _isSpecimen = (s: SpecimenOut): Specimen => s;
void _isSpecimen;
