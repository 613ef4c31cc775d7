/**
 * The device-grant part of the SQLite backend (see device-types.ts). Statements are prepared on
 * first use, after the store has migrated. approve, deny and redeem are one conditional UPDATE
 * each; insert and poll read and write inside one BEGIN IMMEDIATE transaction, so a second
 * process on the same file waits for the first.
 */
import type { Database, Statement } from 'better-sqlite3';
import { nextPoll, toDeviceGrant } from '../device-rows.js';
import type { DeviceGrantRow, DeviceGrantStore, DevicePoll } from '../device-types.js';
import { lazyStatements, one, run } from './sqlite-run.js';
import type { Raw } from './sqlite-rows.js';

// A grant is pending while it is live and neither approved nor denied.
const LIVE = 'expires_at > @at AND denied_at IS NULL AND redeemed_at IS NULL';

const SQL = {
  // A user code held by a grant that is no longer live goes to the new one.
  freeUserCode: `DELETE FROM core_device_grants
    WHERE user_code = @code AND NOT (${LIVE})`,
  insert: `INSERT INTO core_device_grants (device_code_hash, user_code, jkt, created_at, expires_at, interval_seconds,
      last_polled_at, approved_by, approved_at, denied_at, redeemed_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  getByUserCode: `SELECT * FROM core_device_grants WHERE user_code = @code AND ${LIVE}`,
  approve: `UPDATE core_device_grants SET approved_by = @principal, approved_at = @at
    WHERE user_code = @code AND approved_at IS NULL AND ${LIVE} RETURNING *`,
  deny: `UPDATE core_device_grants SET denied_at = @at
    WHERE user_code = @code AND approved_at IS NULL AND ${LIVE} RETURNING *`,
  getByHash: 'SELECT * FROM core_device_grants WHERE device_code_hash = ?',
  recordPoll: `UPDATE core_device_grants SET last_polled_at = ?, interval_seconds = ?
    WHERE device_code_hash = ? RETURNING *`,
  redeem: `UPDATE core_device_grants SET redeemed_at = @at
    WHERE device_code_hash = @hash AND approved_at IS NOT NULL AND ${LIVE} RETURNING *`,
  deleteExpired: 'DELETE FROM core_device_grants WHERE expires_at <= ?',
} as const;

type Statements = { readonly [K in keyof typeof SQL]: Statement };

export class SqliteDevices implements DeviceGrantStore {
  readonly #db: Database;
  readonly #statements: () => Statements;

  constructor(db: Database) {
    this.#db = db;
    this.#statements = lazyStatements(db, SQL);
  }

  get #s(): Statements {
    return this.#statements();
  }

  async insert(g: DeviceGrantRow): Promise<void> {
    run(() => this.#db.transaction(() => {
      this.#s.freeUserCode.run({ code: g.userCode, at: g.createdAt });
      this.#s.insert.run(
        g.deviceCodeHash, g.userCode, g.jkt, g.createdAt, g.expiresAt, g.intervalSeconds, g.lastPolledAt, g.approvedBy, g.approvedAt,
        g.deniedAt, g.redeemedAt,
      );
    }).immediate());
  }
  async getByUserCode(userCode: string, at: string): Promise<DeviceGrantRow | null> {
    return one(run(() => this.#s.getByUserCode.get({ code: userCode, at })), toDeviceGrant);
  }
  async approve(userCode: string, principalId: string, at: string): Promise<DeviceGrantRow | null> {
    return one(run(() => this.#s.approve.get({ code: userCode, principal: principalId, at })), toDeviceGrant);
  }
  async deny(userCode: string, at: string): Promise<DeviceGrantRow | null> {
    return one(run(() => this.#s.deny.get({ code: userCode, at })), toDeviceGrant);
  }
  async poll(deviceCodeHash: Buffer, at: string): Promise<DevicePoll | null> {
    return run(() => this.#db.transaction(() => {
      const before = one(this.#s.getByHash.get(deviceCodeHash), toDeviceGrant);
      if (before === null) return null;
      const next = nextPoll(before, at);
      const row = toDeviceGrant(this.#s.recordPoll.get(next.lastPolledAt, next.intervalSeconds, deviceCodeHash) as Raw);
      return { row, slowDown: next.slowDown };
    }).immediate());
  }
  async redeem(deviceCodeHash: Buffer, at: string): Promise<DeviceGrantRow | null> {
    return one(run(() => this.#s.redeem.get({ hash: deviceCodeHash, at })), toDeviceGrant);
  }
  async deleteExpired(before: string): Promise<number> {
    return run(() => this.#s.deleteExpired.run(before)).changes;
  }
}
