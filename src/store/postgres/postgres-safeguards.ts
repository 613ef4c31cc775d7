/**
 * The safeguards part of the PostgreSQL backend (see safeguard-types.ts): every statement runs
 * in the core part's role, which may update only the columns these methods change and never
 * update or delete a training record or a recertification. The conditional methods are one
 * statement each; under READ COMMITTED a second concurrent UPDATE of the same row waits and
 * re-checks its WHERE clause against the first one's result, so exactly one of them wins.
 */
import { alertToInsert, checkAlertListing, checkDrill, checkTotpStep, safeguardRowMappers } from '../safeguard-rows.js';
import type {
  AlertRow, BreakGlassRow, DrillRow, NewAlertRow, RecertificationRow, SafeguardStore, TotpRow, TrainingRow,
} from '../safeguard-types.js';
import { coreRead, coreWrite, firstRow, type Named, type PgRunner } from './postgres-tx.js';

const { toTotp, toBreakGlass, toAlert, toTraining, toRecertification, toDrill } = safeguardRowMappers({
  strings: (v) => v as string[],
  numbers: (v) => (v as string[]).map(Number), // int8[] arrives as strings
});

const q = (name: string, text: string): Named => ({ name: `lk_sg_${name}`, text });
const SQL = {
  setTotp: q('set_totp', `INSERT INTO core.totp (principal_id, secret, created_at, last_step) VALUES ($1, $2, $3, $4)
    ON CONFLICT (principal_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = EXCLUDED.created_at, last_step = EXCLUDED.last_step`),
  getTotp: q('get_totp', 'SELECT * FROM core.totp WHERE principal_id = $1'),
  deleteTotp: q('delete_totp', 'DELETE FROM core.totp WHERE principal_id = $1 RETURNING 1'),
  // Compare-and-set: a code's time step is accepted once, and never one older than the last.
  useTotpStep: q('use_totp_step', `UPDATE core.totp SET last_step = $2::bigint
    WHERE principal_id = $1 AND last_step < $2::bigint RETURNING 1`),
  // Two concurrent replacements queue on the principal's row: without it, the second one's
  // DELETE would not see the first one's new codes and both sets would stay valid.
  lockPrincipal: q('lock_principal', 'SELECT 1 FROM core.principals WHERE id = $1 FOR NO KEY UPDATE'),
  deleteCodes: q('delete_codes', 'DELETE FROM core.recovery_codes WHERE principal_id = $1'),
  insertCodes: q('insert_codes', `INSERT INTO core.recovery_codes (principal_id, code_hash, created_at, used_at)
    SELECT $1, h, $3, NULL FROM unnest($2::bytea[]) AS h`),
  useCode: q('use_code', `UPDATE core.recovery_codes SET used_at = $3
    WHERE principal_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1`),
  countCodes: q('count_codes', 'SELECT count(*) AS n FROM core.recovery_codes WHERE principal_id = $1 AND used_at IS NULL'),
  insertBreakGlass: q('insert_break_glass', `INSERT INTO core.break_glass
    (id, principal_id, tenant, pseudonym, reason, created_at, expires_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`),
  liveBreakGlass: q('live_break_glass', `SELECT * FROM core.break_glass
    WHERE principal_id = $1 AND tenant = $2 AND ended_at IS NULL AND expires_at > $3 ORDER BY created_at, id`),
  endBreakGlass: q('end_break_glass', `UPDATE core.break_glass SET ended_at = $2
    WHERE id = $1 AND ended_at IS NULL AND expires_at > $2 RETURNING 1`),
  insertAlert: q('insert_alert', `INSERT INTO core.alerts
    (id, kind, principal_id, tenant, subject, created_at, acknowledged_at, acknowledged_by, evidence, closed_at, closed_by, close_note)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint[], $10, $11, $12)`),
  listAlerts: q('list_alerts', 'SELECT * FROM core.alerts ORDER BY created_at DESC, id DESC LIMIT $1'),
  listOpenAlerts: q('list_open_alerts', `SELECT * FROM core.alerts WHERE acknowledged_at IS NULL
    ORDER BY created_at DESC, id DESC LIMIT $1`),
  acknowledgeAlert: q('acknowledge_alert', `UPDATE core.alerts SET acknowledged_at = $3, acknowledged_by = $2
    WHERE id = $1 AND acknowledged_at IS NULL RETURNING 1`),
  // Closing acknowledges too, unless someone already did: that first acknowledgement stands.
  closeAlert: q('close_alert', `UPDATE core.alerts SET closed_at = $4, closed_by = $2, close_note = $3,
      acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN $2 ELSE acknowledged_by END,
      acknowledged_at = coalesce(acknowledged_at, $4)
    WHERE id = $1 AND closed_at IS NULL RETURNING 1`),
  insertTraining: q('insert_training', `INSERT INTO core.training (principal_id, completed_at, expires_at, recorded_by, recorded_at)
    VALUES ($1, $2, $3, $4, $5)`),
  latestTraining: q('latest_training', `SELECT * FROM core.training WHERE principal_id = $1
    ORDER BY expires_at DESC, recorded_at DESC LIMIT 1`),
  insertRecertification: q('insert_recertification', `INSERT INTO core.recertifications
    (principal_id, role, tenants, certified_by, certified_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`),
  latestRecertification: q('latest_recertification', `SELECT * FROM core.recertifications WHERE principal_id = $1
    ORDER BY certified_at DESC LIMIT 1`),
  insertDrill: q('insert_drill', `INSERT INTO core.backup_drills (id, finished_at, outcome, snapshot, report, received_at)
    VALUES ($1, $2, $3, $4, $5, $6)`),
  lastDrill: q('last_drill', 'SELECT * FROM core.backup_drills ORDER BY received_at DESC, id DESC LIMIT 1'),
  lastPassedDrill: q('last_passed_drill', `SELECT * FROM core.backup_drills WHERE outcome = 'passed' ORDER BY received_at DESC, id DESC LIMIT 1`),
} as const;


