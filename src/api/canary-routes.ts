/**
 * The security officer's management of canary patients (issue 4; sentinel/canaries.ts), JSON:
 *
 *   GET    /auth/canaries?tenant=<id>           list: pseudonym, createdAt, createdBy
 *   POST   /auth/canaries {tenant, count}       seed 1..50 (fresh step-up)
 *   DELETE /auth/canaries/:tenant/:pseudonym    stop watching one (fresh step-up)
 *
 * Security officer only; each is audited, and a refusal is audited by the server's error
 * handler like every other. Nothing here reads a canary's records: the list is the canary table.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidInput } from '../kernel/index.js';
import type { Canaries } from '../sentinel/index.js';
import type { CanaryRow } from '../store/index.js';
import type { Caller } from './routes.js';
import { facts } from './routes.js';

export interface CanaryRouteDeps {
  readonly canaries: Canaries;
  /** The server's authentication of a request (credential and DPoP proof). */
  readonly authenticate: (req: FastifyRequest) => Promise<Caller>;
  /** Where the server keeps each request's caller: its error handler audits refusals from it. */
  readonly callers: WeakMap<FastifyRequest, Caller>;
  readonly bodyLimit: number;
}

type Handler = (req: FastifyRequest, reply: FastifyReply, canaries: Canaries, who: Caller) => Promise<unknown>;

const show = (c: CanaryRow) => ({ pseudonym: c.pseudonym, createdAt: c.createdAt, createdBy: c.createdBy });

export const canaryRoutes: readonly { readonly method: 'GET' | 'POST' | 'DELETE'; readonly url: string; readonly handler: Handler }[] = [
  {
    method: 'GET', url: '/auth/canaries',
    handler: async (req, _r, canaries, who) => {
      const tenant = (req.query as { tenant?: unknown } | undefined)?.tenant;
      return { tenant, canaries: (await canaries.list(who.principal, tenant, where(req))).map(show) };
    },
  },
  {
    method: 'POST', url: '/auth/canaries',
    handler: async (req, reply, canaries, who) => {
      const b = body(req);
      const seeded = await canaries.seed(who.principal, b.tenant, b.count, where(req));
      reply.code(201);
      return { tenant: b.tenant, seeded: seeded.map(show) };
    },
  },
  {
    method: 'DELETE', url: '/auth/canaries/:tenant/:pseudonym',
    handler: async (req, _r, canaries, who) => {
      const { tenant, pseudonym } = req.params as { tenant: string; pseudonym: string };
      await canaries.remove(who.principal, tenant, pseudonym, where(req));
      return { removed: true };
    },
  },
];

/** Registers the routes on the server (server.ts, beside the safeguard routes). */
export function registerCanaryRoutes(app: FastifyInstance, d: CanaryRouteDeps): void {
  for (const route of canaryRoutes) {
    app.route({
      method: route.method,
      url: route.url,
      bodyLimit: d.bodyLimit,
      onRequest: async (req: FastifyRequest) => void d.callers.set(req, await d.authenticate(req)),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const out = await route.handler(req, reply, d.canaries, d.callers.get(req)!);
        return reply.type('application/json; charset=utf-8').send(out);
      },
    });
  }
}

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidInput('send a JSON object: {"tenant": "…", "count": n}');
  return b as Record<string, unknown>;
}

const where = (req: FastifyRequest) => {
  const f = facts(req);
  return { ip: f.ip, userAgent: f.userAgent };
};
