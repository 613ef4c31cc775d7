/**
 * Organization: a tenant (GP practice, hospital, screening organisation, lab). Identified by
 * its AGB code (Vektis AGB-Z, 8 digits).
 */
import { z } from 'zod';
import type { Organization } from './fhir-types.js';
import { AGB_SYSTEM, ORGANIZATION_KIND_SYSTEM, ORGANIZATION_KINDS } from './codes.js';
import { address, codeableConcept, contactPoint, identifier, resourceBase, str } from './datatypes.js';
import { asArray, asObject, asString, checkCoding, singleIdentifier, type Problem } from './rules.js';

export const AGB_PATTERN = /^[0-9]{8}$/;

export const organizationSchema = z.strictObject({
  resourceType: z.literal('Organization'),
  ...resourceBase,
  identifier: z.array(identifier).min(1).max(10),
  active: z.boolean().optional(),
  type: z.array(codeableConcept).min(1).max(5),
  name: str(256),
  alias: z.array(str(256)).max(5).optional(),
  telecom: z.array(contactPoint).max(10).optional(),
  address: z.array(address).max(5).optional(),
});

export function organizationRules(raw: Readonly<Record<string, unknown>>): Problem[] {
  const agb = singleIdentifier(raw, AGB_SYSTEM, 'AGB');
  const problems = [...agb.problems];
  if (agb.index !== undefined) {
    const value = asString(asObject((raw.identifier as unknown[])[agb.index])?.value);
    if (value !== undefined && !AGB_PATTERN.test(value)) {
      problems.push({ path: ['identifier', agb.index, 'value'], message: 'AGB code must be 8 digits' });
    }
  }
  // The first type says what kind of tenant this is.
  const [first] = asArray(raw.type);
  if (first !== undefined) problems.push(...checkCoding(first, ['type', 0], ORGANIZATION_KIND_SYSTEM, ORGANIZATION_KINDS, 'organization kind').problems);
  return problems;
}

export type OrganizationOut = z.output<typeof organizationSchema>;
const _isOrganization = (o: OrganizationOut): Organization => o;
void _isOrganization;
