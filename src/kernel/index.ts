export { LabkluisError, RateLimitedError, isLabkluisError, invalidResource, invalidInput, forbidden, notFound, conflict } from './errors.js';
export { clientNetwork } from './network.js';
export { MinHeap } from './min-heap.js';
export type { ErrorCode, Issue } from './errors.js';
export { systemClock, ManualClock } from './clock.js';
export type { Clock } from './clock.js';
export { systemRandom, randomId, base32 } from './random.js';
export type { Random } from './random.js';
