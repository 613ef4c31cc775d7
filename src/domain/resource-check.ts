/**
 * Structural (zod) and semantic (rules) checks of one resource, collected together so that
 * every problem is reported with its path. Used for single resources and for bundle entries.
 */
import type { z } from 'zod';
import type { DiagnosticReport, Observation, Organization, Patient, ServiceRequest, Specimen } from './fhir-types.js';
import { diagnosticReportRules, diagnosticReportSchema } from './diagnostic-report.js';
import { observationRules, observationSchema } from './observation.js';
import { organizationRules, organizationSchema } from './organization.js';
import { patientRules, patientSchema } from './patient.js';
import { listReferences, URN_UUID_PATTERN } from './references.js';
import { asObject, type Problem, type RuleContext } from './rules.js';
import { serviceRequestRules, serviceRequestSchema } from './service-request.js';
import { specimenRules, specimenSchema } from './specimen.js';

export type LabResource = Patient | Organization | ServiceRequest | Specimen | Observation | DiagnosticReport;
export type LabResourceType = LabResource['resourceType'];

interface Kind {
  readonly schema: z.ZodType;
  readonly rules: (raw: Readonly<Record<string, unknown>>, ctx: RuleContext) => Problem[];
}

const KINDS: Readonly<Record<LabResourceType, Kind>> = Object.freeze({
  Patient: { schema: patientSchema, rules: patientRules },
  Organization: { schema: organizationSchema, rules: organizationRules },
  ServiceRequest: { schema: serviceRequestSchema, rules: serviceRequestRules },
  Specimen: { schema: specimenSchema, rules: specimenRules },
  Observation: { schema: observationSchema, rules: observationRules },
  DiagnosticReport: { schema: diagnosticReportSchema, rules: diagnosticReportRules },
});

export const LAB_RESOURCE_TYPES: readonly LabResourceType[] = Object.freeze(Object.keys(KINDS) as LabResourceType[]);

export function isLabResourceType(value: unknown): value is LabResourceType {
  return typeof value === 'string' && Object.hasOwn(KINDS, value);
}

/** zod issues as problems; an unknown element becomes one problem per element. */
export function zodProblems(error: z.ZodError): Problem[] {
  const out: Problem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown element' });
    } else if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
      out.push({ path, message: 'is required' });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

export interface Checked<T> {
  readonly value?: T;
  readonly problems: readonly Problem[];
}

/**
 * Checks one non-Bundle resource. urn:uuid references are refused unless `allowUrn` (the
 * resource sits in a transaction Bundle, whose check resolves them).
 */
export function checkLabResource(json: unknown, ctx: RuleContext, allowUrn: boolean): Checked<LabResource> {
  const raw = asObject(json);
  if (raw === undefined) return { problems: [{ path: [], message: 'must be a JSON object' }] };
  const type = raw.resourceType;
  if (!isLabResourceType(type)) {
    return { problems: [{ path: ['resourceType'], message: `must be one of ${LAB_RESOURCE_TYPES.join(', ')}` }] };
  }
  const kind = KINDS[type];
  const parsed = kind.schema.safeParse(raw);
  const problems: Problem[] = parsed.success ? [] : zodProblems(parsed.error);
  problems.push(...kind.rules(raw, ctx));
  if (!allowUrn) {
    for (const ref of listReferences(raw)) {
      if (URN_UUID_PATTERN.test(ref.reference)) {
        problems.push({ path: [...ref.segments, 'reference'], message: 'urn:uuid references are allowed only inside a transaction Bundle' });
      }
    }
  }
  return problems.length === 0 && parsed.success ? { value: parsed.data as LabResource, problems } : { problems };
}
