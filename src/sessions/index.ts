/** Sessions: sender-constrained tokens (DPoP, RFC 9449), the public face of this folder. */
export {
  verifyDpopProof, DpopKeyCache, jwkThumbprint, accessTokenHash, normaliseHtu, DpopError, isDpopError,
  DPOP_FAILURE_REASONS, DPOP_ALGORITHMS,
} from './dpop.js';
export type { DpopFailureReason, DpopProofInput, DpopVerifyDeps, VerifiedProof } from './dpop.js';
export { MemoryReplayCache, StoreReplayCache, DEFAULT_REPLAY_CACHE_ENTRIES } from './replay-cache.js';
export type { ReplayCache, MemoryReplayCacheOptions } from './replay-cache.js';
export { generateDpopKey, saveDpopKey, loadDpopKey, createDpopProof } from './dpop-client.js';
export type { DpopKey, DpopProofOptions } from './dpop-client.js';
export { Sessions, DEFAULT_SESSION_POLICY, endReason } from './sessions.js';
export { authenticateApiTokenRequest } from './bound-api-tokens.js';
export type { RequestProof, SessionEvent, SessionEventSink, SessionPolicy, TokenPair } from './sessions.js';
export { ACCESS_TOKEN_MAX_SECONDS, looksLikeAccessToken } from './access-tokens.js';
