export { Vault } from './vault.js';
export type { AccountEvent, VaultDeps } from './vault.js';
export type { BreakGlassGrant } from './break-glass.js';
export { BREAK_GLASS_DEFAULT_MINUTES, BREAK_GLASS_MAX_MINUTES } from './break-glass.js';
export type { AccessContext, RequestFacts } from './context.js';
export type { SearchPage } from './reads.js';
export type { BatchOutcome, BatchRefusal, WriteResult } from './writes.js';
export type { FhirType, Action } from './policy.js';
export { isAllowed, identityView } from './policy.js';
