/**
 * Routes for bulk export as a four-eyes job (JSON; the download is the age file itself):
 *
 *   POST /export/jobs                  request       (requester, admin; fresh step-up)  → 201 job
 *   GET  /export/jobs                  list          (requester, admin, security officer)
 *   GET  /export/jobs/:id              one job, with the requester's reason
 *   POST /export/jobs/:id/approve      approve + run (a second person; fresh step-up)   → 202 job
 *   POST /export/jobs/:id/reject       reject        (a second person)
 *   POST /export/jobs/:id/cancel       cancel        (the requester, a security officer)
 *   GET  /export/jobs/:id/download     the age file, once (the requester; fresh step-up)
 *
 * Every route needs a principal; refusals are OperationOutcomes from the server's one error
 * handler, which also records them in the audit log.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExportService } from '../export/index.js';
import { invalidInput } from '../kernel/index.js';
import type { Caller } from './routes.js';
import { facts } from './routes.js';

export interface ExportRouteDeps {
  readonly exports: ExportService;
  readonly bodyLimit: number;
  /** Authenticates the request and remembers its caller for the error handler (server.ts). */
  readonly authenticate: (req: FastifyRequest) => Promise<void>;
  readonly caller: (req: FastifyRequest) => Caller;
}

type Handler = (req: FastifyRequest, reply: FastifyReply, exports: ExportService, who: Caller) => Promise<unknown>;

const ROUTES: readonly { method: 'GET' | 'POST'; url: string; handler: Handler }[] = [
  {
    method: 'POST', url: '/export/jobs',
    handler: async (req, reply, x, who) => {
      const job = await x.request(who.principal, body(req), where(req));
      reply.code(201);
      return job;
    },
  },
  { method: 'GET', url: '/export/jobs', handler: async (_req, _r, x, who) => ({ jobs: await x.list(who.principal) }) },
  { method: 'GET', url: '/export/jobs/:id', handler: async (req, _r, x, who) => x.get(who.principal, param(req)) },
  {
    method: 'POST', url: '/export/jobs/:id/approve',
    handler: async (req, reply, x, who) => {
      const job = await x.approve(who.principal, param(req), where(req));
      reply.code(202); // approved; the run goes on: GET the job until it is ready
      return job;
    },
  },
  { method: 'POST', url: '/export/jobs/:id/reject', handler: async (req, _r, x, who) => x.reject(who.principal, param(req), where(req)) },
  { method: 'POST', url: '/export/jobs/:id/cancel', handler: async (req, _r, x, who) => x.cancel(who.principal, param(req), where(req)) },
];

export function registerExportRoutes(app: FastifyInstance, deps: ExportRouteDeps): void {
  for (const route of ROUTES) {
    app.route({
      method: route.method, url: route.url, bodyLimit: deps.bodyLimit, onRequest: deps.authenticate,
      handler: async (req, reply) => {
        const out = await route.handler(req, reply, deps.exports, deps.caller(req));
        return reply.type('application/json; charset=utf-8').send(out);
      },
    });
  }
  app.route({
    method: 'GET', url: '/export/jobs/:id/download', onRequest: deps.authenticate,
    handler: async (req, reply) => {
      const file = await deps.exports.download(deps.caller(req).principal, param(req), where(req));
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('content-length', String(file.bytes))
        .header('x-labkluis-export-sha256', file.sha256)
        .send(Readable.from(file.body));
    },
  });
}

function body(req: FastifyRequest): unknown {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidInput('send a JSON object');
  return b;
}

const param = (req: FastifyRequest): string => (req.params as { id: string }).id;

const where = (req: FastifyRequest) => {
  const f = facts(req);
  return { ip: f.ip, userAgent: f.userAgent };
};
