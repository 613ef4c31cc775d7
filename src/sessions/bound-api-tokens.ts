/**
 * API tokens of services bound to a registered DPoP key (RFC 9449 §7 applied to long-lived
 * tokens): `Authorization: DPoP lkt_…` with a proof from that key. The same token sent as a
 * bearer token, or with another key's proof, was copied: it is refused and revoked, and the
 * theft is reported. A token without a key (made before binding was mandatory) opens nothing.
 */
import { resolveApiToken, type Principal } from '../auth/index.js';
import { LabkluisError, type Clock } from '../kernel/index.js';
import type { Store } from '../store/index.js';
import { DpopError, verifyDpopProof, type DpopKeyCache } from './dpop.js';
import type { ReplayCache } from './replay-cache.js';
import type { RequestProof, SessionEventSink } from './sessions.js';

const THEFT = new Set(['missing', 'multiple', 'key-mismatch', 'jti-replay', 'ath', 'signature', 'htm', 'htu']);

export async function authenticateApiTokenRequest(
  deps: { store: Store; clock: Clock; replay: ReplayCache; events: SessionEventSink; dpopKeys?: DpopKeyCache },
  scheme: 'bearer' | 'dpop', token: string, request: RequestProof,
): Promise<Principal> {
  const { principal, jkt } = await resolveApiToken(deps, token);
  if (jkt === null) throw unauthenticated(); // no key to prove: a bearer token would be enough to steal
  let reason: string | null = scheme === 'bearer' ? 'missing' : null;
  if (reason === null) {
    try {
      await verifyDpopProof({ proof: request.dpop, method: request.method, url: request.url, accessToken: token, expectedJkt: jkt }, { clock: deps.clock, replay: deps.replay, ...(deps.dpopKeys ? { keys: deps.dpopKeys } : {}) });
      return principal;
    } catch (e) {
      if (!(e instanceof DpopError)) throw e;
      reason = e.reason;
    }
  }
  if (THEFT.has(reason)) {
    await deps.store.revokeApiToken(principal.credentialId!, deps.clock.now().toISOString());
    await deps.events({ kind: 'token-replay', principalId: principal.id, sessionId: null, reason: `api-token-${reason}`, ip: request.ip, userAgent: request.userAgent });
  }
  throw unauthenticated();
}

const unauthenticated = (): LabkluisError => new LabkluisError('ERR_UNAUTHENTICATED', 'missing, invalid, expired or revoked credential');
