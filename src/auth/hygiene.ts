/**
 * Access hygiene: a person's clinical access rests on a current security-awareness training
 * (social engineering, phishing), and every role on a recent confirmation by an approver
 * (quarterly recertification). Pure rules; the records come from the store.
 */
import type { PrincipalRow } from '../store/index.js';
import type { RecertificationRow, TrainingRow } from '../store/safeguard-types.js';

/** Recertification is quarterly: a confirmation holds 92 days. */
export const RECERTIFICATION_DAYS = 92;
/** A training record holds a year unless the admin records another expiry. */
export const TRAINING_DAYS = 365;

export type Suspension = 'recertification-lapsed' | 'training-expired';

/**
 * Why a person's powers are (partly) suspended at `now`, or null. A lapsed recertification
 * suspends the role altogether; an expired training suspends clinical access only. Service
 * principals (API tokens for systems) are outside these rules.
 */
export function suspensionOf(principal: PrincipalRow, training: TrainingRow | null, recert: RecertificationRow | null, now: Date): Suspension | null {
  if (principal.kind !== 'human') return null;
  const at = now.toISOString();
  const confirmed = recert !== null && recert.expiresAt > at && recert.role === principal.role && sameSet(recert.tenants, principal.tenants);
  if (!confirmed) return 'recertification-lapsed';
  if (training === null || training.expiresAt <= at) return 'training-expired';
  return null;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  return x.size === new Set(b).size && b.every((t) => x.has(t));
}
