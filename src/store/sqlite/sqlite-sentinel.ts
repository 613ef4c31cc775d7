/**
 * The sentinel part of the SQLite backend (see sentinel-types.ts). recordRelease runs on every
 * clinical response, so it is one BEGIN IMMEDIATE transaction of statements prepared once, each
 * a key lookup or a short range: the live containment (if there is one, nothing else runs), a
 * lookup per pseudonym of its last release and whether it is a canary, an insert or an update
 * of that row, the day's new patients, the release's minute and hour buckets (records, bytes,
 * and the patients whose last release moved into them), the buckets those patients left, then
 * one read per window of its hours and at most 30 minutes (WindowPlan). No step reads more than
 * the release's own patients and a window's buckets, so the cost does not grow with the
 * principal's history. Most of its time is the commit writing the few pages it dirtied (the
 * patient's row, the minute's and the hour's buckets) to the WAL. Holding the writer lock makes it exact even with a second process on the file. Its commit
 * skips the fsync (synchronous = NORMAL for that one transaction): the counts are detection
 * state, not evidence; with WAL a power cut may lose the last few but never corrupts the file,
 * and the next FULL commit (an audit append) makes them durable too. The conditional methods
 * (lifting a containment, marking a delivery) are one statement each.
 */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import {
  checkAttempts, checkContainmentListing, checkDay, checkDelivery, checkDeliveryLimit, checkPseudonyms, hourOf, minuteOf,
  grantLease, planPrune, planRelease, toCanary, toContainment, toDailyPatients, toDelivery, type ReleasePlan,
} from '../sentinel-rows.js';
import type {
  CanaryRow, ContainmentRow, DailyPatientsRow, DeliveryRow, LeaseRequest, ReleaseOutcome, ReleaseRow, ReleaseTotals, SentinelStore,
} from '../sentinel-types.js';
import { lazyStatements, one, run } from './sqlite-run.js';
import type { Raw } from './sqlite-rows.js';

