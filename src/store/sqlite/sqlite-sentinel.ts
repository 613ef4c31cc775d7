/**
 * The sentinel part of the SQLite backend (see sentinel-types.ts). recordRelease runs on every
 * clinical response, so it is one BEGIN IMMEDIATE transaction of a few prepared statements
 * whatever the number of patients (they go in as one JSON array): upsert the patients, count
 * the day's new ones, add to the minute and hour buckets, then one read per window. Holding
 * the writer lock makes it exact even with a second process on the file. Its commit skips the
 * fsync (synchronous = NORMAL for that one transaction): the counts are detection state, not
 * evidence; with WAL a power cut may lose the last few but never corrupts the file, and the
 * next FULL commit (an audit append) makes them durable too. The conditional methods (lifting
 * a containment, marking a delivery) are one statement each.
 */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import {
  checkAttempts, checkContainmentListing, checkDay, checkDelivery, checkDeliveryLimit, checkPseudonyms,
  planPrune, planRelease, toCanary, toContainment, toDailyPatients, toDelivery, type ReleasePlan,
} from '../sentinel-rows.js';
import type {
  CanaryRow, ContainmentRow, DailyPatientsRow, DeliveryRow, ReleaseRow, ReleaseTotals, SentinelStore,
} from '../sentinel-types.js';
import { lazyStatements, one, run } from './sqlite-run.js';
import type { Raw } from './sqlite-rows.js';

const SQL = {
  // Inserts the patients new to the principal and moves those last released before the
  // release's UTC day to it: the rows this changes are exactly the patients new for the day.
  // (WHERE true: an upsert's SELECT needs a WHERE clause to parse, https://sqlite.org/lang_upsert.html.)
  releaseFirstToday: `INSERT INTO core_sentinel_releases (principal_id, tenant, pseudonym, last_at)
    SELECT @principal, @tenant, value, @at FROM json_each(@pseudonyms) WHERE true
    ON CONFLICT (principal_id, tenant, pseudonym) DO UPDATE SET last_at = excluded.last_at WHERE last_at < @dayStart`,
  // The others were released earlier today: only their last release moves (never back).
  releaseAgain: `UPDATE core_sentinel_releases SET last_at = @at
    WHERE principal_id = @principal AND tenant = @tenant AND pseudonym IN (SELECT value FROM json_each(@pseudonyms))
      AND last_at < @at`,
  // A row for every day with a release; written again only when the day gains patients.
  countDay: `INSERT INTO core_sentinel_daily (role, day, principal_id, patients) VALUES (@role, @day, @principal, @fresh)
    ON CONFLICT (role, day, principal_id) DO UPDATE SET patients = patients + excluded.patients WHERE excluded.patients > 0`,
  addVolume: `INSERT INTO core_sentinel_volume (principal_id, grain, bucket, records, bytes)
    VALUES (@principal, 'm', @minute, @records, @bytes), (@principal, 'h', @hour, @records, @bytes)
    ON CONFLICT (principal_id, grain, bucket) DO UPDATE SET records = records + excluded.records, bytes = bytes + excluded.bytes`,
  // One window: distinct patients by the last-release index, records and bytes by the minutes
  // before the window's first whole hour and the hours from there.
  totals: `SELECT
      (SELECT count(*) FROM core_sentinel_releases WHERE principal_id = @principal AND last_at >= @since) AS patients,
      coalesce(sum(records), 0) AS records, coalesce(sum(bytes), 0) AS bytes
    FROM (SELECT records, bytes FROM core_sentinel_volume
            WHERE principal_id = @principal AND grain = 'm' AND bucket >= @minuteFrom AND bucket < @hourFrom
          UNION ALL
          SELECT records, bytes FROM core_sentinel_volume
            WHERE principal_id = @principal AND grain = 'h' AND bucket >= @hourFrom)`,
  // Prune scans the table: an index on last_at alone would cost every release a third index write.
  pruneReleases: 'DELETE FROM core_sentinel_releases WHERE last_at < ?',
  pruneVolume: `DELETE FROM core_sentinel_volume
    WHERE (grain = 'm' AND bucket < @minutesBefore) OR (grain = 'h' AND bucket < @hoursBefore)`,
  dailyPatients: 'SELECT * FROM core_sentinel_daily WHERE role = ? AND day >= ? ORDER BY day, principal_id',

  insertContainment: `INSERT INTO core_sentinel_containments
    (id, principal_id, reason, alert_id, created_at, lifted_at, lifted_by, lift_note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  liveContainment: 'SELECT * FROM core_sentinel_containments WHERE principal_id = ? AND lifted_at IS NULL',
  liftContainment: `UPDATE core_sentinel_containments SET lifted_at = @at, lifted_by = @by, lift_note = @note
    WHERE id = @id AND lifted_at IS NULL`,
  listContainments: 'SELECT * FROM core_sentinel_containments ORDER BY created_at DESC, id DESC LIMIT ?',
  listLiveContainments: `SELECT * FROM core_sentinel_containments WHERE lifted_at IS NULL
    ORDER BY created_at DESC, id DESC LIMIT ?`,

  addCanary: `INSERT INTO core_sentinel_canaries (tenant, pseudonym, created_at, created_by) VALUES (?, ?, ?, ?)
    ON CONFLICT (tenant, pseudonym) DO NOTHING`,
  listCanaries: 'SELECT * FROM core_sentinel_canaries WHERE tenant = ? ORDER BY pseudonym',
  canariesAmong: `SELECT j.value AS pseudonym FROM json_each(@pseudonyms) AS j
    WHERE EXISTS (SELECT 1 FROM core_sentinel_canaries c WHERE c.tenant = @tenant AND c.pseudonym = j.value)
    ORDER BY j.key`,
  removeCanary: 'DELETE FROM core_sentinel_canaries WHERE tenant = ? AND pseudonym = ?',

  insertDelivery: `INSERT INTO core_sentinel_deliveries
    (id, alert_id, channel, payload, created_at, attempts, next_attempt_at, delivered_at, last_error)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  dueDeliveries: `SELECT * FROM core_sentinel_deliveries WHERE delivered_at IS NULL AND next_attempt_at <= ?
    ORDER BY created_at, id LIMIT ?`,
  markDelivered: 'UPDATE core_sentinel_deliveries SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL',
  markDeliveryFailed: `UPDATE core_sentinel_deliveries SET attempts = ?, next_attempt_at = ?, last_error = ?
    WHERE id = ? AND delivered_at IS NULL`,
} as const;

