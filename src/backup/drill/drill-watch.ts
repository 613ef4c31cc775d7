/**
 * Production's side of restore drills (issue 5): it takes each drill's signed report (only
 * when it verifies with the configured drill key), keeps it, shows the last drill's outcome
 * and raises an alert for the security officer when the last drill failed, or when the last
 * drill that passed is older than the allowed age (default 7 days), or none has passed yet.
 *
 * Alerts go where every alert goes (the officer's list and its delivery). One is raised per
 * state and day: a failed drill once, an overdue one again each day it stays overdue.
 */
import { parseVerifierKey } from '../../audit/index.js';
import { ed25519Verify } from '../../crypto/index.js';
import { createHash } from 'node:crypto';
import { base32, LabkluisError, type Clock, type ErrorCode } from '../../kernel/index.js';
import type { DrillRow, Store } from '../../store/index.js';
import { DRILL_KEY_NAME, drillRequestMessage, openDrillReport, type DrillReport } from './drill-report.js';

export const DEFAULT_DRILL_MAX_AGE_DAYS = 7;
const DAY_MS = 86_400_000;
/** How far ahead of this server's clock a report's finish may be (the backup host's clock may run fast). */
const SKEW_MS = 5 * 60_000;

export interface DrillPolicy {
  /** Whether to raise alerts at all (a vault with backups configured); default: when a key is set. */
  readonly watch?: boolean | undefined;
  /** The drill key's verifier key string (`restore-drill key` prints it); none: no report is taken. */
  readonly key?: string | undefined;
  /** Days the last passed drill may be old before the alert (default 7). */
  readonly maxAgeDays?: number | undefined;
}

export type DrillState = 'passed' | 'failed' | 'overdue' | 'none';

export interface DrillStatus {
  /** passed: the last drill passed, within the age; failed: the last drill failed; overdue: the last pass is too old; none: no drill passed yet. */
  readonly state: DrillState;
  readonly maxAgeDays: number;
  readonly keyConfigured: boolean;
  readonly last: DrillSummary | null;
  readonly lastPassed: DrillSummary | null;
}

export interface DrillSummary {
  readonly id: string;
  readonly finishedAt: string;
  readonly outcome: 'passed' | 'failed';
  readonly snapshot: number | null;
  readonly receivedAt: string;
  /** The checks that failed (none for a drill that passed), in the report's words. */
  readonly failedChecks: readonly { readonly name: string; readonly detail: string }[];
}

export interface DrillAlert {
  readonly id: string;
  readonly kind: 'backup-drill-failed' | 'backup-drill-overdue';
  readonly subject: string;
  readonly createdAt: string;
  readonly summary: string;
}

export interface DrillWatchDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** The vault's origin: a report from another vault's drill is refused. */
  readonly origin: string;
  readonly policy?: DrillPolicy;
  /**
   * Stores and delivers an alert for the security officer. The id says what it is about: when
   * the store already has it (ERR_CONFLICT), it was raised before and is not sent again.
   */
  readonly raise: (alert: DrillAlert) => Promise<void>;
  /** Audits a received report (or a refused one). */
  readonly received: (e: { outcome: 'success' | 'denied'; drillId: string | null; reason?: string; errorCode?: ErrorCode; ip: string | null; userAgent: string | null }) => Promise<void>;
}

export class DrillWatch {
  readonly #d: DrillWatchDeps;
  readonly #maxAgeDays: number;
  readonly #key: string | null;
  readonly #watch: boolean;
  readonly #publicKey: Buffer | null;

