/**
 * The store's contract for human sign-in (issue 3): accounts of human principals, one-time
 * enrolment links, device-bound sessions and their rotating refresh tokens. Secrets are kept
 * only as hashes; every timestamp is an ISO-8601 UTC string from the injected clock.
 */
import type { PrincipalRow } from './types.js';

/** A human principal's sign-in data; the principal row (role, tenants, disabled) stays the source of access. */
export interface AccountRow {
  readonly principalId: string;
  /** Lowercase, unique: what a person types to sign in. Never a patient's data. */
  readonly username: string;
  /** argon2id PHC string; null until the person sets one through an enrolment link. */
  readonly passwordHash: string | null;
  readonly passwordChangedAt: string | null;
  /** Whether an admin's policy lets this account use TOTP as its second factor. */
  readonly totpAllowed: boolean;
  readonly createdAt: string;
}

export type EnrolmentPurpose = 'first-admin' | 'invite' | 'reset';

/** A one-time link: only the SHA-256 of its secret is stored. */
export interface EnrolmentLinkRow {
  readonly secretHash: Buffer;
  readonly principalId: string;
  readonly purpose: EnrolmentPurpose;
  /** Principal who created it; null for the first admin's link made by `labkluis init`. */
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt: string | null;
}

/** A signed-in device: every token of the session is bound to the device key's thumbprint. */
export interface SessionRow {
  readonly id: string;
  readonly principalId: string;
  /** RFC 7638 thumbprint of the device's DPoP key. */
  readonly jkt: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  /** Idle timeout in seconds: the session ends when lastSeenAt is older than this. */
  readonly idleSeconds: number;
  readonly absoluteExpiresAt: string;
  /** Time of the last passkey (or other second-factor) assertion: step-up needs a recent one. */
  readonly authenticatedAt: string;
  readonly authMethod: 'passkey' | 'totp' | 'recovery-code';
  readonly revokedAt: string | null;
  readonly revokedReason: string | null;
  /** Access point as sanitised for the audit log (no raw header values). */
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** A refresh token (hash only). Each one may be used once; its session is its family. */
export interface RefreshTokenRow {
  readonly secretHash: Buffer;
  readonly sessionId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt: string | null;
}

export interface AccountStore {
  /** Inserts the principal and its account in one transaction; ERR_CONFLICT on a taken id or username. */
  insertAccount(principal: PrincipalRow, account: AccountRow): Promise<void>;
  getAccount(principalId: string): Promise<AccountRow | null>;
  findAccountByUsername(username: string): Promise<AccountRow | null>;
  /** Every account, by username (the operator's `labkluis account list`). */
  listAccounts(): Promise<AccountRow[]>;
  /** Whether any person has an account (the first admin is made only while none has). */
  anyAccount(): Promise<boolean>;
  setPasswordHash(principalId: string, passwordHash: string, at: string): Promise<void>; // ERR_NOT_FOUND

  insertEnrolmentLink(row: EnrolmentLinkRow): Promise<void>;
  /** The link as stored (used or not, expired or not), or null: for checking before spending it. */
  getEnrolmentLink(secretHash: Buffer): Promise<EnrolmentLinkRow | null>;
  /**
   * Marks the link used when it exists, is unused and has not expired at `at`, and returns it;
   * otherwise null. Of two concurrent callers exactly one gets the row.
   */
  consumeEnrolmentLink(secretHash: Buffer, at: string): Promise<EnrolmentLinkRow | null>;
  /** Marks every unused link of the principal used at `at`, so none of them works any more; returns how many. */
  voidEnrolmentLinksOf(principalId: string, at: string): Promise<number>;

  insertSession(row: SessionRow): Promise<void>;
  getSession(id: string): Promise<SessionRow | null>;
  listSessions(principalId: string): Promise<SessionRow[]>;
  /** Moves lastSeenAt forward (never back); a revoked session is left as it is. */
  touchSession(id: string, at: string): Promise<void>;
  /** Records a fresh second-factor assertion (step-up). ERR_NOT_FOUND if revoked or unknown. */
  setSessionAuthenticated(id: string, at: string): Promise<void>;
  /** Revokes one session; the first revocation's time and reason stand. Returns whether it was live. */
  revokeSession(id: string, at: string, reason: string): Promise<boolean>;
  /** Revokes every live session of a principal; returns how many. */
  revokeSessionsOf(principalId: string, at: string, reason: string): Promise<number>;
  /** Revokes every live session of a principal except `keepId` (the one asking); returns how many. */
  revokeOtherSessionsOf(principalId: string, keepId: string, at: string, reason: string): Promise<number>;

  /**
   * The DPoP replay cache shared by every node on this store (RFC 9449 §11.1): records `key`
   * until `expiresAtMs` and resolves true, unless it is present and unexpired at `nowMs`
   * (false: a replay). Atomic: of two nodes seeing one proof, exactly one gets true.
   */
  rememberProof(key: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
  /** Deletes entries that expired before `beforeMs`; returns how many. */
  forgetProofs(beforeMs: number): Promise<number>;

  insertRefreshToken(row: RefreshTokenRow): Promise<void>;
  /**
   * Marks a refresh token used. `reused` is true when it had been used before (the token was
   * copied: the caller revokes the family). null when there is no such token.
   */
  useRefreshToken(secretHash: Buffer, at: string): Promise<{ readonly row: RefreshTokenRow; readonly reused: boolean } | null>;
}
