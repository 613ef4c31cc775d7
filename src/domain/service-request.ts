/** ServiceRequest: an order for one lab test, from a requester (tenant) for a patient. */
import { z } from 'zod';
import type { ServiceRequest } from './fhir-types.js';
import { LOINC, LOINC_CODES } from './codes.js';
import { annotation, codeableConcept, dateTime, identifier, reference, resourceBase } from './datatypes.js';
import { checkCoding, type Problem } from './rules.js';

export const SERVICE_REQUEST_STATUSES = ['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown'] as const;
export const SERVICE_REQUEST_INTENTS = ['proposal', 'plan', 'directive', 'order', 'original-order', 'reflex-order', 'filler-order', 'instance-order', 'option'] as const;

export const serviceRequestSchema = z.strictObject({
  resourceType: z.literal('ServiceRequest'),
  ...resourceBase,
  identifier: z.array(identifier).max(10).optional(),
  basedOn: z.array(reference(['ServiceRequest'])).max(10).optional(),
  status: z.enum(SERVICE_REQUEST_STATUSES),
  intent: z.enum(SERVICE_REQUEST_INTENTS),
  priority: z.enum(['routine', 'urgent', 'asap', 'stat']).optional(),
  code: codeableConcept,
  subject: reference(['Patient']),
  authoredOn: dateTime,
  requester: reference(['Organization', 'Practitioner', 'PractitionerRole']),
  reasonCode: z.array(codeableConcept).max(5).optional(),
  note: z.array(annotation).max(10).optional(),
});

export function serviceRequestRules(raw: Readonly<Record<string, unknown>>): Problem[] {
  return checkCoding(raw.code, ['code'], LOINC, LOINC_CODES, 'orderable LOINC').problems;
}

export type ServiceRequestOut = z.output<typeof serviceRequestSchema>;
const _isServiceRequest = (s: ServiceRequestOut): ServiceRequest => s;
void _isServiceRequest;
