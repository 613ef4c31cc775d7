/**
 * Sign-in and account routes (JSON, not FHIR). The public ones are the steps before a session
 * exists: enrolment through a one-time link, sign-in with password then passkey, and the
 * refresh of a device-bound session. Every other route needs a session or an API token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountAdmin, DeviceGrant, Factors, OwnSessions, PasskeyFactors, PasswordChange, SignIn } from '../accounts/index.js';
import { forbidden, invalidInput } from '../kernel/index.js';
import type { RequestProof, Sessions } from '../sessions/index.js';
import type { Caller, Route } from './routes.js';
import { facts } from './routes.js';

export interface AuthDeps {
  readonly signIn: SignIn;
  readonly admin: AccountAdmin;
  readonly sessions: Sessions;
  /** The CLI's device authorisation grant (device-routes.ts). */
  readonly device: DeviceGrant;
  /** TOTP (where allowed) and recovery codes. */
  readonly factors: Factors;
  /** One's own passkeys: list, add, remove. */
  readonly passkeyFactors: PasskeyFactors;
  /** Changing one's own password (step-up and the current password). */
  readonly passwordChange: PasswordChange;
  /** Ending one's own sessions: the current one freely, others after a step-up. */
  readonly ownSessions: OwnSessions;
  readonly baseUrl: string;
}

type AuthHandler = (req: FastifyRequest, reply: FastifyReply, d: AuthDeps, who: Caller | null) => Promise<unknown>;
export interface AuthRoute extends Omit<Route, 'handler'> {
  readonly handler: AuthHandler;
}

export const authRoutes: readonly AuthRoute[] = [
  { method: 'POST', url: '/auth/enrol/start', public: true, handler: async (req, _r, d) => d.signIn.startEnrolment(field(req, 'secret'), where(req)) },
  {
    method: 'POST', url: '/auth/enrol/finish', public: true,
    handler: async (req, _r, d) => tokens(await d.signIn.finishEnrolment({
      secret: field(req, 'secret'), challengeId: field(req, 'challengeId'), password: field(req, 'password'),
      credential: body(req).credential, passkeyName: field(req, 'passkeyName'),
    }, proof(req, d))),
  },
  { method: 'POST', url: '/auth/sign-in', public: true, handler: async (req, _r, d) => d.signIn.startSignIn({ username: body(req).username, password: body(req).password }, where(req)) },
  {
    method: 'POST', url: '/auth/sign-in/passkey', public: true,
    handler: async (req, _r, d) => tokens(await d.signIn.finishSignIn({ challengeId: body(req).challengeId, credential: body(req).credential }, proof(req, d))),
  },
  {
    method: 'POST', url: '/auth/sign-in/code', public: true,
    handler: async (req, _r, d) => tokens(await d.signIn.finishSignInWithCode({ challengeId: body(req).challengeId, method: body(req).method, code: body(req).code }, proof(req, d))),
  },
  { method: 'POST', url: '/auth/token', public: true, handler: async (req, _r, d) => tokens(await d.sessions.refresh(field(req, 'refreshToken'), proof(req, d))) },

  { method: 'POST', url: '/auth/sign-out', handler: async (req, _r, d, who) => ({ ended: await d.sessions.revoke(ownSession(who!), 'signed-out', where(req)) }) },
  { method: 'GET', url: '/auth/sessions', handler: async (_q, _r, d, who) => ({ sessions: (await d.sessions.list(human(who!).id)).map(view) }) },
  { method: 'DELETE', url: '/auth/sessions/:id', handler: async (req, _r, d, who) => d.ownSessions.end(human(who!), (req.params as { id: string }).id, where(req)) },
  { method: 'POST', url: '/auth/sessions/end-others', handler: async (req, _r, d, who) => d.ownSessions.endOthers(human(who!), where(req)) },
  {
    method: 'POST', url: '/auth/password',
    handler: async (req, _r, d, who) => d.passwordChange.change(human(who!), { currentPassword: body(req).currentPassword, newPassword: body(req).newPassword }, where(req)),
  },
  { method: 'POST', url: '/auth/factors/totp/start', handler: async (_q, _r, d, who) => d.factors.startTotp(human(who!)) },
  {
    method: 'POST', url: '/auth/factors/totp/confirm',
    handler: async (req, _r, d, who) => {
      await d.factors.confirmTotp(human(who!), { ticket: body(req).ticket, code: body(req).code }, where(req));
      return { totp: true };
    },
  },
  { method: 'DELETE', url: '/auth/factors/totp', handler: async (req, _r, d, who) => ({ removed: await d.factors.removeTotp(human(who!), where(req)) }) },
  { method: 'POST', url: '/auth/factors/recovery-codes', handler: async (req, _r, d, who) => ({ codes: await d.factors.newRecoveryCodes(human(who!), where(req)) }) },
  { method: 'GET', url: '/auth/factors/passkeys', handler: async (_q, _r, d, who) => ({ passkeys: await d.passkeyFactors.list(human(who!)) }) },
  { method: 'POST', url: '/auth/factors/passkeys/start', handler: async (_q, _r, d, who) => d.passkeyFactors.startAdd(human(who!)) },
  {
    method: 'POST', url: '/auth/factors/passkeys/finish',
    handler: async (req, reply, d, who) => {
      const added = await d.passkeyFactors.finishAdd(human(who!), { challengeId: body(req).challengeId, credential: body(req).credential, name: body(req).name }, where(req));
      reply.code(201);
      return { passkey: added };
    },
  },
  {
    method: 'DELETE', url: '/auth/factors/passkeys/:id',
    handler: async (req, _r, d, who) => d.passkeyFactors.remove(human(who!), (req.params as { id: string }).id, where(req)),
  },
  { method: 'POST', url: '/auth/step-up/start', handler: async (_q, _r, d, who) => d.signIn.startStepUp(human(who!)) },
  {
    // Answers with a new token pair (and session id) on the same DPoP key; the pair used for this request is dead from now on.
    method: 'POST', url: '/auth/step-up/finish',
    handler: async (req, _r, d, who) => {
      const done = await d.signIn.finishStepUp(human(who!), { challengeId: body(req).challengeId, credential: body(req).credential }, where(req));
      return { authenticatedAt: done.authenticatedAt, ...tokens(done.tokens) };
    },
  },
  {
    method: 'POST', url: '/auth/accounts',
    handler: async (req, reply, d, who) => {
      const b = body(req);
      const inv = await d.admin.invite(who!.principal, { username: b.username, displayName: b.displayName, role: b.role, tenants: b.tenants, totpAllowed: b.totpAllowed }, where(req));
      reply.code(201);
      return { principalId: inv.principalId, username: inv.username, enrolmentUrl: enrolmentUrl(d.baseUrl, inv.secret), expiresAt: inv.expiresAt };
    },
  },
  {
    method: 'POST', url: '/auth/accounts/:id/enrolment-link',
    handler: async (req, _r, d, who) => {
      const inv = await d.admin.reissueLink(who!.principal, (req.params as { id: string }).id, where(req));
      return { principalId: inv.principalId, username: inv.username, enrolmentUrl: enrolmentUrl(d.baseUrl, inv.secret), expiresAt: inv.expiresAt };
    },
  },
  { method: 'POST', url: '/auth/accounts/:id/disable', handler: async (req, _r, d, who) => d.admin.disable(who!.principal, (req.params as { id: string }).id, where(req)) },
  { method: 'POST', url: '/auth/accounts/:id/revoke-sessions', handler: async (req, _r, d, who) => d.admin.revokeSessions(who!.principal, (req.params as { id: string }).id, where(req)) },
];

