/**
 * The sentinel part of the PostgreSQL backend (see sentinel-types.ts), in the core part's role.
 * recordRelease runs on every clinical response: it is one named statement (one round trip
 * inside the usual BEGIN / COMMIT) whose data-modifying CTEs upsert the patients, count the
 * day's new ones and add to the minute and hour buckets, while its main query reads the totals.
 * Each patient's row is written once, found by primary key; the upsert leaves in first_of_day
 * whether that release was the patient's first of the day (the old row, which PostgreSQL
 * before 18 cannot return), and RETURNING reads it back.
 * All parts of one statement see the snapshot from before it, so the totals add this release
 * to what was there: the patients not in it, plus its own; the buckets, plus its records.
 *
 * Its transaction commits without waiting for the WAL flush and reuses one plan (RELEASE_TX).
 *
 * The patients' upsert goes in pseudonym order, so two calls for one principal take their row
 * locks in one order (no deadlock); the second waits for the first and judges first_of_day on
 * the first one's row, so a patient is counted once a day even under that race. Its totals may
 * miss the first one's other patients (its snapshot predates them), which the contract allows.
 *
 * Orderings by id or pseudonym use the "C" collation: the same byte order as SQLite's.
 */
import {
  checkAttempts, checkContainmentListing, checkDay, checkDelivery, checkDeliveryLimit, checkPseudonyms,
  planPrune, planRelease, toCanary, toContainment, toDailyPatients, toDelivery,
} from '../sentinel-rows.js';
import type {
  CanaryRow, ContainmentRow, DailyPatientsRow, DeliveryRow, ReleaseRow, ReleaseTotals, SentinelStore,
} from '../sentinel-types.js';
import { coreRead, coreWrite, firstRow, type Named, type PgRunner, type TxSettings } from './postgres-tx.js';

const q = (name: string, text: string): Named => ({ name: `lk_sn_${name}`, text });

/**
 * A release is counted on every clinical response, after its audit entry is durable. The
 * counts are detection state, not evidence (the audit log is), so their commit does not wait
 * for the WAL flush; and the statement's plan (key lookups by principal) does not depend on
 * its values, so it is planned once per connection rather than on each call.
 */
const RELEASE_TX: TxSettings = Object.freeze({ asyncCommit: true, genericPlan: true });

/*
 * $1 principal, $2 role, $3 tenant, $4 pseudonyms, $5 at, $6 start of at's UTC day, $7 that day,
 * $8 at's minute, $9 at's hour, $10 records, $11 bytes, $12..$14 per window: since, first
 * minute bucket, first hour bucket (minutes in [$13, $14), hours from $14).
 */
const RECORD_RELEASE = `
WITH ps AS (SELECT DISTINCT unnest($4::text[]) AS pseudonym),
prior AS MATERIALIZED (
  SELECT r.pseudonym, r.last_at FROM ps
  JOIN core.sentinel_releases r ON r.principal_id = $1 AND r.tenant = $3 AND r.pseudonym = ps.pseudonym),
-- The last release moves (never back); first_of_day says whether the patient is new to the
-- principal or was last released before today, judged on the locked row, not the snapshot.
released AS (
  INSERT INTO core.sentinel_releases AS r (principal_id, tenant, pseudonym, last_at, first_of_day)
  SELECT $1, $3, pseudonym, $5::text, true FROM ps ORDER BY pseudonym
  ON CONFLICT (principal_id, tenant, pseudonym) DO UPDATE
    SET last_at = greatest(r.last_at, EXCLUDED.last_at), first_of_day = r.last_at < $6::text
  RETURNING r.first_of_day),
daily AS (
  INSERT INTO core.sentinel_daily AS d (role, day, principal_id, patients)
  SELECT $2, $7, $1, count(*) FILTER (WHERE first_of_day) FROM released
  ON CONFLICT (role, day, principal_id) DO UPDATE SET patients = d.patients + EXCLUDED.patients
    WHERE EXCLUDED.patients > 0),
volume AS (
  INSERT INTO core.sentinel_volume AS v (principal_id, grain, bucket, records, bytes)
  VALUES ($1, 'm', $8, $10::bigint, $11::bigint), ($1, 'h', $9, $10::bigint, $11::bigint)
  ON CONFLICT (principal_id, grain, bucket) DO UPDATE SET records = v.records + EXCLUDED.records, bytes = v.bytes + EXCLUDED.bytes)
SELECT
  (SELECT count(*) FROM core.sentinel_releases r
     WHERE r.principal_id = $1 AND r.last_at >= w.since AND NOT (r.tenant = $3 AND r.pseudonym = ANY ($4::text[])))
  + (SELECT count(*) FROM ps LEFT JOIN prior b USING (pseudonym) WHERE greatest(b.last_at, $5::text) >= w.since) AS patients,
  s.records + CASE WHEN $5::text >= w.minute_from THEN $10::bigint ELSE 0 END AS records,
  s.bytes + CASE WHEN $5::text >= w.minute_from THEN $11::bigint ELSE 0 END AS bytes
FROM unnest($12::text[], $13::text[], $14::text[]) WITH ORDINALITY AS w (since, minute_from, hour_from, i)
CROSS JOIN LATERAL (
  SELECT coalesce(sum(x.records), 0) AS records, coalesce(sum(x.bytes), 0) AS bytes FROM (
    SELECT records, bytes FROM core.sentinel_volume
      WHERE principal_id = $1 AND grain = 'm' AND bucket >= w.minute_from AND bucket < w.hour_from
    UNION ALL
    SELECT records, bytes FROM core.sentinel_volume
      WHERE principal_id = $1 AND grain = 'h' AND bucket >= w.hour_from) x) s
ORDER BY w.i`;

