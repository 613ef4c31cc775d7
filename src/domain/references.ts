/**
 * FHIR references as labkluis accepts them: relative literal references 'Type/id', and
 * 'urn:uuid:<uuid>' pointing at another entry's fullUrl inside a transaction Bundle
 * (FHIR R4 §3.1.0.4, Bundle.entry.fullUrl resolution). Absolute URLs and versioned
 * references are refused.
 */
import { invalidResource, type Issue } from '../kernel/index.js';

export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
const TYPE_PATTERN = /^[A-Z][A-Za-z]{1,63}$/;
export const URN_UUID_PATTERN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type ParsedReference =
  | { readonly kind: 'literal'; readonly type: string; readonly id: string }
  | { readonly kind: 'urn'; readonly urn: string };

export function parseReference(reference: string): ParsedReference | undefined {
  if (URN_UUID_PATTERN.test(reference)) return { kind: 'urn', urn: reference };
  const slash = reference.indexOf('/');
  if (slash < 0) return undefined;
  const type = reference.slice(0, slash);
  const id = reference.slice(slash + 1);
  if (!TYPE_PATTERN.test(type) || !ID_PATTERN.test(id)) return undefined;
  return { kind: 'literal', type, id };
}

export function formatReference(type: string, id: string): string {
  return `${type}/${id}`;
}

/** The id in a 'Type/id' reference of the given type, or undefined. */
export function referencedId(reference: string | undefined, type: string): string | undefined {
  if (reference === undefined) return undefined;
  const parsed = parseReference(reference);
  return parsed?.kind === 'literal' && parsed.type === type ? parsed.id : undefined;
}

export type Path = readonly (string | number)[];

export interface FoundReference {
  /** FHIRPath-like location of the Reference element, e.g. 'DiagnosticReport.result[1]'. */
  readonly path: string;
  /** The same location as segments below the resource, e.g. ['result', 1]. */
  readonly segments: Path;
  readonly reference: string;
}

/** FHIRPath-like rendering: formatPath('Patient', ['identifier', 0, 'value']) → 'Patient.identifier[0].value'. */
export function formatPath(root: string, path: Path): string {
  let out = root;
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every Reference (an object with a string `reference`) anywhere in a resource. */
export function listReferences(resource: unknown): FoundReference[] {
  const root = isObject(resource) && typeof resource.resourceType === 'string' ? resource.resourceType : '';
  const found: FoundReference[] = [];
  const walk = (node: unknown, segments: (string | number)[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, [...segments, i]));
    } else if (isObject(node)) {
      if (typeof node.reference === 'string') found.push({ path: formatPath(root, segments), segments, reference: node.reference });
      for (const [key, value] of Object.entries(node)) if (typeof value === 'object') walk(value, [...segments, key]);
    }
  };
  walk(resource, []);
  return found;
}

export type ReferenceMapping = ReadonlyMap<string, string> | ((reference: string) => string | undefined);

/**
 * Rewrites, in place, every reference that `mapping` knows (a Map from old to new reference,
 * or a function returning the new one or undefined). The caller owns the resource (typically
 * just parsed from a request body); use structuredClone first to keep the original.
 * Returns how many references changed.
 */
export function rewriteReferences(resource: unknown, mapping: ReferenceMapping): number {
  return swapReferences(resource, mapping).length;
}

/**
 * rewriteReferences that remembers what it changed: calling the returned undo puts every
 * original reference back. Lets a check run on a resource with its references substituted
 * without copying the resource first.
 */
export function rewriteReferencesUndoably(resource: unknown, mapping: ReferenceMapping): () => void {
  const swapped = swapReferences(resource, mapping);
  return () => {
    for (const [node, original] of swapped) node.reference = original;
  };
}

function swapReferences(resource: unknown, mapping: ReferenceMapping): [Record<string, unknown>, string][] {
  const lookup = typeof mapping === 'function' ? mapping : (r: string) => mapping.get(r);
  const swapped: [Record<string, unknown>, string][] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
    } else if (isObject(node)) {
      if (typeof node.reference === 'string') {
        const next = lookup(node.reference);
        if (next !== undefined && next !== node.reference) {
          swapped.push([node, node.reference]);
          node.reference = next;
        }
      }
      for (const key in node) {
        const value = node[key];
        if (typeof value === 'object' && value !== null) walk(value);
      }
    }
  };
  walk(resource);
  return swapped;
}

/**
 * Resolves urn:uuid references inside a transaction bundle to server-assigned ids.
 * `assigned` maps each entry's fullUrl to its 'Type/id'. Returns the rewritten resources in
 * entry order (copies; the bundle is not changed); any urn:uuid left unresolved is refused
 * with its path.
 */
export function resolveBundleReferences<R>(bundle: { readonly entry?: readonly { readonly resource?: R }[] }, assigned: ReadonlyMap<string, string>): R[] {
  const issues: Issue[] = [];
  const out = (bundle.entry ?? []).map((entry, i) => {
    for (const ref of listReferences(entry.resource)) {
      if (URN_UUID_PATTERN.test(ref.reference) && !assigned.has(ref.reference)) {
        issues.push({ expression: formatPath(`Bundle.entry[${i}].resource`, ref.segments) + '.reference', diagnostics: 'reference to a fullUrl that is not in this bundle' });
      }
    }
    const copy = structuredClone(entry.resource) as R;
    rewriteReferences(copy, assigned);
    return copy;
  });
  if (issues.length > 0) throw invalidResource('unresolved references in transaction bundle', issues);
  return out;
}
