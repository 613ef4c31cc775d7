/**
 * Passkey refusals. Every refusal is a PasskeyError with a stable `reason` for logs, the
 * sentinel and tests; its message is one fixed sentence per code, so it never carries a
 * credential id, a challenge, an origin or anything about the person (ASVS 5.0 V6/V16).
 * Errors thrown by @simplewebauthn/server are never passed on: their messages quote challenges
 * and origins.
 */
import { LabkluisError } from '../kernel/index.js';

export const PASSKEY_FAILURE_REASONS = [
  'malformed', // the response body or the passkey name is not well-formed (ERR_INVALID_INPUT)
  'challenge', // unknown, used, expired, other purpose, or not the challenge the client signed
  'principal', // challenge, credential or user handle belong to different principals
  'origin', // origin not allowed, or a cross-origin (iframe) ceremony
  'rp', // rpIdHash is not SHA-256 of our RP id
  'user-verification', // UP or UV flag not set
  'algorithm', // public key algorithm or key parameters not allowed
  'attestation', // the attestation statement does not verify
  'signature', // the assertion signature does not verify
  'unknown-credential', // no such credential registered
  'counter', // signature counter did not move forward: possible cloned authenticator
  'duplicate', // credential id already registered
] as const;
export type PasskeyFailureReason = (typeof PASSKEY_FAILURE_REASONS)[number];

export class PasskeyError extends LabkluisError {
  readonly reason: PasskeyFailureReason;
  constructor(reason: PasskeyFailureReason) {
    if (reason === 'malformed') super('ERR_INVALID_INPUT', 'malformed passkey response');
    else super('ERR_UNAUTHENTICATED', 'passkey verification failed');
    this.name = 'PasskeyError';
    this.reason = reason;
  }
}

export const isPasskeyError = (e: unknown, reason?: PasskeyFailureReason): e is PasskeyError =>
  e instanceof PasskeyError && (reason === undefined || e.reason === reason);
