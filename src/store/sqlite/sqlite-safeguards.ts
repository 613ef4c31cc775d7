/**
 * The safeguards part of the SQLite backend (see safeguard-types.ts). Statements are prepared
 * on first use, after the store has migrated. The conditional methods (a TOTP step, a recovery
 * code, ending a break-glass grant, acknowledging or closing an alert) are one statement each and decide
 * in their WHERE clause, so they are atomic even with a second process on the same file.
 */
import type { Database, Statement } from 'better-sqlite3';
import { alertToInsert, checkAlertListing, checkDrill, checkTotpStep, safeguardRowMappers } from '../safeguard-rows.js';
import type {
  AlertRow, BreakGlassRow, DrillRow, NewAlertRow, RecertificationRow, SafeguardStore, TotpRow, TrainingRow,
} from '../safeguard-types.js';
import { lazyStatements, one, run } from './sqlite-run.js';
import type { Raw } from './sqlite-rows.js';

const { toTotp, toBreakGlass, toAlert, toTraining, toRecertification, toDrill } = safeguardRowMappers({
  strings: (v) => JSON.parse(v as string) as string[],
  numbers: (v) => JSON.parse(v as string) as number[],
});

const SQL = {
  setTotp: `INSERT INTO core_totp (principal_id, secret, created_at, last_step) VALUES (?, ?, ?, ?)
    ON CONFLICT (principal_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = excluded.last_step`,
  getTotp: 'SELECT * FROM core_totp WHERE principal_id = ?',
  deleteTotp: 'DELETE FROM core_totp WHERE principal_id = ?',
  // Compare-and-set: a code's time step is accepted once, and never one older than the last.
  useTotpStep: 'UPDATE core_totp SET last_step = @step WHERE principal_id = @id AND last_step < @step',
  deleteCodes: 'DELETE FROM core_recovery_codes WHERE principal_id = ?',
  insertCode: 'INSERT INTO core_recovery_codes (principal_id, code_hash, created_at, used_at) VALUES (?, ?, ?, NULL)',
  useCode: `UPDATE core_recovery_codes SET used_at = ? WHERE principal_id = ? AND code_hash = ? AND used_at IS NULL`,
  countCodes: 'SELECT count(*) AS n FROM core_recovery_codes WHERE principal_id = ? AND used_at IS NULL',
  insertBreakGlass: `INSERT INTO core_break_glass (id, principal_id, tenant, pseudonym, reason, created_at, expires_at, ended_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  liveBreakGlass: `SELECT * FROM core_break_glass
    WHERE principal_id = @id AND tenant = @tenant AND ended_at IS NULL AND expires_at > @at ORDER BY created_at, id`,
  endBreakGlass: 'UPDATE core_break_glass SET ended_at = @at WHERE id = @id AND ended_at IS NULL AND expires_at > @at',
  insertAlert: `INSERT INTO core_alerts (id, kind, principal_id, tenant, subject, created_at, acknowledged_at, acknowledged_by,
      evidence, closed_at, closed_by, close_note)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  listAlerts: 'SELECT * FROM core_alerts ORDER BY created_at DESC, id DESC LIMIT ?',
  listOpenAlerts: 'SELECT * FROM core_alerts WHERE acknowledged_at IS NULL ORDER BY created_at DESC, id DESC LIMIT ?',
  acknowledgeAlert: 'UPDATE core_alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL',
  // Closing acknowledges too, unless someone already did: that first acknowledgement stands.
  closeAlert: `UPDATE core_alerts SET closed_at = @at, closed_by = @by, close_note = @note,
      acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN @by ELSE acknowledged_by END,
      acknowledged_at = coalesce(acknowledged_at, @at)
    WHERE id = @id AND closed_at IS NULL`,
  insertTraining: `INSERT INTO core_training (principal_id, completed_at, expires_at, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?)`,
  latestTraining: 'SELECT * FROM core_training WHERE principal_id = ? ORDER BY expires_at DESC, recorded_at DESC LIMIT 1',
  insertRecertification: `INSERT INTO core_recertifications (principal_id, role, tenants, certified_by, certified_at, expires_at)
    VALUES (?, ?, ?, ?, ?, ?)`,
  latestRecertification: 'SELECT * FROM core_recertifications WHERE principal_id = ? ORDER BY certified_at DESC LIMIT 1',
  insertDrill: `INSERT INTO core_backup_drills (id, finished_at, outcome, snapshot, report, received_at) VALUES (?, ?, ?, ?, ?, ?)`,
  lastDrill: 'SELECT * FROM core_backup_drills ORDER BY received_at DESC, id DESC LIMIT 1',
  lastPassedDrill: "SELECT * FROM core_backup_drills WHERE outcome = 'passed' ORDER BY received_at DESC, id DESC LIMIT 1",
} as const;

type Statements = { readonly [K in keyof typeof SQL]: Statement };

