import { createPrincipal, issueApiToken } from '../../auth/index.js';
import { readFileSync } from 'node:fs';
import { invalidInput, systemClock, systemRandom } from '../../kernel/index.js';
import { jwkThumbprint } from '../../sessions/index.js';
import type { App } from '../../app.js';
import { auditOperatorAction } from '../operator.js';

export interface TokenCreateOptions {
  readonly role: string;
  readonly tenant: readonly string[];
  readonly name: string;
  readonly instrument?: string;
  readonly ttlDays?: number | null;
  /** Path of the service's DPoP public key (a JWK, EC P-256 or Ed25519): the token is bound to it. */
  readonly publicKey?: string;
}

/** Creates a principal with one API token. The token is printed once and stored only as a hash. */
export async function tokenCreate(app: App, opts: TokenCreateOptions): Promise<{ principalId: string; token: string; expiresAt: string | null; bound: boolean }> {
  const deps = { store: app.store, clock: systemClock, random: systemRandom };
  const jkt = opts.publicKey === undefined ? null : await thumbprintOf(opts.publicKey);
  const principal = await createPrincipal(deps, {
    role: opts.role, tenants: opts.tenant, displayName: opts.name, instrument: opts.instrument ?? null,
  });
  const issued = await issueApiToken(deps, principal.id, opts.ttlDays === undefined ? 90 : opts.ttlDays, jkt);
  try {
    await auditOperatorAction(app, 'C', 'token-create', [{ type: 'Principal', id: principal.id }, { type: 'Credential', id: issued.id }]);
  } catch (e) {
    // No credential without its audit entry: take it back before reporting the failure.
    await app.store.revokeApiToken(issued.id, systemClock.now().toISOString());
    await app.store.setPrincipalDisabled(principal.id, true);
    throw e;
  }
  return { principalId: principal.id, token: issued.token, expiresAt: issued.expiresAt, bound: jkt !== null };
}

/** The RFC 7638 thumbprint of a public JWK file; a private key is refused (it must stay with the service). */
async function thumbprintOf(path: string): Promise<string> {
  let jwk: Record<string, unknown>;
  try {
    jwk = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    throw invalidInput(`${path} is not a JSON Web Key`);
  }
  if (typeof jwk !== 'object' || jwk === null || 'd' in jwk) throw invalidInput(`${path}: give the public key only (no 'd')`);
  const ok = (jwk.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.x === 'string' && typeof jwk.y === 'string')
    || (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string');
  if (!ok) throw invalidInput(`${path}: an EC P-256 or Ed25519 public key is expected`);
  return jwkThumbprint(jwk);
}