const SQL = {
  recordRelease: q('record_release', RECORD_RELEASE),
  // Prune scans the tables: an index on last_at alone would cost every release a third index write.
  pruneReleases: q('prune_releases', `WITH gone AS (DELETE FROM core.sentinel_releases WHERE last_at < $1 RETURNING 1),
    volume AS (DELETE FROM core.sentinel_volume WHERE (grain = 'm' AND bucket < $2) OR (grain = 'h' AND bucket < $3))
    SELECT count(*) AS n FROM gone`),
  dailyPatients: q('daily_patients', `SELECT * FROM core.sentinel_daily WHERE role = $1 AND day >= $2
    ORDER BY day, principal_id COLLATE "C"`),

  insertContainment: q('insert_containment', `INSERT INTO core.sentinel_containments
    (id, principal_id, reason, alert_id, created_at, lifted_at, lifted_by, lift_note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`),
  liveContainment: q('live_containment', 'SELECT * FROM core.sentinel_containments WHERE principal_id = $1 AND lifted_at IS NULL'),
  liftContainment: q('lift_containment', `UPDATE core.sentinel_containments SET lifted_at = $4, lifted_by = $2, lift_note = $3
    WHERE id = $1 AND lifted_at IS NULL RETURNING 1`),
  listContainments: q('list_containments', 'SELECT * FROM core.sentinel_containments ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $1'),
  listLiveContainments: q('list_live_containments', `SELECT * FROM core.sentinel_containments WHERE lifted_at IS NULL
    ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $1`),

  addCanaries: q('add_canaries', `INSERT INTO core.sentinel_canaries (tenant, pseudonym, created_at, created_by)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
    ON CONFLICT (tenant, pseudonym) DO NOTHING`),
  listCanaries: q('list_canaries', 'SELECT * FROM core.sentinel_canaries WHERE tenant = $1 ORDER BY pseudonym COLLATE "C"'),
  canariesAmong: q('canaries_among', `SELECT u.p AS pseudonym FROM unnest($2::text[]) WITH ORDINALITY AS u (p, i)
    WHERE EXISTS (SELECT 1 FROM core.sentinel_canaries c WHERE c.tenant = $1 AND c.pseudonym = u.p)
    ORDER BY u.i`),
  removeCanary: q('remove_canary', 'DELETE FROM core.sentinel_canaries WHERE tenant = $1 AND pseudonym = $2 RETURNING 1'),

  enqueueDeliveries: q('enqueue_deliveries', `INSERT INTO core.sentinel_deliveries
    (id, alert_id, channel, payload, created_at, attempts, next_attempt_at, delivered_at, last_error)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[], $8::text[], $9::text[])`),
  dueDeliveries: q('due_deliveries', `SELECT * FROM core.sentinel_deliveries WHERE delivered_at IS NULL AND next_attempt_at <= $1
    ORDER BY created_at, id COLLATE "C" LIMIT $2`),
  markDelivered: q('mark_delivered', `UPDATE core.sentinel_deliveries SET delivered_at = $2
    WHERE id = $1 AND delivered_at IS NULL RETURNING 1`),
  markDeliveryFailed: q('mark_delivery_failed', `UPDATE core.sentinel_deliveries SET attempts = $2, next_attempt_at = $3, last_error = $4
    WHERE id = $1 AND delivered_at IS NULL RETURNING 1`),
} as const;

export class PostgresSentinel implements SentinelStore {
  readonly #runner: () => Promise<PgRunner>;

