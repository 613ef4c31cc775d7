/**
 * What restore drills (issue 5) need of the production server, and what it shows of them:
 *
 *   GET  /audit/checkpoint                       a signed checkpoint (C2SP note) of the audit log's current head
 *   GET  /audit/consistency?first=<n>&second=<m> RFC 6962 consistency proof between two sizes: {first, second, proof: [base64]}
 *   POST /backup/drills {report}                 a drill's signed report; taken only if it verifies with the drill key
 *   GET  /backup/drills/latest                   the last drill's outcome and the alert state (security officer, admin)
 *
 * The first three answer the restore drill only: the two GETs need the drill key's signature
 * on the request (drill-report.ts: the log's size stays private, and no one else can make this
 * server read its log for a proof), the POST a report signed with it. Each spends the caller's
 * network's 'proofs' budget first; one proof is computed at a time (it reads every leaf hash up
 * to its size). Without a drill key they are not there. The last needs a signed-in officer or admin.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { consistencyProofFor, type AuditLog } from '../audit/index.js';
import type { DrillWatch } from '../backup/index.js';
import { forbidden, invalidInput, LabkluisError, RateLimitedError } from '../kernel/index.js';
import { DRILL_REQUEST_HEADER } from '../backup/index.js';
import type { Store } from '../store/index.js';
import type { PublicRateLimiter } from './rate-limits.js';
import { facts, type Caller } from './routes.js';

export interface BackupRouteDeps {
  readonly drills: DrillWatch;
  readonly audit: AuditLog;
  readonly store: Store;
  readonly publicLimiter: PublicRateLimiter;
  readonly authenticate: (req: FastifyRequest) => Promise<Caller>;
  readonly callers: WeakMap<FastifyRequest, Caller>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** A report is a few KiB; far above it is not one. */
const REPORT_BODY_LIMIT = 64 * 1024;

export function registerBackupRoutes(app: FastifyInstance, d: BackupRouteDeps): void {
  const limited = async (req: FastifyRequest): Promise<void> => d.publicLimiter.take('proofs', req.ip);
  const drillOnly = async (req: FastifyRequest): Promise<void> => {
    d.publicLimiter.take('proofs', req.ip);
    const header = req.headers[DRILL_REQUEST_HEADER];
    d.drills.authorizeRequest(req.method, req.url, typeof header === 'string' ? header : undefined);
  };
  let proving = false;

  // Without a drill key nothing answers the drill: these routes are not there (404).
  if (d.drills.takesReports) {
    app.get('/audit/checkpoint', { onRequest: drillOnly }, async (_req, reply) => {
      const note = (await d.audit.checkpoint())?.note ?? (await d.store.listCheckpoints()).at(-1)?.note;
      if (note === undefined) throw new LabkluisError('ERR_NOT_FOUND', 'the audit log is empty');
      return reply.type('text/plain; charset=utf-8').send(note);
    });

    app.get('/audit/consistency', { onRequest: drillOnly }, async (req, reply) => {
      const q = (req.query ?? {}) as Record<string, unknown>;
      const [first, second] = [size(q.first, 'first'), size(q.second, 'second')];
      if (first < 1 || first > second) throw invalidInput('need 1 <= first <= second');
      const head = await d.store.auditHead();
      if (second > head.size) throw new LabkluisError('ERR_NOT_FOUND', `the audit log has ${head.size} entries`);
      if (proving) throw new RateLimitedError('another consistency proof is being made', 1000);
      proving = true;
      let proof: Buffer[];
      try {
        proof = await consistencyProofFor(d.store, first, second);
      } finally {
        proving = false;
      }
      return reply.type(JSON_TYPE).send({ first, second, proof: proof.map((h) => h.toString('base64')) });
    });

    app.post('/backup/drills', { onRequest: limited, bodyLimit: REPORT_BODY_LIMIT }, async (req, reply) => {
      const report = (req.body as { report?: unknown } | null)?.report;
      if (typeof report !== 'string' || report.length === 0) throw invalidInput('the body is {"report": "<the signed drill report>"}');
      const { ip, userAgent } = facts(req);
      const taken = await d.drills.receive(report, { ip, userAgent });
      return reply.code(201).type(JSON_TYPE).send({ id: taken.id, outcome: taken.outcome, state: taken.status.state });
    });
  }

  app.get('/backup/drills/latest', {
    onRequest: async (req) => void d.callers.set(req, await d.authenticate(req)),
  }, async (req, reply) => {
    const who = d.callers.get(req)!.principal;
    if (who.role !== 'security-officer' && who.role !== 'admin') throw forbidden('only a security officer or an admin sees the restore drills');
    return reply.type(JSON_TYPE).send(await d.drills.status());
  });
}

function size(v: unknown, name: string): number {
  if (typeof v !== 'string' || !/^[0-9]{1,15}$/.test(v)) throw invalidInput(`${name} is a whole number of entries`);
  return Number(v);
}