export class SqliteSafeguards implements SafeguardStore {
  readonly #db: Database;
  readonly #statements: () => Statements;

  constructor(db: Database) {
    this.#db = db;
    this.#statements = lazyStatements(db, SQL);
  }

  get #s(): Statements {
    return this.#statements();
  }

  async setTotp(t: TotpRow): Promise<void> {
    checkTotpStep(t.lastStep);
    run(() => this.#s.setTotp.run(t.principalId, t.secret, t.createdAt, t.lastStep));
  }
  async getTotp(principalId: string): Promise<TotpRow | null> {
    return one(run(() => this.#s.getTotp.get(principalId)), toTotp);
  }
  async deleteTotp(principalId: string): Promise<boolean> {
    return run(() => this.#s.deleteTotp.run(principalId)).changes === 1;
  }
  async useTotpStep(principalId: string, step: number): Promise<boolean> {
    checkTotpStep(step);
    return run(() => this.#s.useTotpStep.run({ id: principalId, step })).changes === 1;
  }

  async replaceRecoveryCodes(principalId: string, codeHashes: readonly Buffer[], at: string): Promise<void> {
    run(() => this.#db.transaction(() => {
      this.#s.deleteCodes.run(principalId);
      for (const hash of codeHashes) this.#s.insertCode.run(principalId, hash, at);
    }).immediate());
  }
  async useRecoveryCode(principalId: string, codeHash: Buffer, at: string): Promise<boolean> {
    return run(() => this.#s.useCode.run(at, principalId, codeHash)).changes === 1;
  }
  async countRecoveryCodes(principalId: string): Promise<number> {
    return Number((run(() => this.#s.countCodes.get(principalId)) as Raw).n);
  }

  async insertBreakGlass(b: BreakGlassRow): Promise<void> {
    run(() => this.#s.insertBreakGlass.run(b.id, b.principalId, b.tenant, b.pseudonym, b.reason, b.createdAt, b.expiresAt, b.endedAt));
  }
  async liveBreakGlass(principalId: string, tenant: string, at: string): Promise<BreakGlassRow[]> {
    return run(() => this.#s.liveBreakGlass.all({ id: principalId, tenant, at }) as Raw[]).map(toBreakGlass);
  }
  async endBreakGlass(id: string, at: string): Promise<boolean> {
    return run(() => this.#s.endBreakGlass.run({ id, at })).changes === 1;
  }

  async insertAlert(row: NewAlertRow): Promise<void> {
    const a = alertToInsert(row);
    run(() => this.#s.insertAlert.run(
      a.id, a.kind, a.principalId, a.tenant, a.subject, a.createdAt, a.acknowledgedAt, a.acknowledgedBy,
      JSON.stringify(a.evidence), a.closedAt, a.closedBy, a.closeNote,
    ));
  }
  async listAlerts(options: { open: boolean; limit: number }): Promise<AlertRow[]> {
    checkAlertListing(options);
    const statement = options.open ? this.#s.listOpenAlerts : this.#s.listAlerts;
    return run(() => statement.all(options.limit) as Raw[]).map(toAlert);
  }
  async acknowledgeAlert(id: string, by: string, at: string): Promise<boolean> {
    return run(() => this.#s.acknowledgeAlert.run(at, by, id)).changes === 1;
  }
  async closeAlert(id: string, by: string, note: Buffer, at: string): Promise<boolean> {
    return run(() => this.#s.closeAlert.run({ id, by, note, at })).changes === 1;
  }

  async recordTraining(t: TrainingRow): Promise<void> {
    run(() => this.#s.insertTraining.run(t.principalId, t.completedAt, t.expiresAt, t.recordedBy, t.recordedAt));
  }
  async latestTraining(principalId: string): Promise<TrainingRow | null> {
    return one(run(() => this.#s.latestTraining.get(principalId)), toTraining);
  }
  async recordRecertification(r: RecertificationRow): Promise<void> {
    run(() => this.#s.insertRecertification.run(r.principalId, r.role, JSON.stringify(r.tenants), r.certifiedBy, r.certifiedAt, r.expiresAt));
  }
  async latestRecertification(principalId: string): Promise<RecertificationRow | null> {
    return one(run(() => this.#s.latestRecertification.get(principalId)), toRecertification);
  }

  async insertDrill(row: DrillRow): Promise<void> {
    checkDrill(row);
    run(() => this.#s.insertDrill.run(row.id, row.finishedAt, row.outcome, row.snapshot, row.report, row.receivedAt));
  }
  async lastDrills(): Promise<{ last: DrillRow | null; lastPassed: DrillRow | null }> {
    const last = run(() => this.#s.lastDrill.get() as Raw | undefined);
    const passed = run(() => this.#s.lastPassedDrill.get() as Raw | undefined);
    return { last: last ? toDrill(last) : null, lastPassed: passed ? toDrill(passed) : null };
  }
}
