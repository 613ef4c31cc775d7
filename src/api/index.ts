export { buildServer } from './server.js';
export type { ServerDeps } from './server.js';
export { outcomeOf } from './outcome.js';