type Statements = { readonly [K in keyof typeof SQL]: Statement };
type Totals = { patients: number; records: number; bytes: number };

/** PRAGMA synchronous levels (https://sqlite.org/pragma.html#pragma_synchronous). */
const SYNC_NORMAL = 1;

export class SqliteSentinel implements SentinelStore {
  readonly #db: Database;
  readonly #statements: () => Statements;
  #record: Transaction<(plan: ReleasePlan) => ReleaseTotals[]> | null = null;
  /** Lowers the connection's synchronous level for one release and restores it (prepared once). */
  #sync: { level: number; lower: Statement; restore: Statement } | null = null;

  constructor(db: Database) {
    this.#db = db;
    this.#statements = lazyStatements(db, SQL);
  }

  get #s(): Statements {
    return this.#statements();
  }

  async recordRelease(release: ReleaseRow, windows: readonly string[]): Promise<ReleaseTotals[]> {
    const plan = planRelease(release, windows);
    const db = this.#db;
    this.#record ??= db.transaction((p: ReleasePlan) => this.#recordIn(p));
    const record = this.#record;
    // All synchronous: no other statement on this connection runs while the level is lowered.
    return run(() => {
      if (this.#sync === null) {
        const level = db.pragma('synchronous', { simple: true }) as number;
        this.#sync = { level, lower: db.prepare(`PRAGMA synchronous = ${SYNC_NORMAL}`), restore: db.prepare(`PRAGMA synchronous = ${level}`) };
      }
      const sync = this.#sync;
      if (sync.level <= SYNC_NORMAL) return record.immediate(plan);
      sync.lower.run();
      try {
        return record.immediate(plan);
      } finally {
        sync.restore.run();
      }
    });
  }

  #recordIn(plan: ReleasePlan): ReleaseTotals[] {
    const s = this.#s;
    const { release: r } = plan;
    const principal = r.principalId;
    let fresh = 0;
    if (plan.pseudonyms.length > 0) {
      const who = { principal, tenant: r.tenant, pseudonyms: JSON.stringify(plan.pseudonyms), at: r.at };
      fresh = s.releaseFirstToday.run({ ...who, dayStart: plan.dayStart }).changes;
      if (fresh < plan.pseudonyms.length) s.releaseAgain.run(who);
    }
    s.countDay.run({ role: r.role, day: plan.day, principal, fresh });
    s.addVolume.run({ principal, minute: plan.minute, hour: plan.hour, records: r.records, bytes: r.bytes });
    return plan.windows.map(({ since, minuteFrom, hourFrom }) => {
      const t = s.totals.get({ principal, since, minuteFrom, hourFrom }) as Totals;
      return { since, patients: Number(t.patients), records: Number(t.records), bytes: Number(t.bytes) };
    });
  }

  async pruneReleases(before: string): Promise<number> {
    const p = planPrune(before);
    return run(() => this.#db.transaction(() => {
      const removed = this.#s.pruneReleases.run(p.before).changes;
      this.#s.pruneVolume.run({ minutesBefore: p.minutesBefore, hoursBefore: p.hoursBefore });
      return removed;
    }).immediate());
  }
  async dailyPatients(role: string, sinceDay: string): Promise<DailyPatientsRow[]> {
    checkDay(sinceDay);
    return run(() => this.#s.dailyPatients.all(role, sinceDay) as Raw[]).map(toDailyPatients);
  }

  async insertContainment(c: ContainmentRow): Promise<void> {
    run(() => this.#s.insertContainment.run(c.id, c.principalId, c.reason, c.alertId, c.createdAt, c.liftedAt, c.liftedBy, c.liftNote));
  }
  async liveContainment(principalId: string): Promise<ContainmentRow | null> {
    return one(run(() => this.#s.liveContainment.get(principalId)), toContainment);
  }
  async liftContainment(id: string, by: string, note: Buffer, at: string): Promise<boolean> {
    return run(() => this.#s.liftContainment.run({ id, by, note, at })).changes === 1;
  }
  async listContainments(options: { live: boolean; limit: number }): Promise<ContainmentRow[]> {
    checkContainmentListing(options);
    const statement = options.live ? this.#s.listLiveContainments : this.#s.listContainments;
    return run(() => statement.all(options.limit) as Raw[]).map(toContainment);
  }

  async addCanaries(rows: readonly CanaryRow[]): Promise<void> {
    run(() => this.#db.transaction(() => {
      for (const c of rows) this.#s.addCanary.run(c.tenant, c.pseudonym, c.createdAt, c.createdBy);
    }).immediate());
  }
  async listCanaries(tenant: string): Promise<CanaryRow[]> {
    return run(() => this.#s.listCanaries.all(tenant) as Raw[]).map(toCanary);
  }
  async canariesAmong(tenant: string, pseudonyms: readonly string[]): Promise<string[]> {
    checkPseudonyms(pseudonyms);
    if (pseudonyms.length === 0) return [];
    const rows = run(() => this.#s.canariesAmong.all({ tenant, pseudonyms: JSON.stringify(pseudonyms) }) as Raw[]);
    return rows.map((r) => r.pseudonym as string);
  }
  async removeCanary(tenant: string, pseudonym: string): Promise<boolean> {
    return run(() => this.#s.removeCanary.run(tenant, pseudonym)).changes === 1;
  }

  async enqueueDeliveries(rows: readonly DeliveryRow[]): Promise<void> {
    for (const d of rows) checkDelivery(d);
    run(() => this.#db.transaction(() => {
      for (const d of rows) {
        this.#s.insertDelivery.run(d.id, d.alertId, d.channel, d.payload, d.createdAt, d.attempts, d.nextAttemptAt, d.deliveredAt, d.lastError);
      }
    }).immediate());
  }
  async dueDeliveries(at: string, limit: number): Promise<DeliveryRow[]> {
    checkDeliveryLimit(limit);
    return run(() => this.#s.dueDeliveries.all(at, limit) as Raw[]).map(toDelivery);
  }
  async markDelivered(id: string, at: string): Promise<boolean> {
    return run(() => this.#s.markDelivered.run(at, id)).changes === 1;
  }
  async markDeliveryFailed(id: string, attempts: number, nextAttemptAt: string, lastError: string): Promise<boolean> {
    checkAttempts(attempts);
    return run(() => this.#s.markDeliveryFailed.run(attempts, nextAttemptAt, lastError, id)).changes === 1;
  }
}
