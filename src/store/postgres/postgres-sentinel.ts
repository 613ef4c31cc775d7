/**
 * The sentinel part of the PostgreSQL backend (see sentinel-types.ts), in the core part's role.
 *
 * recordRelease runs on every clinical response, so it is one round trip: one named statement
 * (for the releases of one principal that arrive while its previous one runs, one statement
 * together: postgres-release-batches.ts) in autocommit on the store's release pool, whose sessions start in the core role with
 * RELEASE_SESSION's settings (postgres-store.ts). A single statement is atomic by itself: its
 * data-modifying CTEs read the live containment (if there is one, every CTE's input is empty:
 * nothing is recorded), upsert the patients, count the day's new ones, and add to the release's
 * minute and hour buckets its records, its bytes and the patients whose last release moved into
 * them, taking those patients from the buckets they left; its main query returns the
 * containment, the canaries among the pseudonyms and the totals. Every step reads the
 * release's own patients and at most 30 minute and 169 hour buckets per window: the cost does
 * not grow with the principal's history.
 *
 * All parts of one statement see the snapshot from before it, so the totals add this release
 * to what was there: the buckets' counts (consistent with the per-patient rows in any one
 * snapshot), less the release's patients as that snapshot has them, plus the same patients as
 * the release leaves them; plus its records and bytes. What is written, though, rests on each
 * patient's locked row, not the snapshot: the upsert keeps the row's previous last release in
 * prev_at (the old row, which PostgreSQL before 18 cannot return), and RETURNING reads it back
 * to tell whether the patient is new today and which buckets it leaves.
 *
 * Concurrency. The patients' upsert goes in pseudonym order, so two calls for one principal
 * take their row locks in one order (no deadlock); the second waits for the first and judges
 * on the first one's row whether the patient is new today and which buckets it leaves, so a
 * patient is counted once a day and sits in exactly one minute and one hour bucket whatever
 * the race. Bucket changes are upserts (ON CONFLICT sees rows committed after the snapshot),
 * so the second call's decrement lands on a bucket the first one just made; they run after
 * every patient lock is taken (they aggregate over all of RETURNING), in (grain, bucket) order,
 * and every call runs this same statement, so its CTEs lock in one sequence. The second call's
 * totals may miss the first one's other patients (its snapshot predates them), which the
 * contract allows. pruneReleases takes its locks in the same orders (rows by principal, tenant
 * and pseudonym, then, once it holds them all, buckets by principal, grain and bucket), so it
 * cannot deadlock with a release either; and a patient both touch is either moved by the
 * release first (prune then re-checks the row and keeps it) or removed by prune first (the
 * release, having waited for it, inserts the patient afresh and takes it from no bucket).
 *
 * A lease (LeaseRequest) adds two steps at the end: the other holders' live leases are summed
 * and the holder's own row is upserted, after every patient and bucket lock; pruneReleases
 * deletes ended leases last as well. A call that grants a lease runs in a transaction that first
 * takes the principal's advisory lock, so grants take turns and each statement's snapshot holds
 * the grants before it (an advisory lock only orders grants; no other statement waits on it). A
 * release with a lease is never merged with others (postgres-release-batches.ts).
 *
 * Orderings by id or pseudonym use the "C" collation: the same byte order as SQLite's.
 */
import {
  checkAttempts, checkContainmentListing, checkDay, checkDelivery, checkDeliveryLimit, checkPseudonyms,
  planPrune, planRelease, toCanary, toContainment, toDailyPatients, toDelivery,
} from '../sentinel-rows.js';
import type {
  CanaryRow, ContainmentRow, DailyPatientsRow, DeliveryRow, LeaseRequest, ReleaseOutcome, ReleaseRow, SentinelStore,
} from '../sentinel-types.js';
import {
  coreRead, coreWrite, firstRow, type Named, type PgAutocommit, type PgRunner, type TxSettings,
} from './postgres-tx.js';
import { storeError } from '../batch-check.js';
import { ReleaseBatches } from './postgres-release-batches.js';

const q = (name: string, text: string): Named => ({ name: `lk_sn_${name}`, text });

