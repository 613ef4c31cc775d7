/**
 * Semantic rules run beside the structural zod schemas. They read the raw input defensively
 * (it may be malformed), so a resource with both a shape error and a rule violation reports
 * both: validation names every problem, not only the first layer of them.
 */
import type { Path } from './references.js';

export interface Problem {
  readonly path: Path;
  readonly message: string;
}

export interface RuleContext {
  /** Today's civil date (YYYY-MM-DD, Europe/Amsterdam) from the injected clock. */
  readonly today: string;
}

export type Rules = (raw: Readonly<Record<string, unknown>>, ctx: RuleContext) => Problem[];

export function asObject(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export function asArray(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export interface CodingCheck {
  readonly problems: Problem[];
  /** The accepted code, when exactly one coding of the system was found and it is allowed. */
  readonly code?: string;
}

/**
 * A CodeableConcept must hold exactly one coding of `system`, whose code is in `allowed`.
 * Codes are not echoed in messages: together with a patient they can be clinical data.
 */
export function checkCoding(cc: unknown, path: Path, system: string, allowed: readonly string[] | RegExp, what: string): CodingCheck {
  const concept = asObject(cc);
  if (concept === undefined) return { problems: [] }; // absence and shape are the schema's concern
  const codings = asArray(concept.coding)
    .map((c, i) => ({ c: asObject(c), i }))
    .filter((x) => x.c !== undefined && x.c.system === system);
  if (codings.length === 0) return { problems: [{ path: [...path, 'coding'], message: `must contain a coding with system ${system}` }] };
  if (codings.length > 1) return { problems: [{ path: [...path, 'coding'], message: `must contain only one coding with system ${system}` }] };
  const { c, i } = codings[0]!;
  const value = asString(c?.code);
  if (value === undefined) return { problems: [] };
  const ok = Array.isArray(allowed) ? allowed.includes(value) : (allowed as RegExp).test(value);
  if (!ok) return { problems: [{ path: [...path, 'coding', i, 'code'], message: `is not one of the accepted ${what} codes` }] };
  return { problems: [], code: value };
}

/** Index of the identifiers with `system`, and a problem if there is not exactly one. */
export function singleIdentifier(raw: Readonly<Record<string, unknown>>, system: string, what: string): { index?: number; problems: Problem[] } {
  const hits = asArray(raw.identifier)
    .map((x, i) => ({ x: asObject(x), i }))
    .filter((h) => h.x?.system === system);
  if (hits.length === 0) return { problems: [{ path: ['identifier'], message: `a ${what} identifier (system ${system}) is required` }] };
  if (hits.length > 1) return { problems: [{ path: ['identifier', hits[1]!.i], message: `only one ${what} identifier is allowed` }] };
  return { index: hits[0]!.i, problems: [] };
}