export class PostgresSafeguards implements SafeguardStore {
  readonly #runner: () => Promise<PgRunner>;

  constructor(runner: () => Promise<PgRunner>) {
    this.#runner = runner;
  }


  async setTotp(t: TotpRow): Promise<void> {
    checkTotpStep(t.lastStep);
    await coreWrite(this.#runner, SQL.setTotp, [t.principalId, t.secret, t.createdAt, t.lastStep]);
  }
  async getTotp(principalId: string): Promise<TotpRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.getTotp, [principalId]), toTotp);
  }
  async deleteTotp(principalId: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.deleteTotp, [principalId])).length === 1;
  }
  async useTotpStep(principalId: string, step: number): Promise<boolean> {
    checkTotpStep(step);
    return (await coreWrite(this.#runner, SQL.useTotpStep, [principalId, step])).length === 1;
  }

  async replaceRecoveryCodes(principalId: string, codeHashes: readonly Buffer[], at: string): Promise<void> {
    await (await this.#runner()).run('core', async (tx) => {
      await tx.query(SQL.lockPrincipal, [principalId]);
      await tx.query(SQL.deleteCodes, [principalId]);
      if (codeHashes.length > 0) await tx.query(SQL.insertCodes, [principalId, [...codeHashes], at]);
    });
  }
  async useRecoveryCode(principalId: string, codeHash: Buffer, at: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.useCode, [principalId, codeHash, at])).length === 1;
  }
  async countRecoveryCodes(principalId: string): Promise<number> {
    return Number((await coreRead(this.#runner, SQL.countCodes, [principalId]))[0]?.n ?? 0);
  }

  async insertBreakGlass(b: BreakGlassRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertBreakGlass, [b.id, b.principalId, b.tenant, b.pseudonym, b.reason, b.createdAt, b.expiresAt, b.endedAt]);
  }
  async liveBreakGlass(principalId: string, tenant: string, at: string): Promise<BreakGlassRow[]> {
    return (await coreRead(this.#runner, SQL.liveBreakGlass, [principalId, tenant, at])).map(toBreakGlass);
  }
  async endBreakGlass(id: string, at: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.endBreakGlass, [id, at])).length === 1;
  }

  async insertAlert(row: NewAlertRow): Promise<void> {
    const a = alertToInsert(row);
    await coreWrite(this.#runner, SQL.insertAlert, [
      a.id, a.kind, a.principalId, a.tenant, a.subject, a.createdAt, a.acknowledgedAt, a.acknowledgedBy, [...a.evidence],
      a.closedAt, a.closedBy, a.closeNote,
    ]);
  }
  async listAlerts(options: { open: boolean; limit: number }): Promise<AlertRow[]> {
    checkAlertListing(options);
    return (await coreRead(this.#runner, options.open ? SQL.listOpenAlerts : SQL.listAlerts, [options.limit])).map(toAlert);
  }
  async acknowledgeAlert(id: string, by: string, at: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.acknowledgeAlert, [id, by, at])).length === 1;
  }
  async closeAlert(id: string, by: string, note: Buffer, at: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.closeAlert, [id, by, note, at])).length === 1;
  }

  async recordTraining(t: TrainingRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertTraining, [t.principalId, t.completedAt, t.expiresAt, t.recordedBy, t.recordedAt]);
  }
  async latestTraining(principalId: string): Promise<TrainingRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.latestTraining, [principalId]), toTraining);
  }
  async recordRecertification(r: RecertificationRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertRecertification, [r.principalId, r.role, [...r.tenants], r.certifiedBy, r.certifiedAt, r.expiresAt]);
  }
  async latestRecertification(principalId: string): Promise<RecertificationRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.latestRecertification, [principalId]), toRecertification);
  }

  async insertDrill(row: DrillRow): Promise<void> {
    checkDrill(row);
    await coreWrite(this.#runner, SQL.insertDrill, [row.id, row.finishedAt, row.outcome, row.snapshot, row.report, row.receivedAt]);
  }
  async lastDrills(): Promise<{ last: DrillRow | null; lastPassed: DrillRow | null }> {
    const [last] = await coreRead(this.#runner, SQL.lastDrill, []);
    const [passed] = await coreRead(this.#runner, SQL.lastPassedDrill, []);
    return { last: last ? toDrill(last) : null, lastPassed: passed ? toDrill(passed) : null };
  }
}
