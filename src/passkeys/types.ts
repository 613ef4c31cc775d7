/**
 * The passkey storage contract (WebAuthn level 2 credential records, §6.1 and §7) and the
 * options of the ceremonies. Every timestamp is an ISO-8601 UTC string from the injected clock.
 * Implementations must make consumeChallenge, saveCredential and updateCounter atomic: each is
 * where a replayed challenge, a second registration of one credential or a cloned authenticator
 * racing the original is stopped.
 */
import type { Clock, Random } from '../kernel/index.js';

/** One registered passkey (a WebAuthn "credential record"). */
export interface PasskeyRow {
  /** The credential id as base64url without padding: the store's unique key across all principals. */
  readonly credentialId: string;
  readonly principalId: string;
  /** The credential public key as COSE_Key bytes (RFC 9052 §7) from the attested credential data. */
  readonly publicKey: Buffer;
  /** Last signature counter seen (§6.1.1); 0 for authenticators that do not count. */
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

  saveChallenge(row: ChallengeRow): Promise<void>;
  /**
   * Marks the challenge used when it exists, is unused and `at` is before expiresAt, and returns
   * it (with usedAt set); otherwise null. Of two concurrent callers exactly one gets the row.
   */
  consumeChallenge(id: string, at: string): Promise<ChallengeRow | null>;
}

/** What the ceremonies need to know about the person; id is opaque (it becomes the user handle). */
export interface PasskeyPrincipal {
  /** Opaque principal id, at most 64 bytes of UTF-8; never an e-mail address or a name (§5.4.3). */
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
}

export interface PasskeysOptions {
  readonly store: PasskeyStore;
  readonly clock: Clock;
  readonly random: Random;
  /** Relying party id: a registrable domain suffix of every origin's host, e.g. 'lab.example'. */
  readonly rpId: string;
  readonly rpName: string;
  /** Exact origins the browser may report, e.g. ['https://lab.example']. */
  readonly origins: readonly string[];
  /** Lifetime of a challenge and the browser's timeout; 30–600 s, default 300 (§5.4.1 advice). */
  readonly challengeTtlSeconds?: number;
}
