/**
 * The store's contract for the device authorisation grant (RFC 8628): a CLI starts a grant with
 * a DPoP proof, a signed-in person approves (or denies) it in the browser by its user code, and
 * the CLI polls with the device code until it can redeem the grant once. Only the SHA-256 of
 * the device code is kept; the user code is short-lived and stored normalised (8 letters, no
 * dash). Every timestamp is an ISO-8601 UTC string from the injected clock.
 *
 * Implementations make approve, deny, poll and redeem atomic: each decides in one step against
 * the stored state, so of racing callers exactly one changes a grant.
 */

/** RFC 8628 §3.5: on slow_down the interval grows by 5 seconds for this and every later request. */
export const SLOW_DOWN_STEP_SECONDS = 5;

export interface DeviceGrantRow {
  /** SHA-256 of the 32 random bytes of the device code. */
  readonly deviceCodeHash: Buffer;
  /** Normalised: 8 letters of the user-code alphabet, no separator. Unique among live grants. */
  readonly userCode: string;
  /** RFC 7638 thumbprint of the CLI's DPoP key (from the start request's proof). */
  readonly jkt: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** Minimum seconds between polls; grows by SLOW_DOWN_STEP_SECONDS on each poll that came too soon. */
  readonly intervalSeconds: number;
  readonly lastPolledAt: string | null;
  /** The person who approved; the session the CLI gets is theirs. */
  readonly approvedBy: string | null;
  readonly approvedAt: string | null;
  readonly deniedAt: string | null;
  readonly redeemedAt: string | null;
}

/** What a poll saw: the grant after the poll was recorded, and whether it came too soon. */
export interface DevicePoll {
  readonly row: DeviceGrantRow;
  /** The previous poll was less than intervalSeconds earlier; the interval has grown by the step. */
  readonly slowDown: boolean;
}

export interface DeviceGrantStore {
  /**
   * Inserts a new grant. A user code held by a grant that is no longer live at row.createdAt
   * (expired, denied or redeemed) is freed for it; ERR_CONFLICT when a live grant holds the
   * user code, or the device code hash exists.
   */
  insert(row: DeviceGrantRow): Promise<void>;
  /** The live grant (not expired at `at`, not denied, not redeemed) with this user code, or null. */
  getByUserCode(userCode: string, at: string): Promise<DeviceGrantRow | null>;
  /** Approves a pending grant (live and neither approved nor denied) and returns it; otherwise null. */
  approve(userCode: string, principalId: string, at: string): Promise<DeviceGrantRow | null>;
  /** Denies a pending grant and returns it; otherwise null. */
  deny(userCode: string, at: string): Promise<DeviceGrantRow | null>;
  /**
   * Records a poll at `at`, whatever the grant's state: lastPolledAt becomes `at`, and when the
   * previous poll was less than intervalSeconds before `at` the interval grows by
   * SLOW_DOWN_STEP_SECONDS. null when there is no such grant.
   */
  poll(deviceCodeHash: Buffer, at: string): Promise<DevicePoll | null>;
  /**
   * Marks an approved grant redeemed when it is not denied, not yet redeemed and not expired at
   * `at`, and returns it; otherwise null. Of concurrent callers exactly one gets the row.
   */
  redeem(deviceCodeHash: Buffer, at: string): Promise<DeviceGrantRow | null>;
  /** The sweep: deletes every grant that expired at `before` (expiresAt <= before); returns how many. */
  deleteExpired(before: string): Promise<number>;
}
