export { Sentinel } from './sentinel.js';
export type { ContainmentActions, SecuritySignal, SentinelDeps } from './sentinel.js';
export { DEFAULT_SENTINEL_POLICY, checkSentinelPolicy } from './policy.js';
export type { SentinelPolicy, WindowLimit } from './policy.js';
