/** Synthetic demo data: tenants and patient-episode transaction bundles, all marked HTEST. */
export { generateDemo, MAX_DEMO_PATIENTS } from './generate-demo.js';
export type { DemoData, DemoOptions } from './generate-demo.js';
export { seededRandom } from './seeded-random.js';
