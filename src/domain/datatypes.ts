/**
 * Zod schemas for the FHIR R4 datatypes labkluis accepts. Every object is strict: an unknown
 * element is an error, not something silently dropped. Extensions, contained resources and
 * narrative (text) are not accepted: they are where unchecked content would hide.
 */
import { z } from 'zod';
import { isFhirDate, isFhirDateTime, isFhirInstant } from './fhir-time.js';
import { ID_PATTERN, parseReference } from './references.js';

// FHIR strings SHOULD NOT hold control characters other than tab, CR and LF.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** A non-empty FHIR string of at most `max` characters. */
export const str = (max = 1024) =>
  z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters');

export const fhirId = z.string().regex(ID_PATTERN, 'must be a FHIR id (1–64 of A–Z a–z 0–9 - .)');
export const uri = z.string().min(1).max(1024).regex(/^\S+$/, 'must be a URI without whitespace');
export const code = z.string().max(256).regex(/^[^\s]+( [^\s]+)*$/, 'must be a FHIR code');
export const date = z.string().refine(isFhirDate, 'must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)');
export const dateTime = z.string().refine(isFhirDateTime, 'must be a FHIR dateTime (a date, or date and time with seconds and zone)');
export const instant = z.string().refine(isFhirInstant, 'must be a FHIR instant (date and time with seconds and zone)');

export const coding = z.strictObject({
  system: uri,
  version: str(64).optional(),
  code,
  display: str(512).optional(),
  userSelected: z.boolean().optional(),
});

export const codeableConcept = z.strictObject({
  coding: z.array(coding).min(1).max(10).optional(),
  text: str(1024).optional(),
});

export const identifier = z.strictObject({
  use: z.enum(['usual', 'official', 'temp', 'secondary', 'old']).optional(),
  type: codeableConcept.optional(),
  system: uri,
  value: str(256),
});

/**
 * A Reference to one of `types`, as 'Type/id', or as 'urn:uuid:…' (which validate.ts allows
 * only inside a transaction Bundle, where the target type is checked against the entry).
 */
export function reference<const T extends readonly string[]>(types: T) {
  const expected = types.map((t) => `${t}/<id>`).join(' or ');
  const target = z.string().refine((r) => {
    const parsed = parseReference(r);
    return parsed !== undefined && (parsed.kind === 'urn' || types.includes(parsed.type));
  }, `must be ${expected} (or urn:uuid: inside a transaction bundle)`);
  // A reference that may point at a person carries no display: a name there would reach the
  // roles that see pseudonyms only.
  return types.includes('Patient')
    ? z.strictObject({ reference: target })
    : z.strictObject({ reference: target, display: str(256).optional() });
}

export const meta = z.strictObject({
  versionId: fhirId.optional(),
  lastUpdated: instant.optional(),
  source: uri.optional(),
  profile: z.array(uri).max(10).optional(),
  security: z.array(coding).max(20).optional(),
  tag: z.array(coding).max(20).optional(),
});

export const annotation = z.strictObject({
  authorString: str(256).optional(),
  time: dateTime.optional(),
  text: str(10_000),
});

export const humanName = z.strictObject({
  use: z.enum(['usual', 'official', 'temp', 'nickname', 'anonymous', 'old', 'maiden']).optional(),
  text: str(256).optional(),
  family: str(128).optional(),
  given: z.array(str(128)).max(10).optional(),
  prefix: z.array(str(64)).max(5).optional(),
  suffix: z.array(str(64)).max(5).optional(),
});

export const address = z.strictObject({
  use: z.enum(['home', 'work', 'temp', 'old', 'billing']).optional(),
  type: z.enum(['postal', 'physical', 'both']).optional(),
  text: str(512).optional(),
  line: z.array(str(256)).max(5).optional(),
  city: str(128).optional(),
  district: str(128).optional(),
  state: str(128).optional(),
  postalCode: str(16).optional(),
  country: str(64).optional(),
});

export const contactPoint = z.strictObject({
  system: z.enum(['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other']),
  value: str(256),
  use: z.enum(['home', 'work', 'temp', 'old', 'mobile']).optional(),
  rank: z.number().int().positive().optional(),
});

/** Elements every labkluis resource may carry. */
export const resourceBase = {
  id: fhirId.optional(),
  meta: meta.optional(),
  language: code.optional(),
};
