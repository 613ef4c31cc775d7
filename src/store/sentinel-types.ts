/**
 * The store's contract for the sentinel (issue 4): what each principal received and when, who
 * is contained, which patients are canaries, and the outbox of alert deliveries. It lives in the
 * store so that every labkluis node serving one PostgreSQL database sees the same state. Every
 * timestamp is an ISO-8601 UTC string from the injected clock. Pseudonyms only, never identity.
 */

/** One response's worth of data leaving the vault for one principal. */
export interface ReleaseRow {
  readonly principalId: string;
  readonly role: string;
  readonly tenant: string;
  /** Pseudonyms of the patients the response concerns, deduplicated by the caller (may be empty). */
  readonly pseudonyms: readonly string[];
  /** Resources in the response. */
  readonly records: number;
  /** Size of the response body in bytes (as serialised JSON). */
  readonly bytes: number;
  readonly at: string;
}

/**
 * What a principal received since `since`, the release just recorded included. Everything is
 * counted per whole UTC minute: a window counts the whole minute its `since` falls in, so it may
 * count up to a minute more than asked, never less.
 */
export interface ReleaseTotals {
  /** The window start as the caller gave it. */
  readonly since: string;
  /**
   * Distinct patients (by tenant and pseudonym) whose last release to the principal falls in
   * the window (from the start of `since`'s minute).
   */
  readonly patients: number;
  readonly records: number;
  readonly bytes: number;
}

/**
 * A lease: leave to release up to some patients and bytes more to the principal without asking
 * the store again, until `until` (the sentinel's write-behind). The grant is `share` of what is
 * left under the tightest window (its limit, less the totals this call returns, less what the
 * principal's other live leases hold), rounded down, at least 0, at most the max; with no window
 * (or for bytes, no window with a byte limit) it is the max; with share 0 it is 0. The lease
 * replaces the holder's previous one; until it ends every other holder's grant counts it as
 * released, so holders on several nodes draw on one budget. Grants of one principal are
 * serialised: each sees every lease granted before it.
 */
export interface LeaseRequest {
  /** Who holds it (a node, and whatever else the caller keys leases by); never empty. */
  readonly holder: string;
  /** Until when the other holders count it; canonical like `at`, not before `at`. */
  readonly until: string;
  /** Per window asked for, in the same order: its patient limit and byte limit (null: none). */
  readonly limits: readonly { readonly patients: number; readonly bytes: number | null }[];
  /** 0..1. */
  readonly share: number;
  readonly maxPatients: number;
  readonly maxBytes: number;
}

/** What a lease grants, and what the other holders held when it was granted. */
export interface LeaseGrant {
  readonly patients: number;
  readonly bytes: number;
  readonly othersPatients: number;
  readonly othersBytes: number;
}

/** What recordRelease found and did, in one call (one round trip on PostgreSQL). */
export interface ReleaseOutcome {
  /**
   * The principal's live containment, if any. When there is one, nothing of the release was
   * recorded (no patient, no volume, no daily count) and canaries and totals are [].
   */
  readonly containment: ContainmentRow | null;
  /**
   * The release's pseudonyms that are canaries of its tenant, each once, in input order (the
   * release is still recorded: the caller contains the principal).
   */
  readonly canaries: readonly string[];
  /** As before: per window start, in the given order. */
  readonly totals: readonly ReleaseTotals[];
  /** The lease granted, when one was asked for and the principal is not contained; else null. */
  readonly lease: LeaseGrant | null;
}

/**
 * Distinct patients one principal received on one UTC day: the history baselines are made of.
 * There is a row for each day the principal had any release, so a day with releases but no
 * patients reads 0; a day without a row had no release at all.
 */
export interface DailyPatientsRow {
  readonly principalId: string;
  readonly role: string;
  /** 'YYYY-MM-DD' (UTC). */
  readonly day: string;
  readonly patients: number;
}

/** A principal whose clinical access the sentinel stopped, until a security officer lifts it. */
export interface ContainmentRow {
  readonly id: string;
  readonly principalId: string;
  /** The signal that crossed its threshold: 'burst', 'canary', 'token-replay', 'budget-patients', ... */
  readonly reason: string;
  readonly alertId: string | null;
  readonly createdAt: string;
  readonly liftedAt: string | null;
  readonly liftedBy: string | null;
  /** The security officer's reason for lifting, sealed by the caller (free text). */
  readonly liftNote: Buffer | null;
}

