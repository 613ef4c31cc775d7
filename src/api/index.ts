export { buildServer } from './server.js';
export type { CredentialRequest, ServerDeps } from './server.js';
export { outcomeOf } from './outcome.js';
export { PublicRateLimiter, DEFAULT_RATE_LIMITS, AUTH_BODY_LIMIT_BYTES, PUBLIC_ROUTE_GROUPS, publicRouteGroup } from './rate-limits.js';
export type { PublicRouteGroup, RateLimitOptions, RateLimitRules } from './rate-limits.js';
