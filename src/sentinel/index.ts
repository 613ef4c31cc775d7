export { Sentinel } from './sentinel.js';
export { explainAlert } from './explain.js';
export type { ContainmentActions, SecuritySignal, SentinelDeps } from './sentinel.js';
export { DEFAULT_SENTINEL_POLICY, checkSentinelPolicy, resolveSentinelPolicy } from './policy.js';
export type { ArchivePolicy, BaselinePolicy, LeasePolicy, SentinelPolicy, SentinelPolicyInput, SignalPolicy, WindowLimit } from './policy.js';
export type { SignalName } from './signals.js';
export { Canaries, CANARY_WRITER, MAX_CANARIES_PER_TENANT, MAX_SEED } from './canaries.js';
export type { CanariesDeps, CanaryFacts } from './canaries.js';