/** Lease grants of one principal take turns: a transaction-scoped advisory lock of this class ('lkls'). */
const LEASE_LOCK_CLASS = 1819962483;
/** The principal's lock key: 32-bit FNV-1a of its id, as a signed integer (a collision only makes two take turns). */
function lockKey(principalId: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(principalId, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
  return h | 0;
}

/**
 * The release pool's session settings. A release is counted on every clinical response, after
 * its audit entry is durable. The counts are detection state, not evidence (the audit log is),
 * so their commit does not wait for the WAL flush (a server crash may lose the last moments of
 * counts, never half of one); and the statement's plan (key lookups by principal) does not
 * depend on its values, so it is planned once per connection rather than on each call.
 */
export const RELEASE_SESSION: TxSettings = Object.freeze({ asyncCommit: true, genericPlan: true });

/** The containment columns the statement returns (toContainment's). */
const CONTAINMENT_COLUMNS = 'id, principal_id, reason, alert_id, created_at, lifted_at, lifted_by, lift_note';

/*
 * $1 principal, $2 role, $3 tenant, $4 pseudonyms (each once), $5 at, $6 start of at's UTC day,
 * $7 that day, $8 at's minute, $9 at's hour, $10 records, $11 bytes, $12..$17 per window (a
 * WindowPlan, sentinel-rows.ts): since, its first minute, the first hour bucket, the minute
 * buckets [$15, $16) and their sign. A patient is in a window iff its last release is at or
 * after the window's first minute. A lease (LeaseRequest; none when $20 is NULL): per window its
 * patient and byte limits $18, $19 (NULL: none), the holder $20, until $21, the share $22 and
 * the maxima $23, $24; the grant is grantLease's rule (sentinel-rows.ts) in SQL.
 * A patient moves (in, or out of its previous buckets) when its last release moves: it is new
 * (prev_at NULL) or this release is later than its last one (a late one never moves it back).
 */
const RECORD_RELEASE = `
WITH live AS (
  SELECT ${CONTAINMENT_COLUMNS} FROM core.sentinel_containments WHERE principal_id = $1 AND lifted_at IS NULL),
-- The release's patients as the snapshot has them (the buckets' sums count them so). Lookups
-- by key are scalar subqueries, one per pseudonym: the generic plan cannot turn them into a
-- join that reads every patient of the principal (or every canary of the tenant).
prior AS MATERIALIZED (
  SELECT (SELECT r.last_at FROM core.sentinel_releases r WHERE r.principal_id = $1 AND r.tenant = $3 AND r.pseudonym = u.p) AS last_at
  FROM unnest($4::text[]) AS u (p)),
released AS (
  INSERT INTO core.sentinel_releases AS r (principal_id, tenant, pseudonym, last_at)
  SELECT $1, $3, u.p, $5::text FROM unnest($4::text[]) AS u (p)
  WHERE NOT EXISTS (SELECT FROM live)
  ORDER BY u.p COLLATE "C"
  ON CONFLICT (principal_id, tenant, pseudonym) DO UPDATE
    SET prev_at = r.last_at, last_at = greatest(r.last_at, EXCLUDED.last_at)
  RETURNING r.prev_at, r.last_at, r.prev_at IS NULL OR r.prev_at < r.last_at AS moved),
daily AS (
  INSERT INTO core.sentinel_daily AS d (role, day, principal_id, patients)
  SELECT $2, $7, $1, count(*) FILTER (WHERE prev_at IS NULL OR prev_at < $6::text) FROM released
  HAVING NOT EXISTS (SELECT FROM live)
  ON CONFLICT (role, day, principal_id) DO UPDATE SET patients = d.patients + EXCLUDED.patients
    WHERE EXCLUDED.patients > 0),
volume AS (
  INSERT INTO core.sentinel_volume AS v (principal_id, grain, bucket, records, bytes, patients)
  SELECT $1, b.grain, b.bucket, sum(b.records), sum(b.bytes), sum(b.patients) FROM (
    VALUES ('m', $8::text, $10::bigint, $11::bigint, 0), ('h', $9::text, $10::bigint, $11::bigint, 0)
    UNION ALL
    SELECT m.grain, m.bucket, 0, 0, m.n FROM released x
    CROSS JOIN LATERAL (VALUES ('m', $8::text, 1), ('h', $9::text, 1),
      ('m', left(x.prev_at, 16) || ':00.000Z', -1), ('h', left(x.prev_at, 13) || ':00:00.000Z', -1)) AS m (grain, bucket, n)
    WHERE x.moved AND (m.n > 0 OR x.prev_at IS NOT NULL)) AS b (grain, bucket, records, bytes, patients)
  WHERE NOT EXISTS (SELECT FROM live)
  GROUP BY b.grain, b.bucket
  ORDER BY b.grain COLLATE "C", b.bucket COLLATE "C"
  ON CONFLICT (principal_id, grain, bucket) DO UPDATE
    SET records = v.records + EXCLUDED.records, bytes = v.bytes + EXCLUDED.bytes, patients = v.patients + EXCLUDED.patients),
totals AS (
  SELECT w.i, w.limit_patients, w.limit_bytes,
    s.patients - (SELECT count(*) FROM prior b WHERE b.last_at >= w.first)
      + (SELECT count(*) FROM released x WHERE x.last_at >= w.first) AS patients,
    s.records + CASE WHEN $5::text >= w.first THEN $10::bigint ELSE 0 END AS records,
    s.bytes + CASE WHEN $5::text >= w.first THEN $11::bigint ELSE 0 END AS bytes
  FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::integer[], $18::bigint[], $19::bigint[])
    WITH ORDINALITY AS w (since, first, hour_from, minute_from, minute_to, sign, limit_patients, limit_bytes, i)
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(y.patients), 0) AS patients, coalesce(sum(y.records), 0) AS records, coalesce(sum(y.bytes), 0) AS bytes FROM (
      SELECT patients, records, bytes FROM core.sentinel_volume
        WHERE principal_id = $1 AND grain = 'h' AND bucket >= w.hour_from
      UNION ALL
      SELECT w.sign * patients, w.sign * records, w.sign * bytes FROM core.sentinel_volume
        WHERE principal_id = $1 AND grain = 'm' AND bucket >= w.minute_from AND bucket < w.minute_to) y) s
  WHERE NOT EXISTS (SELECT FROM live)),
others AS (
  SELECT coalesce(sum(patients), 0) AS patients, coalesce(sum(bytes), 0) AS bytes FROM core.sentinel_leases
  WHERE principal_id = $1 AND holder <> $20::text AND until > $5::text),
granted AS (
  SELECT
    CASE WHEN $22::float8 = 0 THEN 0 WHEN left_over.patients IS NULL THEN $23::bigint
      ELSE least($23::bigint, greatest(0, floor($22::float8 * left_over.patients::float8)))::bigint END AS patients,
    CASE WHEN $22::float8 = 0 THEN 0 WHEN left_over.bytes IS NULL THEN $24::bigint
      ELSE least($24::bigint, greatest(0, floor($22::float8 * left_over.bytes::float8)))::bigint END AS bytes,
    o.patients AS others_patients, o.bytes AS others_bytes
  FROM others o CROSS JOIN LATERAL (
    SELECT min(t.limit_patients - t.patients - o.patients) AS patients, min(t.limit_bytes - t.bytes - o.bytes) AS bytes
    FROM totals t) AS left_over
  WHERE $20::text IS NOT NULL AND NOT EXISTS (SELECT FROM live)),
leased AS (
  INSERT INTO core.sentinel_leases AS x (principal_id, holder, until, patients, bytes)
  SELECT $1, $20, $21, g.patients, g.bytes FROM granted g
  ON CONFLICT (principal_id, holder) DO UPDATE SET until = EXCLUDED.until, patients = EXCLUDED.patients, bytes = EXCLUDED.bytes)
SELECT l.*, g.patients AS lease_patients, g.bytes AS lease_bytes, g.others_patients, g.others_bytes,
  ARRAY(SELECT u.p FROM unnest($4::text[]) WITH ORDINALITY AS u (p, i)
    WHERE l.id IS NULL AND (SELECT true FROM core.sentinel_canaries c WHERE c.tenant = $3 AND c.pseudonym = u.p)
    ORDER BY u.i) AS canaries,
  ARRAY(SELECT t.patients FROM totals t ORDER BY t.i) AS window_patients,
  ARRAY(SELECT t.records FROM totals t ORDER BY t.i) AS window_records,
  ARRAY(SELECT t.bytes FROM totals t ORDER BY t.i) AS window_bytes
FROM (VALUES (true)) AS one (x) LEFT JOIN live l ON true LEFT JOIN granted g ON true`;

/*
 * $1 before, $2 its hour (PrunePlan). The rows to forget are locked in key order first (as
 * releases lock them); the hour $2 and its minutes stay, less the patients of the rows gone
 * that they counted, locked in the order releases lock buckets; then the hours that ended go
 * with their minutes. Prune scans the per-patient rows: an index on last_at would cost every
 * release an index write.
 */
const PRUNE_RELEASES = `
WITH doomed AS (
  SELECT principal_id, tenant, pseudonym FROM core.sentinel_releases WHERE last_at < $1
  ORDER BY principal_id COLLATE "C", tenant COLLATE "C", pseudonym COLLATE "C"
  FOR UPDATE),
gone AS (
  DELETE FROM core.sentinel_releases r USING doomed d
  WHERE r.principal_id = d.principal_id AND r.tenant = d.tenant AND r.pseudonym = d.pseudonym AND r.last_at < $1
  RETURNING r.principal_id, r.last_at),
per_minute AS (
  SELECT principal_id, left(last_at, 16) || ':00.000Z' AS minute, count(*) AS n FROM gone
  WHERE last_at >= $2 GROUP BY 1, 2),
partial AS (
  SELECT v.principal_id, v.grain, v.bucket, g.n FROM (
    SELECT principal_id, 'm' AS grain, minute AS bucket, n FROM per_minute
    UNION ALL
    SELECT principal_id, 'h', $2, sum(n) FROM per_minute GROUP BY 1) g
  JOIN core.sentinel_volume v ON v.principal_id = g.principal_id AND v.grain = g.grain AND v.bucket = g.bucket
  ORDER BY v.principal_id COLLATE "C", v.grain COLLATE "C", v.bucket COLLATE "C"
  FOR UPDATE OF v),
uncounted AS (
  UPDATE core.sentinel_volume v SET patients = v.patients - p.n FROM partial p
  WHERE v.principal_id = p.principal_id AND v.grain = p.grain AND v.bucket = p.bucket),
ended AS (
  DELETE FROM core.sentinel_volume WHERE bucket < $2),
leases AS (
  DELETE FROM core.sentinel_leases WHERE until < $1)
SELECT count(*) AS n FROM gone`;

const SQL = {
  recordRelease: q('record_release', RECORD_RELEASE),
  pruneReleases: q('prune_releases', PRUNE_RELEASES),
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
  readonly #releases: () => Promise<PgAutocommit>;

  /** Concurrent releases of one principal, merged into one statement (postgres-release-batches.ts). */
  readonly #batches = new ReleaseBatches((release, windows) => this.#recordOne(release, windows));

  /** `releases`: the store's release pool (one statement per call, in autocommit, as core). */
  constructor(runner: () => Promise<PgRunner>, releases: () => Promise<PgAutocommit>) {
    this.#runner = runner;
    this.#releases = releases;
  }

  recordRelease(release: ReleaseRow, windows: readonly string[], lease?: LeaseRequest): Promise<ReleaseOutcome> {
    try {
      // A lease is the holder's own: its statement is not merged with other releases.
      if (lease !== undefined) return this.#recordOne(release, windows, lease);
      return this.#batches.record(release, windows);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async #recordOne(release: ReleaseRow, windows: readonly string[], lease?: LeaseRequest): Promise<ReleaseOutcome> {
    const p = planRelease(release, windows, lease);
    const l = p.lease;
    const r = p.release;
    const values = [
      r.principalId, r.role, r.tenant, [...p.pseudonyms], r.at, p.dayStart, p.day, p.minute, p.hour, r.records, r.bytes,
      p.windows.map((w) => w.since), p.windows.map((w) => w.from), p.windows.map((w) => w.hourFrom),
      p.windows.map((w) => w.minuteFrom), p.windows.map((w) => w.minuteTo), p.windows.map((w) => w.sign),
      l === null ? p.windows.map(() => 0) : l.limits.map((x) => x.patients), l === null ? p.windows.map(() => null) : l.limits.map((x) => x.bytes),
      l?.holder ?? null, l?.until ?? null, l?.share ?? 0, l?.maxPatients ?? 0, l?.maxBytes ?? 0,
    ];
    // A grant reads the other holders' leases: grants of one principal take turns (each in its
    // own transaction, after the one before it committed), so none misses another's lease.
    // Everything else (most calls) is the one autocommit statement.
    const [row] = l === null || l.share === 0
      ? await (await this.#releases()).query(SQL.recordRelease, values)
      : await (await this.#runner()).run('core', async (tx) => {
        // READ COMMITTED pinned (the statement after the lock must see the grants before it).
        await tx.as('core', `SET TRANSACTION ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(${LEASE_LOCK_CLASS}, ${lockKey(r.principalId)})`);
        return tx.query(SQL.recordRelease, values);
      });
    if (row === undefined) throw storeError('postgres', 'NO_RELEASE_ROW'); // it always returns one
    if (row.id !== null) return { containment: toContainment(row), canaries: [], totals: [], lease: null };
    // count and sum arrive as strings (bigint, numeric), in window order.
    const column = (name: string): unknown[] => row[name] as unknown[];
    const [patients, records, bytes] = [column('window_patients'), column('window_records'), column('window_bytes')];
    return {
      containment: null,
      canaries: row.canaries as string[],
      totals: p.windows.map((w, i) => ({
        since: w.since, patients: Number(patients[i]), records: Number(records[i]), bytes: Number(bytes[i]),
      })),
      lease: row.lease_patients === null || row.lease_patients === undefined ? null : {
        patients: Number(row.lease_patients), bytes: Number(row.lease_bytes),
        othersPatients: Number(row.others_patients), othersBytes: Number(row.others_bytes),
      },
    };
  }

  async pruneReleases(before: string): Promise<number> {
    const p = planPrune(before);
    const rows = await coreWrite(this.#runner, SQL.pruneReleases, [p.before, p.hoursBefore]);
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