/** A synthetic patient no normal workflow returns; touching one contains the session at once. */
export interface CanaryRow {
  readonly tenant: string;
  readonly pseudonym: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** One alert to deliver on one channel, kept until delivered (an outbox, retried with back-off). */
export interface DeliveryRow {
  readonly id: string;
  readonly alertId: string;
  readonly channel: 'webhook' | 'syslog';
  /** What to send, already rendered (JSON for the webhook, an RFC 5424 line for syslog). */
  readonly payload: string;
  readonly createdAt: string;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly deliveredAt: string | null;
  /** A short machine reason for the last failure ('timeout', 'http-503', ...), never payload text. */
  readonly lastError: string | null;
}

export interface SentinelStore {
  /**
   * The per-response call: checks the principal's live containment (if there is one it returns
   * it and records nothing), finds the release's canaries, records the release and returns the
   * principal's totals for each window start in `windows` (in the same order), this release
   * included. Also keeps the principal's distinct-patient count for the release's UTC day
   * (dailyPatients). One call is atomic; two concurrent calls for one principal may each miss
   * the other in their totals (callers accept that race of one request), but what is stored
   * stays exact whatever the race: a patient counts once a day, and once in every window that
   * reaches its last release.
   *
   * `at` and every window start are canonical `Date.prototype.toISOString()` strings (the
   * store compares them as text), of four-digit years; at most MAX_RELEASE_WINDOWS
   * windows; records and bytes are non-negative integers. Anything else is a TypeError. A
   * pseudonym counts for a day the first time that day it is released to the principal; counts
   * assume releases arrive in time order (a late one never moves a patient's last release back).
   * The cost of a call does not grow with the principal's history: patients are counted per
   * minute and hour of their last release, like records and bytes.
   *
   * With `lease` (checked like the rest: a TypeError if malformed), the same call grants the
   * holder a lease (LeaseRequest) from the totals it returns; a release may be empty (no
   * pseudonyms, no records or bytes) to ask for a lease or give one back.
   */
  recordRelease(release: ReleaseRow, windows: readonly string[], lease?: LeaseRequest): Promise<ReleaseOutcome>;
  /**
   * Forgets per-patient release history older than `before` (daily counts stay). Returns rows removed:
   * the per-patient rows, i.e. (principal, tenant, pseudonym) pairs last released before `before`.
   * The sums of whole hours that end by `before` go as well, with their minutes (not counted);
   * the hour `before` falls in and its minutes stay, but stop counting the patients removed.
   * Windows reaching back before `before` count less afterwards, and so does today's daily
   * count if `before` is later than the start of the current UTC day: prune with `before` no
   * later than the earliest window start still asked for and the start of the day. Leases that
   * ended before `before` go as well.
   */
  pruneReleases(before: string): Promise<number>;
  /**
   * Daily distinct-patient counts of every principal of `role` from `sinceDay` ('YYYY-MM-DD',
   * inclusive), oldest first, then by principal id. The role is the one given with each release.
   */
  dailyPatients(role: string, sinceDay: string): Promise<DailyPatientsRow[]>;

  /**
   * Inserts a containment; a principal has at most one live one (a second insert while live is
   * ERR_CONFLICT, as is a reused id). Neither the principal nor the alert id is checked against
   * other tables: a containment must never fail for want of a row elsewhere.
   */
  insertContainment(row: ContainmentRow): Promise<void>;
  /** The principal's live (not lifted) containment, or null. */
  liveContainment(principalId: string): Promise<ContainmentRow | null>;
  /** Lifts a live containment; returns whether this call lifted it. */
  liftContainment(id: string, by: string, note: Buffer, at: string): Promise<boolean>;
  /** Newest first (then by id, descending); only live ones when `live`; limit 1..MAX_CONTAINMENTS. */
  listContainments(options: { live: boolean; limit: number }): Promise<ContainmentRow[]>;

  /** Adds canaries (an existing one is left as it is). */
  addCanaries(rows: readonly CanaryRow[]): Promise<void>;
  /** The tenant's canaries, ordered by pseudonym. */
  listCanaries(tenant: string): Promise<CanaryRow[]>;
  /**
   * Which of these pseudonyms of `tenant` are canaries (a subset of the input, in input order;
   * a canary given twice is returned twice). An empty input costs no query.
   */
  canariesAmong(tenant: string, pseudonyms: readonly string[]): Promise<string[]>;
  removeCanary(tenant: string, pseudonym: string): Promise<boolean>;

  /** All or nothing; a reused id is ERR_CONFLICT. */
  enqueueDeliveries(rows: readonly DeliveryRow[]): Promise<void>;
  /**
   * Undelivered rows whose next attempt is due at `at` (nextAttemptAt <= at), oldest first
   * (by createdAt, then id); limit 1..MAX_DELIVERIES. Rows are not claimed: two nodes polling
   * at once may both send one (delivery is at least once).
   */
  dueDeliveries(at: string, limit: number): Promise<DeliveryRow[]>;
  /** Marks an undelivered row delivered; false if unknown or already delivered. */
  markDelivered(id: string, at: string): Promise<boolean>;
  /** Records a failed attempt of an undelivered row (attempts as given, not incremented); false if unknown or delivered. */
  markDeliveryFailed(id: string, attempts: number, nextAttemptAt: string, lastError: string): Promise<boolean>;
}