  constructor(runner: () => Promise<PgRunner>) {
    this.#runner = runner;
  }

  async recordRelease(release: ReleaseRow, windows: readonly string[]): Promise<ReleaseTotals[]> {
    const p = planRelease(release, windows);
    const r = p.release;
    const values = [
      r.principalId, r.role, r.tenant, [...p.pseudonyms], r.at, p.dayStart, p.day, p.minute, p.hour, r.records, r.bytes,
      p.windows.map((w) => w.since), p.windows.map((w) => w.minuteFrom), p.windows.map((w) => w.hourFrom),
    ];
    const rows = await (await this.#runner()).run('core', (tx) => tx.query(SQL.recordRelease, values), false, RELEASE_TX);
    // count and sum arrive as strings (bigint, numeric), in window order.
    return rows.map((row, i) => ({
      since: p.windows[i]?.since as string, patients: Number(row.patients), records: Number(row.records), bytes: Number(row.bytes),
    }));
  }

  async pruneReleases(before: string): Promise<number> {
    const p = planPrune(before);
    const rows = await coreWrite(this.#runner, SQL.pruneReleases, [p.before, p.minutesBefore, p.hoursBefore]);
    return Number(rows[0]?.n ?? 0);
  }
  async dailyPatients(role: string, sinceDay: string): Promise<DailyPatientsRow[]> {
    checkDay(sinceDay);
    return (await coreRead(this.#runner, SQL.dailyPatients, [role, sinceDay])).map(toDailyPatients);
  }

  async insertContainment(c: ContainmentRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertContainment, [
      c.id, c.principalId, c.reason, c.alertId, c.createdAt, c.liftedAt, c.liftedBy, c.liftNote,
    ]);
  }
  async liveContainment(principalId: string): Promise<ContainmentRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.liveContainment, [principalId]), toContainment);
  }
  async liftContainment(id: string, by: string, note: Buffer, at: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.liftContainment, [id, by, note, at])).length === 1;
  }
  async listContainments(options: { live: boolean; limit: number }): Promise<ContainmentRow[]> {
    checkContainmentListing(options);
    const statement = options.live ? SQL.listLiveContainments : SQL.listContainments;
    return (await coreRead(this.#runner, statement, [options.limit])).map(toContainment);
  }

  async addCanaries(rows: readonly CanaryRow[]): Promise<void> {
    if (rows.length === 0) return;
    await coreWrite(this.#runner, SQL.addCanaries, [
      rows.map((c) => c.tenant), rows.map((c) => c.pseudonym), rows.map((c) => c.createdAt), rows.map((c) => c.createdBy),
    ]);
  }
  async listCanaries(tenant: string): Promise<CanaryRow[]> {
    return (await coreRead(this.#runner, SQL.listCanaries, [tenant])).map(toCanary);
  }
  async canariesAmong(tenant: string, pseudonyms: readonly string[]): Promise<string[]> {
    checkPseudonyms(pseudonyms);
    if (pseudonyms.length === 0) return [];
    return (await coreRead(this.#runner, SQL.canariesAmong, [tenant, [...pseudonyms]])).map((r) => r.pseudonym as string);
  }
  async removeCanary(tenant: string, pseudonym: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.removeCanary, [tenant, pseudonym])).length === 1;
  }

  async enqueueDeliveries(rows: readonly DeliveryRow[]): Promise<void> {
    for (const d of rows) checkDelivery(d);
    if (rows.length === 0) return;
    const column = <T>(pick: (d: DeliveryRow) => T): T[] => rows.map(pick);
    await coreWrite(this.#runner, SQL.enqueueDeliveries, [
      column((d) => d.id), column((d) => d.alertId), column((d) => d.channel), column((d) => d.payload),
      column((d) => d.createdAt), column((d) => d.attempts), column((d) => d.nextAttemptAt), column((d) => d.deliveredAt),
      column((d) => d.lastError),
    ]);
  }
  async dueDeliveries(at: string, limit: number): Promise<DeliveryRow[]> {
    checkDeliveryLimit(limit);
    return (await coreRead(this.#runner, SQL.dueDeliveries, [at, limit])).map(toDelivery);
  }
  async markDelivered(id: string, at: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.markDelivered, [id, at])).length === 1;
  }
  async markDeliveryFailed(id: string, attempts: number, nextAttemptAt: string, lastError: string): Promise<boolean> {
    checkAttempts(attempts);
    return (await coreWrite(this.#runner, SQL.markDeliveryFailed, [id, attempts, nextAttemptAt, lastError])).length === 1;
  }
}
