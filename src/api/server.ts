import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Principal } from '../auth/index.js';
import { LabkluisError, RateLimitedError } from '../kernel/index.js';
import type { Vault } from '../vault/index.js';
import { capabilityStatement } from './capability.js';
import { outcomeOf, simple } from './outcome.js';
import { registerWebPages } from '../web/index.js';
import { authRoutes, type AuthDeps } from './auth-routes.js';
import { deviceRoutes } from './device-routes.js';
import { AUTH_BODY_LIMIT_BYTES, publicRouteGroup, type PublicRateLimiter } from './rate-limits.js';
import { safeguardRoutes } from './safeguard-routes.js';
import { registerExportRoutes } from './export-routes.js'; // four-eyes bulk export (issue 4)
import type { ExportService } from '../export/index.js';
import { registerCanaryRoutes } from './canary-routes.js';
import { registerBackupRoutes } from './backup-routes.js';
import type { DrillWatch } from '../backup/index.js';
import type { AuditLog } from '../audit/index.js';
import type { Store } from '../store/index.js';
import type { Canaries, Sentinel } from '../sentinel/index.js';
import { facts, routes, type Caller } from './routes.js';

/** What authentication sees of a request: the credential, the proof, and where it came from. */
export interface CredentialRequest {
  readonly authorization: string | undefined;
  readonly dpop: string | readonly string[] | undefined;
  readonly method: string;
  /** The request URL as the client addressed it: the public base URL plus the path and query. */
  readonly url: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface ServerDeps {
  readonly vault: Vault;
  /** Containments, listed and lifted by the security officer. */
  readonly sentinel: Sentinel;
  /** Canary patients, managed by the security officer (canary-routes.ts); none: no such routes. */
  readonly canaries?: Canaries;
  /** Sign-in, sessions and accounts (the /auth routes). */
  readonly auth: Omit<AuthDeps, 'baseUrl'>;
  /** The principal behind a request's credential (API token, or a session token with its DPoP proof). */
  readonly authenticate: (request: CredentialRequest) => Promise<Principal>;
  /** Records a refused credential in the audit log (never the credential itself). */
  readonly onRefusedCredential: (facts: { ip: string; userAgent: string | null }, error: unknown) => Promise<void>;
  readonly logger: Logger;
  readonly baseUrl: string;
  readonly version: string;
  readonly bodyLimitBytes?: number;
  /** Request budgets per client network on the public /auth routes (rate-limits.ts). */
  readonly publicLimiter: PublicRateLimiter;
  /** Body limit on the JSON /auth routes (default 16 KiB); the FHIR routes keep bodyLimitBytes. */
  readonly authBodyLimitBytes?: number;
  /** Four-eyes bulk export jobs (the /export routes); none: those routes are absent. */
  readonly exports?: ExportService;
  /** Restore drills and the audit log's public proofs (backup-routes.ts); none: those routes are absent. */
  readonly backups?: { readonly drills: DrillWatch; readonly audit: AuditLog; readonly store: Store };
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/**
 * The HTTP face. Fastify's own request logging is off: URLs carry search values (a BSN in
 * `identifier=`), so we log the route pattern, status and time only, never the query.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false, // our own line per request below, without the URL's query
    bodyLimit: deps.bodyLimitBytes ?? 32 * 1024 * 1024,
    trustProxy: false,
    return503OnClosing: true,
    // Errors the router raises before any route runs (an over-long path parameter, a bad URL)
    // answer like every other error: an OperationOutcome that does not echo the request.
    frameworkErrors: (error, _req, reply: FastifyReply) => {
      const out = outcomeOf(error);
      void reply.code(out.status).type(FHIR_JSON).send(out.body);
    },
  });
  const log = deps.logger;
  const metadata = capabilityStatement(deps.version, new Date().toISOString().slice(0, 10));
  const callers = new WeakMap<FastifyRequest, Caller>();

  // FHIR JSON and plain JSON share Fastify's parser, which refuses __proto__ (prototype poisoning).
  app.addContentTypeParser(['application/fhir+json'], { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  app.removeContentTypeParser('text/plain'); // FHIR JSON only: anything else is 415

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    log.info({ route: req.routeOptions.url ?? 'unmatched', method: req.method, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      // Authenticate before the body is read: no credential, no parsing of what it sent.
      ...(route.public ? {} : { onRequest: async (req: FastifyRequest) => void callers.set(req, await authenticate(req, deps)) }),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const who = route.public ? null : callers.get(req)!;
        const body = await route.handler(req, reply, { vault: deps.vault, baseUrl: deps.baseUrl, metadata: () => metadata }, who);
        reply.type(FHIR_JSON);
        if (body === null) return reply.send();
        return body;
      },
    });
  }

  // The /auth routes take small JSON bodies: anything larger is a 413 before it is parsed.
  const authBodyLimit = deps.authBodyLimitBytes ?? AUTH_BODY_LIMIT_BYTES;
  for (const route of [...authRoutes, ...deviceRoutes]) {
    const group = publicRouteGroup(route.url);
    app.route({
      method: route.method,
      url: route.url,
      bodyLimit: authBodyLimit,
      // Public routes spend the caller's network's budget first: a refusal reads no body and changes nothing.
      onRequest: route.public
        ? async (req: FastifyRequest) => deps.publicLimiter.take(group, req.ip)
        : async (req: FastifyRequest) => void callers.set(req, await authenticate(req, deps)),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const who = route.public ? null : callers.get(req)!;
        const body = await route.handler(req, reply, { ...deps.auth, baseUrl: deps.baseUrl }, who);
        return reply.type('application/json; charset=utf-8').send(body);
      },
    });
  }

  // Canary patients (issue 4): the security officer's /auth/canaries routes.
  if (deps.canaries) registerCanaryRoutes(app, { canaries: deps.canaries, authenticate: (req) => authenticate(req, deps), callers, bodyLimit: authBodyLimit });
  for (const route of safeguardRoutes) {
    app.route({
      method: route.method,
      url: route.url,
      bodyLimit: authBodyLimit,
      onRequest: async (req: FastifyRequest) => void callers.set(req, await authenticate(req, deps)),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const body = await route.handler(req, reply, { vault: deps.vault, admin: deps.auth.admin, sentinel: deps.sentinel }, callers.get(req)!);
        return reply.type('application/json; charset=utf-8').send(body);
      },
    });
  }

  // Four-eyes bulk export (issue 4): /export/jobs…, authenticated like the routes above.
  if (deps.exports) registerExportRoutes(app, { exports: deps.exports, bodyLimit: authBodyLimit, authenticate: async (req) => void callers.set(req, await authenticate(req, deps)), caller: (req) => callers.get(req)! });

  // Restore drills (issue 5): the audit log's checkpoint and proofs, drill reports and their state.
  if (deps.backups) registerBackupRoutes(app, { ...deps.backups, publicLimiter: deps.publicLimiter, authenticate: (req) => authenticate(req, deps), callers });

  registerWebPages(app, { baseUrl: deps.baseUrl });

  app.setNotFoundHandler(async (_req, reply) => {
    reply.code(404).type(FHIR_JSON);
    return simple('not-found', 'no such route');
  });
  app.setErrorHandler(async (error, req, reply) => {
    const out = outcomeOf(error);
    const who = callers.get(req);
    if (who) {
      // Every refusal of an authenticated principal is in the audit log, also those the vault never saw.
      const type = (req.params as { type?: string } | undefined)?.type;
      const action = req.method === 'GET' ? 'R' : req.method === 'PUT' ? 'U' : req.method === 'POST' ? 'C' : 'E';
      await deps.vault.recordRefusal(who.principal, facts(req), { action, ...(type ? { type } : {}) }, error);
    }
    if (out.status >= 500) log.error({ errorCode: out.errorCode, kind: error instanceof LabkluisError ? 'labkluis' : 'internal' }, 'request failed');
    if (out.status === 401) reply.header('www-authenticate', 'DPoP algs="ES256 EdDSA", Bearer realm="labkluis"');
    if (error instanceof RateLimitedError) reply.header('retry-after', String(error.retryAfterSeconds));
    reply.code(out.status).type(FHIR_JSON);
    return out.body;
  });
  return app;
}

async function authenticate(req: FastifyRequest, deps: ServerDeps): Promise<Caller> {
  const header = req.headers.authorization;
  const f = facts(req);
  let principal: Principal;
  try {
    principal = await deps.authenticate({
      authorization: typeof header === 'string' ? header : undefined, dpop: req.headers.dpop,
      method: req.method, url: `${deps.baseUrl}${req.url}`, ip: f.ip, userAgent: f.userAgent,
    });
  } catch (e) {
    await deps.onRefusedCredential({ ip: f.ip, userAgent: f.userAgent }, e);
    throw e;
  }
  let ctx: ReturnType<Caller['context']> | null = null;
  return {
    principal,
    context: () => (ctx ??= deps.vault.context(principal, facts(req))),
  };
}
