/** Synthetic demo data: tenants and patient-episode transaction bundles, all marked HTEST. */
export { generateDemo, MAX_DEMO_PATIENTS } from './generate-demo.js';
export type { DemoData, DemoOptions } from './generate-demo.js';
export { seededRandom } from './seeded-random.js';
// One episode at a time, for canary patients (sentinel/canaries.ts): the same record sets as the demo's.
export { screeningEpisode } from './screening.js';
export type { EpisodeContext } from './screening.js';
export { stiEpisode } from './sti.js';
export { Prng } from './prng.js';
