/**
 * The device authorisation grant (RFC 8628) for the CLI: routes registered beside the /auth
 * routes (JSON). Starting and polling are public, each with a DPoP proof from the CLI's key;
 * approving and denying are for a signed-in person (the browser's device page).
 *
 *   POST /auth/device          public  DPoP proof        → 200 { deviceCode, userCode, verificationUri, verificationUriComplete, expiresIn, interval }
 *   POST /auth/device/token    public  DPoP proof        → 200 tokens | 400 { error } (RFC 8628 §3.5)
 *   POST /auth/device/lookup   person                     → 200 { userCode, requestedAt, expiresAt, requestedFrom } (RFC 8628 §5.4)
 *   POST /auth/device/approve  person, fresh step-up      → 200 { approved: true }
 *   POST /auth/device/deny     person                     → 200 { denied: true }
 */
import type { FastifyRequest } from 'fastify';
import { invalidInput } from '../kernel/index.js';
import type { RequestProof } from '../sessions/index.js';
import type { AuthDeps, AuthRoute } from './auth-routes.js';
import { facts } from './routes.js';

export const deviceRoutes: readonly AuthRoute[] = [
  { method: 'POST', url: '/auth/device', public: true, handler: async (req, _r, d) => d.device.start(proof(req, d)) },
  {
    method: 'POST', url: '/auth/device/token', public: true,
    handler: async (req, reply, d) => {
      const b = req.body;
      const deviceCode = typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as Record<string, unknown>).deviceCode : undefined;
      const result = await d.device.token(deviceCode, proof(req, d));
      if (!result.ok) {
        reply.code(400);
        return { error: result.error };
      }
      const t = result.tokens;
      return { sessionId: t.sessionId, accessToken: t.accessToken, tokenType: t.tokenType, expiresIn: t.expiresIn, refreshToken: t.refreshToken };
    },
  },
  // POST, not GET: the code travels in the body, never in a URL (logs, history).
  { method: 'POST', url: '/auth/device/lookup', handler: async (req, _r, d, who) => d.device.lookup(who!.principal, body(req).userCode, where(req)) },
  { method: 'POST', url: '/auth/device/approve', handler: async (req, _r, d, who) => d.device.approve(who!.principal, body(req).userCode, where(req)) },
  { method: 'POST', url: '/auth/device/deny', handler: async (req, _r, d, who) => d.device.deny(who!.principal, body(req).userCode, where(req)) },
];

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidInput('send a JSON object');
  return b as Record<string, unknown>;
}

const where = (req: FastifyRequest) => {
  const f = facts(req);
  return { ip: f.ip, userAgent: f.userAgent };
};

function proof(req: FastifyRequest, d: AuthDeps): RequestProof {
  return { ...where(req), dpop: req.headers.dpop, method: req.method, url: `${d.baseUrl}${req.url}` };
}
