/**
 * Transaction Bundles (FHIR R4 §3.1.0.11): the only Bundle labkluis accepts for writes.
 * Entries carry urn:uuid fullUrls; references between entries use them and are resolved to
 * server-assigned ids on commit (see resolveBundleReferences).
 */
import { z } from 'zod';
import type { Bundle } from './fhir-types.js';
import { resourceBase, str } from './datatypes.js';
import { copyJson } from './json-copy.js';
import { ID_PATTERN, listReferences, rewriteReferencesUndoably, URN_UUID_PATTERN, type Path } from './references.js';
import { checkLabResource, zodProblems, type Checked } from './resource-check.js';
import { asArray, asObject, asString, type Problem, type RuleContext } from './rules.js';

export const MAX_BUNDLE_ENTRIES = 1000;

export const bundleSchema = z.strictObject({
  resourceType: z.literal('Bundle'),
  ...resourceBase,
  type: z.literal('transaction', 'must be transaction (the only Bundle type accepted for writes)'),
  entry: z.array(z.strictObject({
    fullUrl: z.string().regex(URN_UUID_PATTERN, 'must be urn:uuid:<lowercase uuid>'),
    resource: z.unknown(),
    request: z.strictObject({
      method: z.enum(['POST', 'PUT'], 'must be POST or PUT'),
      url: str(256),
    }),
  })).min(1, 'must have at least one entry').max(MAX_BUNDLE_ENTRIES, `must have at most ${MAX_BUNDLE_ENTRIES} entries`),
});

const under = (prefix: Path, problems: readonly Problem[]): Problem[] => problems.map((p) => ({ path: [...prefix, ...p.path], message: p.message }));

export function checkBundle(json: unknown, ctx: RuleContext): Checked<Bundle> {
  const raw = asObject(json);
  if (raw === undefined) return { problems: [{ path: [], message: 'must be a JSON object' }] };
  const parsed = bundleSchema.safeParse(raw);
  const problems: Problem[] = parsed.success ? [] : zodProblems(parsed.error);
  const entries = asArray(raw.entry);
  if (entries.length > MAX_BUNDLE_ENTRIES) return { problems }; // too big to look inside

  // fullUrl → resourceType of that entry; duplicates refused.
  const targets = new Map<string, string>();
  entries.forEach((e, i) => {
    const entry = asObject(e);
    const fullUrl = asString(entry?.fullUrl);
    if (fullUrl === undefined) return;
    if (targets.has(fullUrl)) problems.push({ path: ['entry', i, 'fullUrl'], message: 'duplicates the fullUrl of an earlier entry' });
    else targets.set(fullUrl, asString(asObject(entry?.resource)?.resourceType) ?? '');
  });

  // One copy of the whole bundle: entries are checked on it (references swapped for typed
  // placeholders and back) and it is the value returned, so the caller may change it freely.
  const copy = copyJson(raw);
  const copies = asArray(copy.entry);
  entries.forEach((_, i) => {
    const entry = asObject(copies[i]);
    if (entry === undefined) return;
    const resource = asObject(entry.resource);
    const prefix = ['entry', i, 'resource'];
    if (resource === undefined) {
      problems.push({ path: prefix, message: entry.resource === undefined ? 'is required' : 'must be a JSON object' });
      return;
    }
    if (resource.resourceType === 'Bundle') {
      problems.push({ path: [...prefix, 'resourceType'], message: 'bundles cannot be nested' });
      return;
    }
    // References to other entries: they must resolve, and the target's type must be one the
    // element accepts. Checked by substituting 'Type/placeholder' and letting the schema judge.
    for (const ref of listReferences(resource)) {
      if (URN_UUID_PATTERN.test(ref.reference) && !targets.has(ref.reference)) {
        problems.push({ path: [...prefix, ...ref.segments, 'reference'], message: 'refers to a fullUrl that is not in this bundle' });
      }
    }
    const restore = rewriteReferencesUndoably(resource, (r) => (targets.get(r) ? `${targets.get(r)}/placeholder` : undefined));
    try {
      problems.push(...under(prefix, checkLabResource(resource, ctx, true).problems));
    } finally {
      restore();
    }
    problems.push(...requestProblems(asObject(entry.request), resource, i));
  });
  return problems.length === 0 ? { value: copy as unknown as Bundle, problems } : { problems };
}

/** POST url names the type (the server assigns the id); PUT url is 'Type/id' of this resource. */
function requestProblems(request: Readonly<Record<string, unknown>> | undefined, resource: Readonly<Record<string, unknown>>, i: number): Problem[] {
  const method = request?.method;
  const url = asString(request?.url);
  const type = asString(resource.resourceType);
  if (url === undefined || type === undefined) return [];
  const path = ['entry', i, 'request', 'url'];
  if (method === 'POST') {
    const out: Problem[] = url === type ? [] : [{ path, message: 'must be the resource type for POST' }];
    if (resource.id !== undefined) out.push({ path: ['entry', i, 'resource', 'id'], message: 'must be absent on POST: the server assigns ids' });
    return out;
  }
  if (method === 'PUT') {
    const [urlType, urlId, ...rest] = url.split('/');
    if (urlType !== type || urlId === undefined || !ID_PATTERN.test(urlId) || rest.length > 0) return [{ path, message: 'must be Type/id of the resource for PUT' }];
    if (resource.id !== undefined && resource.id !== urlId) return [{ path: ['entry', i, 'resource', 'id'], message: 'must match the id in request.url' }];
  }
  return [];
}
