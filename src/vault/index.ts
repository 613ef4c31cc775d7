export { Vault } from './vault.js';
export { RecordCodec } from './records.js'; // a restore drill opens sampled records with it
export type { AccountEvent, VaultDeps } from './vault.js';
export type { BreakGlassGrant } from './break-glass.js';
export { BREAK_GLASS_DEFAULT_MINUTES, BREAK_GLASS_MAX_MINUTES } from './break-glass.js';
export type { AccessContext, RequestFacts } from './context.js';
export type { SearchPage } from './reads.js';
export { OPEN_GUARD } from './egress-guard.js';
export type { EgressGuard, Release, SearchShape } from './egress-guard.js';
export type { BatchOutcome, BatchRefusal, WriteResult } from './writes.js';
export type { FhirType, Action } from './policy.js';
export { isAllowed, identityView } from './policy.js';
// Four-eyes bulk export (issue 4): who may export what, and the approved job's records.
export { approvalRefusal, EXPORT_RULES, EXPORT_TYPES, exportRuleFor } from './export-reads.js';
export type { ExportRelease, ExportRule, ExportType, ExportView } from './export-reads.js';
