import { readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { apiTokenIdOf, createPrincipal, issueApiToken } from '../../auth/index.js';
import { invalidInput, systemClock, systemRandom } from '../../kernel/index.js';
import { generateDpopKey, jwkThumbprint, saveDpopKey } from '../../sessions/index.js';
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
  /** Or: create a new ES256 key pair in this file (mode 0600, never overwritten) and bind to it. */
  readonly newKey?: string;
}

/**
 * Creates a service principal with one API token, bound to the service's key (DPoP): the token
 * is printed once, stored only as a hash, and useless without proofs signed by that key.
 */
export async function tokenCreate(app: App, opts: TokenCreateOptions): Promise<{ principalId: string; token: string; expiresAt: string | null; jkt: string }> {
  if ((opts.publicKey === undefined) === (opts.newKey === undefined)) {
    throw invalidInput("an API token is bound to the service's key: give --public-key <jwk file> or --new-key <file>");
  }
  const deps = { store: app.store, clock: systemClock, random: systemRandom };
  let jkt: string;
  if (opts.publicKey !== undefined) {
    jkt = await thumbprintOf(opts.publicKey);
  } else {
    const key = await generateDpopKey();
    await saveDpopKey(opts.newKey!, key); // refuses an existing file before anything is created
    jkt = key.jkt;
  }
  const dropNewKey = async () => {
    if (opts.newKey !== undefined) await unlink(opts.newKey).catch(() => undefined);
  };
  let principal;
  try {
    principal = await createPrincipal(deps, {
      role: opts.role, tenants: opts.tenant, displayName: opts.name, instrument: opts.instrument ?? null, kind: 'service',
    });
  } catch (e) {
    await dropNewKey();
    throw e;
  }
  const issued = await issueApiToken(deps, principal.id, opts.ttlDays === undefined ? 90 : opts.ttlDays, jkt);
  try {
    await auditOperatorAction(app, 'C', 'token-create', [{ type: 'Principal', id: principal.id }, { type: 'Credential', id: issued.id }]);
  } catch (e) {
    // No credential without its audit entry: take it back before reporting the failure.
    await app.store.revokeApiToken(issued.id, systemClock.now().toISOString());
    await app.store.setPrincipalDisabled(principal.id, true);
    await dropNewKey();
    throw e;
  }
  return { principalId: principal.id, token: issued.token, expiresAt: issued.expiresAt, jkt };
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

/**
 * Revokes an API token by its id (the part between `lkt_` and the dot, or the whole token):
 * for a service that is retired or whose key may be lost (ASVS 5.0 V6.5.6). Takes effect on
 * the next request; audited. An unknown id is bad input; an already revoked one changes nothing.
 */
export async function tokenRevoke(app: App, idOrToken: string): Promise<{ id: string; alreadyRevoked: boolean }> {
  const id = apiTokenIdOf(idOrToken);
  if (id === null) throw invalidInput('give the token id (16 letters and digits after lkt_) or the whole token');
  const row = await app.store.getApiToken(id);
  if (!row) throw invalidInput('no API token with that id');
  if (row.revokedAt !== null) return { id, alreadyRevoked: true };
  await app.store.revokeApiToken(id, systemClock.now().toISOString());
  await auditOperatorAction(app, 'U', 'token-revoke', [{ type: 'Principal', id: row.principalId }, { type: 'Credential', id }]);
  return { id, alreadyRevoked: false };
}
