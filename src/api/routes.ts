import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Bundle, Resource } from 'fhir/r4.js';
import type { Principal } from '../auth/index.js';
import { invalidInput, notFound } from '../kernel/index.js';
import type { AccessContext, FhirType, Vault } from '../vault/index.js';

/**
 * The table of contents of the HTTP API. Everything needs a principal except the routes
 * marked public (an explicit short list). Handlers are thin: parse, call the vault, format.
 */
export interface RouteDeps {
  readonly vault: Vault;
  readonly baseUrl: string;
  readonly metadata: () => Resource;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly public?: true;
  readonly handler: (req: FastifyRequest, reply: FastifyReply, deps: RouteDeps, who: Caller | null) => Promise<unknown>;
}

export interface Caller {
  readonly principal: Principal;
  readonly context: () => AccessContext;
}

type Params = { type?: string; id?: string; vid?: string };

export const routes: readonly Route[] = [
  { method: 'GET', url: '/healthz', public: true, handler: async () => ({ status: 'ok' }) },
  { method: 'GET', url: '/fhir/metadata', public: true, handler: async (_q, _r, d) => d.metadata() },
  { method: 'POST', url: '/fhir', handler: transaction },
  { method: 'POST', url: '/fhir/:type', handler: create },
  { method: 'GET', url: '/fhir/:type', handler: search },
  { method: 'GET', url: '/fhir/:type/:id', handler: read },
  { method: 'GET', url: '/fhir/:type/:id/_history/:vid', handler: read },
  { method: 'PUT', url: '/fhir/:type/:id', handler: update },
];

const TYPES = new Set<string>(['Patient', 'Organization', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport', 'AuditEvent']);

function typeOf(req: FastifyRequest): FhirType {
  const { type } = req.params as Params;
  if (!type || !TYPES.has(type)) throw notFound(`labkluis does not serve '${type ?? ''}'`);
  return type as FhirType;
}

async function transaction(req: FastifyRequest, reply: FastifyReply, d: RouteDeps, who: Caller | null) {
  const bundle = await d.vault.transaction(who!.context(), req.body);
  reply.code(200);
  return bundle;
}

async function create(req: FastifyRequest, reply: FastifyReply, d: RouteDeps, who: Caller | null) {
  const type = typeOf(req);
  const result = type === 'Organization'
    ? await d.vault.createTenant(who!.principal, facts(req), req.body)
    : await d.vault.create(who!.context(), type, req.body);
  reply.code(201).header('location', `${d.baseUrl}/fhir/${result.location}`).header('etag', result.etag).header('last-modified', new Date(result.lastModified).toUTCString());
  if (result.resource) return result.resource;
  reply.code(201);
  return null;
}

async function read(req: FastifyRequest, reply: FastifyReply, d: RouteDeps, who: Caller | null) {
  const type = typeOf(req);
  const { id, vid } = req.params as Params;
  let version: number | undefined;
  if (vid !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(vid)) throw invalidInput('the version id must be a positive number');
    version = Number(vid);
  }
  if (type === 'AuditEvent') throw invalidInput('read AuditEvents with a search: GET /fhir/AuditEvent?…');
  const resource = await d.vault.read(who!.context(), type, id!, version);
  if (resource.meta?.versionId) reply.header('etag', `W/"${resource.meta.versionId}"`);
  return resource;
}

async function update(req: FastifyRequest, _reply: FastifyReply, d: RouteDeps, who: Caller | null) {
  const type = typeOf(req);
  const { id } = req.params as Params;
  const ifMatch = req.headers['if-match'];
  const result = await d.vault.update(who!.context(), type, id!, req.body, typeof ifMatch === 'string' ? ifMatch : undefined);
  _reply.header('etag', result.etag).header('location', `${d.baseUrl}/fhir/${result.location}`);
  return result.resource ?? null;
}

async function search(req: FastifyRequest, _reply: FastifyReply, d: RouteDeps, who: Caller | null): Promise<Bundle> {
  const type = typeOf(req);
  const raw = req.raw.url ?? '';
  const params = new URLSearchParams(raw.includes('?') ? raw.slice(raw.indexOf('?') + 1) : '');
  const page = type === 'AuditEvent'
    ? await d.vault.auditSearch(auditContext(req, d, who!), params).then((p) => ({ resources: p.events, next: p.next }))
    : await d.vault.search(who!.context(), type, params);
  const self = `${d.baseUrl}/fhir/${type}?${params.toString()}`;
  const links: Bundle['link'] = [{ relation: 'self', url: self }];
  if (page.next) {
    const nextParams = new URLSearchParams(params);
    nextParams.set('_cursor', page.next);
    links.push({ relation: 'next', url: `${d.baseUrl}/fhir/${type}?${nextParams.toString()}` });
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    link: links,
    entry: page.resources.map((r) => ({ fullUrl: `${d.baseUrl}/fhir/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' } })),
  };
}

export function facts(req: FastifyRequest) {
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' && v.length > 0 ? v : null;
  };
  return { tenant: header('x-labkluis-tenant'), purposeOfUse: header('x-purpose-of-use'), ip: req.ip, userAgent: header('user-agent') };
}

/** The audit log spans tenants: a security officer who acts for all of them reads all of them. */
function auditContext(req: FastifyRequest, d: RouteDeps, who: Caller): AccessContext {
  const f = facts(req);
  return d.vault.context(who.principal, { ...f, tenant: f.tenant ?? (who.principal.tenants.includes('*') ? '*' : null) });
}
