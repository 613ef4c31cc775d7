import type { Resource } from 'fhir/r4.js';
import { invalidResource, isLabkluisError, type Clock } from '../kernel/index.js';
import { validateResource } from '../domain/index.js';

/**
 * A transaction Bundle's entries as write requests, and the validation of one resource with
 * its problems named at its place in the bundle. Pure: no store, no keys.
 */
export interface WriteRequest {
  readonly method: 'POST' | 'PUT';
  readonly type: string;
  readonly id?: string; // PUT only
  readonly resource: unknown;
  readonly fullUrl?: string;
  readonly ifMatch?: string;
  /** Already validated (as part of its bundle); not validated again. */
  readonly validated?: boolean;
}

export function validateAt(resource: unknown, inBundle: boolean, index: number, clock: Clock): Resource {
  try {
    return validateResource(resource, { allowUrnReferences: inBundle, clock }) as Resource;
  } catch (e) {
    if (inBundle && isLabkluisError(e) && e.issues.length > 0) {
      throw invalidResource(`Bundle.entry[${index}].resource: ${e.message}`, e.issues.map((i) => ({
        ...i,
        ...(i.expression ? { expression: `Bundle.entry[${index}].resource.${i.expression}` } : {}),
      })));
    }
    throw e;
  }
}

export function bundleRequests(bundle: unknown): WriteRequest[] {
  const b = bundle as { resourceType?: unknown; type?: unknown; entry?: unknown };
  if (!b || typeof b !== 'object' || b.resourceType !== 'Bundle') throw invalidResource('expected a Bundle', [{ expression: 'Bundle.resourceType', diagnostics: 'must be Bundle' }]);
  if (b.type !== 'transaction') throw invalidResource("only Bundle.type 'transaction' is accepted here", [{ expression: 'Bundle.type', diagnostics: 'must be transaction' }]);
  if (!Array.isArray(b.entry)) throw invalidResource('Bundle.entry is missing', [{ expression: 'Bundle.entry', diagnostics: 'required' }]);
  return b.entry.map((raw: unknown, i: number): WriteRequest => {
    const e = raw as { fullUrl?: unknown; resource?: unknown; request?: { method?: unknown; url?: unknown; ifMatch?: unknown } };
    const at = `Bundle.entry[${i}]`;
    const method = e?.request?.method;
    const url = e?.request?.url;
    if (method !== 'POST' && method !== 'PUT') throw invalidResource(`${at}.request.method must be POST or PUT`, [{ expression: `${at}.request.method`, diagnostics: 'POST or PUT' }]);
    if (typeof url !== 'string') throw invalidResource(`${at}.request.url is missing`, [{ expression: `${at}.request.url`, diagnostics: 'required' }]);
    const [type, id, ...rest] = url.split('/');
    if (!type || rest.length > 0 || (method === 'POST') !== (id === undefined)) {
      throw invalidResource(`${at}.request.url must be 'Type' for POST or 'Type/id' for PUT`, [{ expression: `${at}.request.url`, diagnostics: 'malformed' }]);
    }
    if (e.fullUrl !== undefined && (typeof e.fullUrl !== 'string' || !/^urn:uuid:[0-9a-f-]{36}$/i.test(e.fullUrl))) {
      throw invalidResource(`${at}.fullUrl must be a urn:uuid`, [{ expression: `${at}.fullUrl`, diagnostics: 'malformed' }]);
    }
    return {
      method,
      type,
      ...(id ? { id } : {}),
      resource: e.resource,
      ...(typeof e.fullUrl === 'string' ? { fullUrl: e.fullUrl } : {}),
      ...(e.request?.ifMatch === undefined ? {} : { ifMatch: ifMatchOf(e.request.ifMatch, at) }),
    };
  });
}

function ifMatchOf(value: unknown, at: string): string {
  if (typeof value !== 'string') throw invalidResource(`${at}.request.ifMatch must be a string such as W/"1"`, [{ expression: `${at}.request.ifMatch`, diagnostics: 'not a string' }]);
  return value;
}
