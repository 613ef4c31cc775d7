/**
 * Patient: the identity part. Stored apart from clinical data under a random pseudonym,
 * which is Patient.id. A BSN is required and must pass the 11-check.
 */
import { z } from 'zod';
import type { Patient } from './fhir-types.js';
import { BSN_SYSTEM, isValidBsn } from './bsn.js';
import { address, contactPoint, date, humanName, identifier, reference, resourceBase } from './datatypes.js';
import { dateAfter } from './fhir-time.js';
import { asArray, asObject, asString, singleIdentifier, type Problem, type RuleContext } from './rules.js';

export const patientSchema = z.strictObject({
  resourceType: z.literal('Patient'),
  ...resourceBase,
  identifier: z.array(identifier).min(1).max(10),
  active: z.boolean().optional(),
  name: z.array(humanName).min(1).max(5),
  telecom: z.array(contactPoint).max(10).optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
  birthDate: date,
  deceasedBoolean: z.boolean().optional(),
  address: z.array(address).max(5).optional(),
  generalPractitioner: z.array(reference(['Organization', 'Practitioner', 'PractitionerRole'])).max(5).optional(),
  managingOrganization: reference(['Organization']).optional(),
});

export function patientRules(raw: Readonly<Record<string, unknown>>, ctx: RuleContext): Problem[] {
  const bsn = singleIdentifier(raw, BSN_SYSTEM, 'BSN');
  const problems = [...bsn.problems];
  if (bsn.index !== undefined) {
    const value = asString(asObject((raw.identifier as unknown[])[bsn.index])?.value);
    // The value itself is never echoed: error messages may end up in logs.
    if (value !== undefined && !isValidBsn(value)) {
      problems.push({ path: ['identifier', bsn.index, 'value'], message: 'BSN must be 9 digits and pass the 11-check' });
    }
  }
  const birthDate = asString(raw.birthDate);
  if (birthDate !== undefined && dateAfter(birthDate, ctx.today)) {
    problems.push({ path: ['birthDate'], message: 'must not be in the future' });
  }
  asArray(raw.name).forEach((n, i) => {
    const name = asObject(n);
    if (name && name.family === undefined && name.text === undefined) problems.push({ path: ['name', i], message: 'must have a family name or text' });
  });
  return problems;
}

// Compile-time proof that what the schema accepts is a FHIR R4 Patient.
export type PatientOut = z.output<typeof patientSchema>;
const _isPatient = (p: PatientOut): Patient => p;
void _isPatient;
