export { buildServer } from './server.js';
export type { CredentialRequest, ServerDeps } from './server.js';
export { outcomeOf } from './outcome.js';
