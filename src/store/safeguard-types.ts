/**
 * The store's contract for the account safeguards of issue 3 beyond passwords and passkeys:
 * TOTP secrets (sealed by the caller) and single-use recovery codes (hashes only), break-glass
 * grants, alerts for the security officer, security-awareness training records and access
 * recertifications. Every timestamp is an ISO-8601 UTC string from the injected clock.
 */

/** A TOTP factor; `secret` is ciphertext sealed by the caller, never the raw secret. */
export interface TotpRow {
  readonly principalId: string;
  readonly secret: Buffer;
  readonly createdAt: string;
  /** The last 30-second time step accepted: a code is never accepted twice. */
  readonly lastStep: number;
}

/** Emergency access of one person to one patient of one tenant, for a short time. */
export interface BreakGlassRow {
  readonly id: string;
  readonly principalId: string;
  readonly tenant: string;
  readonly pseudonym: string;
  /** The reason the person gave, sealed by the caller (it may name the patient's situation). */
  readonly reason: Buffer;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly endedAt: string | null;
}

/** Something a security officer must look at (break-glass; the sentinel adds its own kinds). */
export interface AlertRow {
  readonly id: string;
  readonly kind: string; // 'break-glass', 'token-replay', 'refresh-reuse', 'training-expired', ...
  readonly principalId: string | null;
  readonly tenant: string | null;
  /** What it concerns: a pseudonym, a session id, a grant id. Never plain personal data. */
  readonly subject: string | null;
  readonly createdAt: string;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  /** Leaf indices (AuditRow.seq) of the audit entries the alert rests on, in the order given. */
  readonly evidence: readonly number[];
  /** Set once by closeAlert; a closed alert is also acknowledged. */
  readonly closedAt: string | null;
  readonly closedBy: string | null;
  /** The security officer's conclusion, sealed by the caller (free text may name a situation). */
  readonly closeNote: Buffer | null;
}

/**
 * An alert as inserted: the fields added with the sentinel are optional and default to no
 * evidence and not closed, so writers that predate them (break-glass) keep working.
 */
export type NewAlertRow = Omit<AlertRow, 'evidence' | 'closedAt' | 'closedBy' | 'closeNote'>
  & Partial<Pick<AlertRow, 'evidence' | 'closedAt' | 'closedBy' | 'closeNote'>>;

/** A completed security-awareness training (social engineering, phishing) as an admin recorded it. */
export interface TrainingRow {
  readonly principalId: string;
  readonly completedAt: string;
  readonly expiresAt: string;
  readonly recordedBy: string;
  readonly recordedAt: string;
}

/** An approver's confirmation that an account's role and tenants are still right. */
export interface RecertificationRow {
  readonly principalId: string;
  /** The role and tenants confirmed; a later change to either needs a new confirmation. */
  readonly role: string;
  readonly tenants: readonly string[];
  readonly certifiedBy: string;
  readonly certifiedAt: string;
  readonly expiresAt: string;
}

/**
 * A restore drill's report as production received it (issue 5): signed on the backup host,
 * checked by the server before it is stored. Reports are never changed or deleted.
 */
export interface DrillRow {
  /** The drill's id, from its report: a report is stored once. */
  readonly id: string;
  /** When the drill ended, by the backup host's clock (in the signed report). */
  readonly finishedAt: string;
  readonly outcome: 'passed' | 'failed';
  /** The sequence number of the snapshot the drill restored; null when it found none to restore. */
  readonly snapshot: number | null;
  /** The signed report itself (a C2SP signed note), for an auditor. */
  readonly report: string;
  readonly receivedAt: string;
}

export interface SafeguardStore {
  /** Sets (or replaces) a person's TOTP factor. */
  setTotp(row: TotpRow): Promise<void>;
  getTotp(principalId: string): Promise<TotpRow | null>;
  deleteTotp(principalId: string): Promise<boolean>;
  /** Compare-and-set: records `step` only when it is greater than the last one; returns whether it did. */
  useTotpStep(principalId: string, step: number): Promise<boolean>;

  /** Replaces every recovery code of a person with these hashes (a new set voids the old one). */
  replaceRecoveryCodes(principalId: string, codeHashes: readonly Buffer[], at: string): Promise<void>;
  /** Spends one code: true exactly once per code, false for unknown or used codes. */
  useRecoveryCode(principalId: string, codeHash: Buffer, at: string): Promise<boolean>;
  /** Unused codes left. */
  countRecoveryCodes(principalId: string): Promise<number>;

  insertBreakGlass(row: BreakGlassRow): Promise<void>;
  /** Grants of this person in this tenant that are live at `at` (not ended, not expired). */
  liveBreakGlass(principalId: string, tenant: string, at: string): Promise<BreakGlassRow[]>;
  /** Ends a grant early; returns whether it was live. */
  endBreakGlass(id: string, at: string): Promise<boolean>;

  /** Evidence entries must be non-negative integers (a TypeError otherwise). */
  insertAlert(row: NewAlertRow): Promise<void>;
  /** Newest first; only unacknowledged ones when `open`. */
  listAlerts(options: { open: boolean; limit: number }): Promise<AlertRow[]>;
  /** The first acknowledgement stands; returns whether this call made it. */
  acknowledgeAlert(id: string, by: string, at: string): Promise<boolean>;
  /**
   * The first close stands; returns whether this call made it. Closing an alert nobody has
   * acknowledged yet also acknowledges it (by the same officer, at the same time); an earlier
   * acknowledgement is kept as it was.
   */
  closeAlert(id: string, by: string, note: Buffer, at: string): Promise<boolean>;

  recordTraining(row: TrainingRow): Promise<void>;
  /** The record with the latest expiry, or null. */
  latestTraining(principalId: string): Promise<TrainingRow | null>;
  recordRecertification(row: RecertificationRow): Promise<void>;
  /** The newest confirmation, or null. */
  latestRecertification(principalId: string): Promise<RecertificationRow | null>;

  /** Stores a drill's report; ERR_CONFLICT when its id is known. */
  insertDrill(row: DrillRow): Promise<void>;
  /** The drill received last, and the last one received that passed (either null): by this server's clock, not the drill host's. */
  lastDrills(): Promise<{ last: DrillRow | null; lastPassed: DrillRow | null }>;
}
