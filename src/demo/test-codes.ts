/**
 * The tests the demo orders (LOINC) and how often their synthetic results come out positive or
 * in each Pap class: shared by the demo's episodes and the attack replay's lab (bench/attack).
 */
import type { PapClass } from '../domain/index.js';

export const HRHPV = '77379-6';
export const GENOTYPES = ['77399-4', '77400-0', '71431-1'] as const; // HPV16, HPV18, other hrHPV
export const CYTOLOGY = '10524-7';
export const CT = '43304-5';
export const NG = '43305-2';
export const TV = '46154-1';
export const SYPHILIS = '24110-9';
export const HIV = '56888-1';

/** Share of positive results per STI test, for believable but synthetic numbers. */
export const STI_POSITIVE: Readonly<Record<string, number>> = { [CT]: 0.08, [NG]: 0.02, [TV]: 0.03, [SYPHILIS]: 0.01, [HIV]: 0.005 };

/** Relative weights of the Pap classes of reflex cytology. */
export const PAP_WEIGHTS: readonly (readonly [PapClass, number])[] = [
  ['Pap0', 1], ['Pap1', 60], ['Pap2', 14], ['Pap3a1', 10], ['Pap3a2', 7], ['Pap3b', 4], ['Pap4', 3], ['Pap5', 1],
];
