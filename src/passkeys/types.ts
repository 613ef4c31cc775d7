/**
 * The options of the ceremonies, and the passkey storage contract they use. The contract
 * (PasskeyRow, ChallengeRow, PasskeyStore, with its atomicity rules) is part of the store,
 * which implements it on SQLite and PostgreSQL (src/store/passkey-types.ts); it is re-exported
 * here so the passkeys module's public face names everything its callers need.
 */
import type { Clock, Random } from '../kernel/index.js';
import type { PasskeyStore } from '../store/index.js';

export type { ChallengePurpose, ChallengeRow, PasskeyRow, PasskeyStore } from '../store/index.js';

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
