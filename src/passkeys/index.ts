/**
 * Passkeys (WebAuthn level 2) for staff sign-in: the ceremonies, their refusals, and the
 * storage contract with its in-memory reference implementation.
 */
export { Passkeys } from './ceremonies.js';
export type { AuthenticatedPasskey, StartedCeremony } from './ceremonies.js';
export { PASSKEY_ALGORITHMS } from './checks.js';
export { PASSKEY_FAILURE_REASONS, PasskeyError, isPasskeyError } from './errors.js';
export type { PasskeyFailureReason } from './errors.js';
export { MemoryPasskeyStore } from './memory-store.js';
export type { ChallengePurpose, ChallengeRow, PasskeyPrincipal, PasskeyRow, PasskeyStore, PasskeysOptions } from './types.js';