/** The link a person opens to enrol; the secret sits in the fragment, which browsers never send to a server. */
export function enrolmentUrl(baseUrl: string, secret: string): string {
  return `${baseUrl}/enrol#${secret}`;
}

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalidInput('send a JSON object');
  return b as Record<string, unknown>;
}

function field(req: FastifyRequest, name: string): string {
  const v = body(req)[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) throw invalidInput(`${name} is required`);
  return v;
}

const where = (req: FastifyRequest) => {
  const f = facts(req);
  return { ip: f.ip, userAgent: f.userAgent };
};

function proof(req: FastifyRequest, d: AuthDeps): RequestProof {
  return { ...where(req), dpop: req.headers.dpop, method: req.method, url: `${d.baseUrl}${req.url}` };
}

function human(who: Caller) {
  if (who.principal.authMethod !== 'session') throw forbidden('this is for signed-in people');
  return who.principal;
}

function ownSession(who: Caller): string {
  const p = human(who);
  if (p.credentialId === null) throw forbidden('this is for signed-in people');
  return p.credentialId;
}

function tokens(pair: { sessionId: string; accessToken: string; tokenType: 'DPoP'; expiresIn: number; refreshToken: string }) {
  return { sessionId: pair.sessionId, accessToken: pair.accessToken, tokenType: pair.tokenType, expiresIn: pair.expiresIn, refreshToken: pair.refreshToken };
}

function view(s: { id: string; createdAt: string; lastSeenAt: string; authMethod: string; revokedAt: string | null; revokedReason: string | null; userAgent: string | null; ip: string | null; live: boolean }) {
  return { id: s.id, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, authMethod: s.authMethod, live: s.live, endedAt: s.revokedAt, endedBecause: s.revokedReason, userAgent: s.userAgent, ip: s.ip };
}
