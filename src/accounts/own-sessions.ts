/**
 * A person ends their own sessions (OWASP ASVS 5.0 V7.4.3, V7.5.2). Ending the session one is
 * using (signing out) is always free. Ending any other one, or all others at once, needs a
 * fresh passkey assertion (step-up): otherwise whoever holds a stolen session could throw the
 * owner out of every device and keep the field to themselves.
 */
import { requireStepUp, type Principal } from '../auth/index.js';
import { forbidden, notFound, type Clock } from '../kernel/index.js';
import type { Sessions } from '../sessions/index.js';
import type { Facts } from './sign-in.js';

export interface OwnSessionsDeps {
  readonly sessions: Sessions;
  readonly clock: Clock;
}

export class OwnSessions {
  readonly #d: OwnSessionsDeps;

  constructor(deps: OwnSessionsDeps) {
    this.#d = deps;
  }

  /**
   * Ends one of the caller's sessions: their current one freely, another only after a step-up
   * (403 without). A session that is not theirs is 404, the same as an unknown id.
   */
  async end(principal: Principal, sessionId: string, facts: Facts): Promise<{ ended: boolean }> {
    const current = currentSession(principal);
    if (sessionId !== current) {
      requireStepUp(principal, this.#d.clock, 'ending another of your sessions');
      const mine = (await this.#d.sessions.list(principal.id)).some((s) => s.id === sessionId);
      if (!mine) throw notFound('no such session');
    }
    return { ended: await this.#d.sessions.revoke(sessionId, 'revoked-by-owner', facts) };
  }

  /** Ends every session of the caller but the one asking; needs a step-up. */
  async endOthers(principal: Principal, facts: Facts): Promise<{ ended: number }> {
    const current = currentSession(principal);
    requireStepUp(principal, this.#d.clock, 'ending your other sessions');
    return { ended: await this.#d.sessions.revokeOthersOf(principal.id, current, 'revoked-by-owner', facts) };
  }
}

function currentSession(principal: Principal): string {
  if (principal.authMethod !== 'session' || principal.credentialId === null) throw forbidden('sessions belong to signed-in people');
  return principal.credentialId;
}
