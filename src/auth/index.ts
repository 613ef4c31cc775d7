export type { Principal } from './principal.js';
export { ALL_TENANTS, localImporter, mayActFor, principalFromRow, principalFromSession } from './principal.js';
export { issueApiToken, authenticateApiToken } from './api-tokens.js';
export type { IssuedToken } from './api-tokens.js';
export { createPrincipal } from './principals.js';
export type { NewPrincipal } from './principals.js';
