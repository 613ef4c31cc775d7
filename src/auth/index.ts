export type { Principal } from './principal.js';
export { ALL_TENANTS, localImporter, mayActFor, principalFromRow, principalFromSession } from './principal.js';
export { issueApiToken, looksLikeApiToken, apiTokenIdOf, resolveApiToken } from './api-tokens.js';
export type { IssuedToken } from './api-tokens.js';
export { createPrincipal } from './principals.js';
export type { NewPrincipal } from './principals.js';
export { requireStepUp, STEP_UP_MAX_AGE_SECONDS } from './step-up.js';
export { RECERTIFICATION_DAYS, TRAINING_DAYS, suspensionOf } from './hygiene.js';
export type { Suspension } from './hygiene.js';