  constructor(deps: DrillWatchDeps) {
    const maxAgeDays = deps.policy?.maxAgeDays ?? DEFAULT_DRILL_MAX_AGE_DAYS;
    if (!Number.isFinite(maxAgeDays) || maxAgeDays <= 0 || maxAgeDays > 366) throw new LabkluisError('ERR_CONFIG', 'backup.drill.maxAgeDays is a number of days, more than 0 and at most 366');
    let publicKey: Buffer | null = null;
    if (deps.policy?.key !== undefined) {
      let name = '';
      try {
        const parsed = parseVerifierKey(deps.policy.key);
        name = parsed.name;
        publicKey = Buffer.from(parsed.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
      } catch {
        throw new LabkluisError('ERR_CONFIG', "backup.drill.key is not a verifier key (as 'restore-drill key' prints it)");
      }
      // Not the backup or the audit key pasted by mistake: production holds those, and would sign its own reports.
      if (name !== DRILL_KEY_NAME) throw new LabkluisError('ERR_CONFIG', `backup.drill.key is not a drill key (its name is not ${DRILL_KEY_NAME})`);
    }
    this.#publicKey = publicKey;
    this.#d = deps;
    this.#maxAgeDays = maxAgeDays;
    this.#key = deps.policy?.key ?? null;
    this.#watch = deps.policy?.watch ?? this.#key !== null;
  }

  /** Whether this server takes drill reports and answers the drill's requests (a drill key is set). */
  get takesReports(): boolean {
    return this.#key !== null;
  }

  /** Whether this server raises alerts about drills (it has backups, or a drill key). */
  get watching(): boolean {
    return this.#watch;
  }

  /**
   * Takes a signed report: verified with the drill key, of this vault, finished no later than
   * now (give or take the clock skew) and new. ERR_INVALID_INPUT / ERR_CONFLICT otherwise,
   * with nothing stored; every attempt is audited.
   */
  async receive(note: string, facts: { ip: string | null; userAgent: string | null }): Promise<{ id: string; outcome: 'passed' | 'failed'; status: DrillStatus }> {
    let report: DrillReport;
    try {
      if (this.#key === null) throw new LabkluisError('ERR_FORBIDDEN', 'this server takes no drill reports: set backup.drill.key in labkluis.json');
      report = openDrillReport(note, this.#key);
      if (report.origin !== this.#d.origin) throw new LabkluisError('ERR_INVALID_INPUT', "the drill report is of another vault's backups");
      if (Date.parse(report.finishedAt) > this.#d.clock.now().getTime() + SKEW_MS) throw new LabkluisError('ERR_INVALID_INPUT', 'the drill report finishes in the future: check the clocks');
      if (report.snapshot === null && report.outcome === 'passed') throw new LabkluisError('ERR_INVALID_INPUT', 'a passed drill names its snapshot');
      await this.#d.store.safeguards.insertDrill({
        id: report.id, finishedAt: report.finishedAt, outcome: report.outcome, snapshot: report.snapshot?.sequence ?? null,
        report: note, receivedAt: this.#d.clock.now().toISOString(),
      });
    } catch (e) {
      // The audit reason is a lowercase machine word: ERR_INVALID_INPUT becomes invalid-input.
      const reason = e instanceof LabkluisError ? e.code.toLowerCase().replace(/^err_/, '').replaceAll('_', '-') : 'unknown';
      await this.#d.received({ outcome: 'denied', drillId: null, reason, ...(e instanceof LabkluisError ? { errorCode: e.code } : {}), ...facts });
      if (e instanceof LabkluisError && e.code === 'ERR_CONFLICT') throw new LabkluisError('ERR_CONFLICT', 'this drill report was received before');
      throw e;
    }
    await this.#d.received({ outcome: 'success', drillId: report.id, reason: report.outcome, ...facts });
    const status = await this.check();
    return { id: report.id, outcome: report.outcome, status };
  }

  /**
   * Checks a request's drill-key signature (drill-report.ts): ERR_FORBIDDEN when this server
   * takes no drills, ERR_UNAUTHENTICATED when the header is missing, stale or does not verify.
   */
  authorizeRequest(method: string, pathAndQuery: string, header: string | undefined): void {
    if (this.#publicKey === null) throw new LabkluisError('ERR_FORBIDDEN', 'this server takes no restore drills: set backup.drill.key in labkluis.json');
    const m = /^(\S{1,40}) ([A-Za-z0-9+/]{86}==)$/.exec(header ?? '');
    const at = m === null ? Number.NaN : Date.parse(m[1]!);
    if (m === null || Number.isNaN(at) || Math.abs(this.#d.clock.now().getTime() - at) > SKEW_MS
      || !ed25519Verify(this.#publicKey, drillRequestMessage(method, pathAndQuery, m[1]!), Buffer.from(m[2]!, 'base64'))) {
      throw new LabkluisError('ERR_UNAUTHENTICATED', 'this route answers the restore drill only: sign the request with the drill key');
    }
  }

  async status(): Promise<DrillStatus> {
    const { last, lastPassed } = await this.#d.store.safeguards.lastDrills();
    const now = this.#d.clock.now().getTime();
    const state: DrillState = last?.outcome === 'failed' ? 'failed'
      : lastPassed === null ? 'none'
        : now - Date.parse(lastPassed.finishedAt) > this.#maxAgeDays * DAY_MS ? 'overdue' : 'passed';
    return { state, maxAgeDays: this.#maxAgeDays, keyConfigured: this.#key !== null, last: summary(last), lastPassed: summary(lastPassed) };
  }

  /**
   * Raises the alerts the state calls for, each once: a failed drill once (by its id); while
   * no drill passed within the allowed age (also after a failed one), an overdue alert once a
   * day. An alert's id is made from what it is about, so a second raise (another node, the next
   * hour) is refused by the store and not sent again. Returns the status. Raises nothing on a
   * server that does not watch drills (no backups configured, no drill key).
   */
  async check(): Promise<DrillStatus> {
    const status = await this.status();
    if (!this.#watch) return status;
    const now = this.#d.clock.now();
    if (status.state === 'failed') {
      await this.#raise('backup-drill-failed', status.last!.id, now,
        `the last restore drill failed (${status.last!.failedChecks.map((c) => c.name).join(', ')}): the backups may not restore`);
    }
    const passedAgo = status.lastPassed === null ? null : now.getTime() - Date.parse(status.lastPassed.finishedAt);
    if (passedAgo === null || passedAgo > this.#maxAgeDays * DAY_MS) {
      const days = passedAgo === null ? null : Math.floor(passedAgo / DAY_MS);
      await this.#raise('backup-drill-overdue', `${status.lastPassed?.id ?? 'none'}@${now.toISOString().slice(0, 10)}`, now,
        this.#key === null ? 'backups are configured but no drill key (backup.drill.key): no restore drill can report, so the backups are not known to restore'
          : days === null ? 'no restore drill has passed yet: the backups are not known to restore'
            : `the last restore drill that passed is ${days} days old (allowed: ${this.#maxAgeDays}): the backups are not known to restore`);
    }
    return status;
  }

  async #raise(kind: DrillAlert['kind'], subject: string, now: Date, summary: string): Promise<void> {
    const id = base32(createHash('sha256').update(`${kind}\n${subject}`).digest()).slice(0, 26);
    await this.#d.raise({ id, kind, subject, createdAt: now.toISOString(), summary });
  }
}

function summary(row: DrillRow | null): DrillSummary | null {
  if (row === null) return null;
  let failedChecks: DrillSummary['failedChecks'] = [];
  try {
    // Stored only after it verified; read back without the key (the key may have changed since).
    const text = row.report.slice(0, row.report.lastIndexOf('\n\n') + 1);
    const checks = (JSON.parse(text) as DrillReport).checks;
    failedChecks = checks.filter((c) => !c.ok).map((c) => ({ name: c.name, detail: c.detail }));
  } catch {
    failedChecks = [{ name: 'report', detail: 'the stored report does not read back' }];
  }
  return { id: row.id, finishedAt: row.finishedAt, outcome: row.outcome, snapshot: row.snapshot, receivedAt: row.receivedAt, failedChecks };
}