const SQL = {
  // The release path: positional parameters (they bind a little faster than named ones).
  // A patient's last release to the principal (NULL if none) and whether it is a canary.
  lookup: `SELECT (SELECT last_at FROM core_sentinel_releases WHERE principal_id = ? AND tenant = ? AND pseudonym = ?),
    EXISTS (SELECT 1 FROM core_sentinel_canaries WHERE tenant = ? AND pseudonym = ?)`,
  insertRelease: 'INSERT INTO core_sentinel_releases (principal_id, tenant, pseudonym, last_at) VALUES (?, ?, ?, ?)',
  moveRelease: 'UPDATE core_sentinel_releases SET last_at = ? WHERE principal_id = ? AND tenant = ? AND pseudonym = ?',
  // A row for every day with a release; written again only when the day gains patients.
  countDay: `INSERT INTO core_sentinel_daily (role, day, principal_id, patients) VALUES (?, ?, ?, ?)
    ON CONFLICT (role, day, principal_id) DO UPDATE SET patients = patients + excluded.patients WHERE excluded.patients > 0`,
  // The release's minute and hour: its records and bytes, and the patients that moved in.
  addVolume: `INSERT INTO core_sentinel_volume (principal_id, grain, bucket, records, bytes, patients)
    VALUES (?, 'm', ?, ?, ?, ?), (?, 'h', ?, ?, ?, ?)
    ON CONFLICT (principal_id, grain, bucket) DO UPDATE SET records = records + excluded.records,
      bytes = bytes + excluded.bytes, patients = patients + excluded.patients`,
  // A bucket the patients' previous last releases left. It exists: the release that put them
  // there made it, and pruning drops an hour and its minutes only once every patient last
  // released in them is gone (PrunePlan).
  takePatients: 'UPDATE core_sentinel_volume SET patients = patients - ? WHERE principal_id = ? AND grain = ? AND bucket = ?',
  // One window (WindowPlan): the hours from its first, plus or less a range of minutes.
  totals: `SELECT coalesce(sum(patients), 0), coalesce(sum(records), 0), coalesce(sum(bytes), 0)
    FROM (SELECT patients, records, bytes FROM core_sentinel_volume
            WHERE principal_id = ? AND grain = 'h' AND bucket >= ?
          UNION ALL
          SELECT ? * patients, ? * records, ? * bytes FROM core_sentinel_volume
            WHERE principal_id = ? AND grain = 'm' AND bucket >= ? AND bucket < ?)`,
  // Pruning (PrunePlan): first the hour `before` falls in and its minutes stop counting the rows
  // about to go (last released from the hour's start up to `before`), then the rows go, then the
  // hours that ended with their minutes. Prune scans the per-patient rows: an index on last_at
  // would cost every release an index write.
  pruneUncount: `WITH per_minute AS (
      SELECT principal_id, substr(last_at, 1, 16) || ':00.000Z' AS minute, count(*) AS n FROM core_sentinel_releases
      WHERE last_at >= @hoursBefore AND last_at < @before GROUP BY 1, 2),
    gone (principal_id, grain, bucket, n) AS (
      SELECT principal_id, 'm', minute, n FROM per_minute
      UNION ALL SELECT principal_id, 'h', @hoursBefore, sum(n) FROM per_minute GROUP BY 1)
    UPDATE core_sentinel_volume AS v SET patients = v.patients - gone.n FROM gone
    WHERE v.principal_id = gone.principal_id AND v.grain = gone.grain AND v.bucket = gone.bucket`,
  pruneReleases: 'DELETE FROM core_sentinel_releases WHERE last_at < ?',
  pruneVolume: 'DELETE FROM core_sentinel_volume WHERE bucket < ?',
  pruneLeases: 'DELETE FROM core_sentinel_leases WHERE until < ?',
  // Leases (LeaseRequest): what the principal's other holders hold now, and the holder's new one.
  otherLeases: `SELECT coalesce(sum(patients), 0), coalesce(sum(bytes), 0) FROM core_sentinel_leases
    WHERE principal_id = ? AND holder <> ? AND until > ?`,
  putLease: `INSERT INTO core_sentinel_leases (principal_id, holder, until, patients, bytes) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (principal_id, holder) DO UPDATE SET until = excluded.until, patients = excluded.patients, bytes = excluded.bytes`,
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

/** Statements whose rows are read as arrays (a little faster than objects). */
const RAW: readonly (keyof typeof SQL)[] = ['lookup', 'totals', 'otherLeases'];

/** PRAGMA synchronous levels (https://sqlite.org/pragma.html#pragma_synchronous). */
const SYNC_NORMAL = 1;

export class SqliteSentinel implements SentinelStore {
  readonly #db: Database;
  readonly #statements: () => Statements;
  #modes = false;
  #record: Transaction<(plan: ReleasePlan) => ReleaseOutcome> | null = null;
  /** Lowers the connection's synchronous level for one release and restores it (prepared once). */
  #sync: { level: number; lower: Statement; restore: Statement } | null = null;

  constructor(db: Database) {
    this.#db = db;
    this.#statements = lazyStatements(db, SQL);
  }

  get #s(): Statements {
    const s = this.#statements();
    if (!this.#modes) {
      for (const k of RAW) s[k].raw();
      this.#modes = true;
    }
    return s;
  }

  async recordRelease(release: ReleaseRow, windows: readonly string[], lease?: LeaseRequest): Promise<ReleaseOutcome> {
    const plan = planRelease(release, windows, lease);
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

  #recordIn(plan: ReleasePlan): ReleaseOutcome {
    const s = this.#s;
    const { release: r, minute, hour } = plan;
    const principal = r.principalId;
    const live = s.liveContainment.get(principal);
    if (live !== undefined) return { containment: toContainment(live as Raw), canaries: [], totals: [], lease: null };

    const canaries: string[] = [];
    // Patients new today; patients whose last release moved into this minute and this hour;
    // what they left, per earlier bucket ('m' or 'h' and its start).
    let fresh = 0;
    let intoMinute = 0;
    let intoHour = 0;
    const left = new Map<string, number>();
    const leave = (key: string): void => {
      left.set(key, (left.get(key) ?? 0) + 1);
    };
    for (const p of plan.pseudonyms) {
      const [prev, canary] = s.lookup.get(principal, r.tenant, p, r.tenant, p) as [string | null, number];
      if (canary === 1) canaries.push(p);
      if (prev === null) {
        s.insertRelease.run(principal, r.tenant, p, r.at);
        fresh += 1;
        intoMinute += 1;
        intoHour += 1;
        continue;
      }
      if (prev < plan.dayStart) fresh += 1;
      if (prev >= r.at) continue; // a late release never moves the last one back
      s.moveRelease.run(r.at, principal, r.tenant, p);
      const [m, h] = [minuteOf(prev), hourOf(prev)];
      if (m !== minute) {
        intoMinute += 1;
        leave(`m${m}`);
      }
      if (h !== hour) {
        intoHour += 1;
        leave(`h${h}`);
      }
    }
    s.countDay.run(r.role, plan.day, principal, fresh);
    s.addVolume.run(principal, minute, r.records, r.bytes, intoMinute, principal, hour, r.records, r.bytes, intoHour);
    for (const [key, n] of left) s.takePatients.run(n, principal, key.slice(0, 1), key.slice(1));

    const totals: ReleaseTotals[] = plan.windows.map(({ since, hourFrom, minuteFrom, minuteTo, sign }) => {
      const [patients, records, bytes] = s.totals.get(principal, hourFrom, sign, sign, sign, principal, minuteFrom, minuteTo) as [number, number, number];
      return { since, patients, records, bytes };
    });
    const l = plan.lease;
    if (l === null) return { containment: null, canaries, totals, lease: null };
    const [patients, bytes] = s.otherLeases.get(principal, l.holder, r.at) as [number, number];
    const grant = grantLease(l, totals, { patients, bytes });
    s.putLease.run(principal, l.holder, l.until, grant.patients, grant.bytes);
    return { containment: null, canaries, totals, lease: grant };
  }

  async pruneReleases(before: string): Promise<number> {
    const p = planPrune(before);
    const s = this.#s;
    return run(() => this.#db.transaction(() => {
      s.pruneUncount.run({ before: p.before, hoursBefore: p.hoursBefore });
      const removed = s.pruneReleases.run(p.before).changes;
      s.pruneVolume.run(p.hoursBefore);
      s.pruneLeases.run(p.before);
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
