import { createPrincipal, issueApiToken } from '../../auth/index.js';
import { systemClock, systemRandom } from '../../kernel/index.js';
import type { App } from '../../app.js';
import { auditOperatorAction } from '../operator.js';

export interface TokenCreateOptions {
  readonly role: string;
  readonly tenant: readonly string[];
  readonly name: string;
  readonly instrument?: string;
  readonly ttlDays?: number | null;
}

/** Creates a principal with one API token. The token is printed once and stored only as a hash. */
export async function tokenCreate(app: App, opts: TokenCreateOptions): Promise<{ principalId: string; token: string; expiresAt: string | null }> {
  const deps = { store: app.store, clock: systemClock, random: systemRandom };
  const principal = await createPrincipal(deps, {
    role: opts.role, tenants: opts.tenant, displayName: opts.name, instrument: opts.instrument ?? null,
  });
  const issued = await issueApiToken(deps, principal.id, opts.ttlDays === undefined ? 90 : opts.ttlDays);
  try {
    await auditOperatorAction(app, 'C', 'token-create', [{ type: 'Principal', id: principal.id }, { type: 'Credential', id: issued.id }]);
  } catch (e) {
    // No credential without its audit entry: take it back before reporting the failure.
    await app.store.revokeApiToken(issued.id, systemClock.now().toISOString());
    await app.store.setPrincipalDisabled(principal.id, true);
    throw e;
  }
  return { principalId: principal.id, token: issued.token, expiresAt: issued.expiresAt };
}
