/**
 * The store's passkey contract (WebAuthn level 2 credential records, §6.1 and §7): registered
 * passkeys and the single-use challenges of the ceremonies. Every timestamp is an ISO-8601 UTC
 * string from the injected clock. Implementations must make consumeChallenge, saveCredential and
 * updateCounter atomic: each is where a replayed challenge, a second registration of one
 * credential or a cloned authenticator racing the original is stopped. The passkeys module
 * re-exports these types as its own; src/passkeys/memory-store.ts is the reference implementation.
 */

/** One registered passkey (a WebAuthn "credential record"). */
export interface PasskeyRow {
  /** The credential id as base64url without padding: the store's unique key across all principals. */
  readonly credentialId: string;
  readonly principalId: string;
  /** The credential public key as COSE_Key bytes (RFC 9052 §7) from the attested credential data. */
  readonly publicKey: Buffer;
  /** Last signature counter seen (§6.1.1): an unsigned 32-bit value; 0 for authenticators that do not count. */
  readonly counter: number;
  /** Transport hints (e.g. 'internal', 'hybrid', 'usb'), handed back in allow/exclude lists. */
  readonly transports: readonly string[];
  /** Backup state (BS flag) at registration. */
  readonly backedUp: boolean;
  /** From the backup eligibility (BE) flag: 'multiDevice' credentials may be synced. */
  readonly deviceType: 'singleDevice' | 'multiDevice';
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  /** A label the person chose ("YubiKey 5", "lab laptop"); never shown to anyone else. */
  readonly name: string;
}

export type ChallengePurpose = 'register' | 'authenticate';

/** A challenge handed to a browser; valid once, until expiresAt. */
export interface ChallengeRow {
  /** Random handle the client sends back with its response (not the challenge itself). */
  readonly id: string;
  /** 32 random bytes, base64url without padding, as placed in the options. */
  readonly challenge: string;
  readonly purpose: ChallengePurpose;
  /** Whose ceremony it is; null only for a usernameless (discoverable) sign-in. */
  readonly principalId: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt: string | null;
}

export interface PasskeyStore {
  /** Inserts a credential; ERR_CONFLICT when its credentialId exists (for anyone). */
  saveCredential(row: PasskeyRow): Promise<void>;
  getCredential(credentialId: string): Promise<PasskeyRow | null>;
  /** The principal's credentials, oldest first. */
  listCredentials(principalId: string): Promise<PasskeyRow[]>;
  /**
   * Compare-and-set: stores `counter` and `lastUsedAt` only when `counter` is greater than the
   * stored counter, or both are 0 (an authenticator that does not count). Returns whether it did;
   * false means a concurrent assertion got there first with the same or a higher counter.
   */
  updateCounter(credentialId: string, counter: number, lastUsedAt: string): Promise<boolean>;
  /** Deletes the credential only if it belongs to principalId; returns whether it did. */
  deleteCredential(principalId: string, credentialId: string): Promise<boolean>;
  /**
   * The account holder's removal: deletes the credential only if it belongs to principalId and
   * is not that principal's last one. 'unknown' when it is not theirs (or does not exist),
   * 'last' when it is their only one (it stays). Atomic per principal: of two concurrent
   * removals of a principal's last two credentials exactly one succeeds.
   */
  deleteCredentialUnlessLast(principalId: string, credentialId: string): Promise<'deleted' | 'unknown' | 'last'>;

  /** Inserts a challenge; ERR_CONFLICT when its id exists. */
  saveChallenge(row: ChallengeRow): Promise<void>;
  /**
   * Marks the challenge used when it exists, is unused and `at` is before expiresAt, and returns
   * it (with usedAt set); otherwise null. Of two concurrent callers exactly one gets the row.
   */
  consumeChallenge(id: string, at: string): Promise<ChallengeRow | null>;
  /**
   * The periodic sweep: deletes every challenge, used or not, that has expired at `before`
   * (expiresAt <= before, the instant from which consumeChallenge refuses it); returns how many.
   */
  deleteExpiredChallenges(before: string): Promise<number>;
}
