/**
 * Routes for the safeguards around people's access (JSON): break-glass, the security
 * officer's alerts, security-awareness training records and quarterly recertification.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountAdmin } from '../accounts/index.js';
import { invalidInput } from '../kernel/index.js';
import { explainAlert, type Sentinel } from '../sentinel/index.js';
import type { Vault } from '../vault/index.js';
import type { Caller, Route } from './routes.js';
import { facts } from './routes.js';

export interface SafeguardDeps {
  readonly vault: Vault;
  readonly admin: AccountAdmin;
  readonly sentinel: Sentinel;
}

type Handler = (req: FastifyRequest, reply: FastifyReply, d: SafeguardDeps, who: Caller) => Promise<unknown>;
export interface SafeguardRoute extends Omit<Route, 'handler' | 'public'> {
  readonly handler: Handler;
}

export const safeguardRoutes: readonly SafeguardRoute[] = [
  {
    method: 'POST', url: '/auth/break-glass',
    handler: async (req, reply, d, who) => {
      const b = body(req);
      const grant = await d.vault.breakGlass(who.principal, facts(req), { patient: b.patient, reason: b.reason, ...(b.minutes === undefined ? {} : { minutes: b.minutes }) });
      reply.code(201);
      return { ...grant, use: 'send X-Purpose-Of-Use: ETREAT with requests for this patient until expiresAt' };
    },
  },
  { method: 'DELETE', url: '/auth/break-glass/:id', handler: async (req, _r, d, who) => ({ ended: await d.vault.endBreakGlass(who.principal, facts(req), param(req)) }) },
  {
    method: 'GET', url: '/auth/alerts',
    handler: async (req, _r, d, who) => {
      const open = (req.query as { open?: string } | undefined)?.open !== 'false';
      const rows = await d.admin.alerts(who.principal, open, where(req));
      // The closing note is sealed at rest: it is not part of the list.
      return {
        alerts: rows.map(({ closeNote, ...alert }) => ({
          ...alert, closed: alert.closedAt !== null, hasCloseNote: closeNote !== null,
          ...(explainAlert(alert.kind) ? { explanation: explainAlert(alert.kind) } : {}),
          // What happened, from the audit log: this principal's entries since the day before.
          ...(alert.principalId ? { auditQuery: `/fhir/AuditEvent?agent=${alert.principalId}&date=ge${new Date(Date.parse(alert.createdAt) - 86_400_000).toISOString().slice(0, 10)}` } : {}),
        })),
      };
    },
  },
  {
    method: 'GET', url: '/auth/containments',
    handler: async (req, _r, d, who) => {
      const live = (req.query as { live?: string } | undefined)?.live !== 'false';
      const rows = await d.sentinel.containments(who.principal, live);
      return { containments: rows.map((c) => ({ id: c.id, principalId: c.principalId, reason: c.reason, alertId: c.alertId, createdAt: c.createdAt, liftedAt: c.liftedAt, liftedBy: c.liftedBy })) };
    },
  },
  {
    method: 'POST', url: '/auth/containments/:id/lift',
    handler: async (req, _r, d, who) => {
      await d.sentinel.lift(who.principal, param(req), body(req).reason, where(req));
      return { lifted: true };
    },
  },
  { method: 'POST', url: '/auth/alerts/:id/close', handler: async (req, _r, d, who) => d.sentinel.closeAlert(who.principal, param(req), body(req).note, where(req)) },
  { method: 'POST', url: '/auth/alerts/:id/acknowledge', handler: async (req, _r, d, who) => d.admin.acknowledgeAlert(who.principal, param(req), where(req)) },
  {
    method: 'POST', url: '/auth/accounts/:id/training',
    handler: async (req, reply, d, who) => {
      const b = body(req);
      const row = await d.admin.recordTraining(who.principal, param(req), { completedAt: b.completedAt, ...(b.expiresAt === undefined ? {} : { expiresAt: b.expiresAt }) }, where(req));
      reply.code(201);
      return { completedAt: row.completedAt, expiresAt: row.expiresAt };
    },
  },
  {
    method: 'POST', url: '/auth/accounts/:id/recertify',
    handler: async (req, _r, d, who) => {
      const row = await d.admin.recertify(who.principal, param(req), where(req));
      return { role: row.role, tenants: row.tenants, expiresAt: row.expiresAt };
    },
  },
];

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidInput('send a JSON object');
  return b as Record<string, unknown>;
}

const param = (req: FastifyRequest): string => (req.params as { id: string }).id;

const where = (req: FastifyRequest) => {
  const f = facts(req);
  return { ip: f.ip, userAgent: f.userAgent };
};
