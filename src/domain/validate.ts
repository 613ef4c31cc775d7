/**
 * validateResource: the one entry point for checking FHIR input. Returns the typed resource,
 * or throws ERR_INVALID_RESOURCE whose issues name every problem with its FHIRPath-like
 * location ('Patient.identifier[0].value'). Messages never echo values: they may be logged.
 */
import { invalidResource, systemClock, type Clock, type Issue } from '../kernel/index.js';
import { checkBundle } from './bundle.js';
import type { Bundle } from './fhir-types.js';
import { civilDate } from './fhir-time.js';
import { formatPath } from './references.js';
import { checkLabResource, isLabResourceType, type LabResource } from './resource-check.js';
import { asObject, type Problem } from './rules.js';

export type ValidatedResource = LabResource | Bundle;

export interface ValidateOptions {
  /** Source of "today" (birthDate may not lie after it). Pass the injected clock; defaults to the system clock. */
  readonly clock?: Clock;
  /** Allow urn:uuid references: only for a resource taken from a transaction Bundle entry. */
  readonly allowUrnReferences?: boolean;
}

/** At most this many issues are returned; a 1000-entry bundle could otherwise produce megabytes. */
export const MAX_ISSUES = 200;

export function validateResource(json: unknown, options: ValidateOptions = {}): ValidatedResource {
  checkDepth(json);
  const ctx = { today: civilDate((options.clock ?? systemClock).now()) };
  const type = asObject(json)?.resourceType;
  const allowUrn = options.allowUrnReferences ?? false;
  if (type === 'Bundle' && allowUrn) {
    throw invalidResource('Bundle is invalid', [{ expression: 'Bundle', diagnostics: 'bundles cannot be nested' }]);
  }
  const checked = type === 'Bundle' ? checkBundle(json, ctx) : checkLabResource(json, ctx, allowUrn);
  if (checked.value !== undefined) return checked.value;
  const root = type === 'Bundle' || isLabResourceType(type) ? type : '';
  const issues = toIssues(root, checked.problems);
  throw invalidResource(`${root || 'resource'} is invalid: ${checked.problems.length} problem(s)`, issues);
}

function toIssues(root: string, problems: readonly Problem[]): Issue[] {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const p of problems) {
    const expression = formatPath(root, p.path) || root || 'resource';
    const key = `${expression}\u0000${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ expression, diagnostics: p.message });
  }
  if (issues.length <= MAX_ISSUES) return issues;
  return [...issues.slice(0, MAX_ISSUES), { diagnostics: `${issues.length - MAX_ISSUES} more problem(s) not listed` }];
}

/** FHIR resources are shallow; a deeply nested document is refused before anything recurses into it. */
export const MAX_DEPTH = 32;
function checkDepth(json: unknown): void {
  const stack: [unknown, number][] = [[json, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_DEPTH) throw invalidResource(`nested more than ${MAX_DEPTH} levels deep`, [{ expression: 'resource', diagnostics: 'nested too deeply' }]);
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
}
