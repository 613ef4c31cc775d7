/**
 * The device-grant part of the PostgreSQL backend (see device-types.ts): every statement runs in
 * the core part's role, which may update only a grant's poll and decision columns. approve, deny
 * and redeem are one conditional UPDATE each; under READ COMMITTED a second concurrent UPDATE of
 * the same row waits and re-checks its WHERE clause, so exactly one of racing callers wins. A
 * poll locks the row (FOR UPDATE) between reading the previous poll and recording this one.
 */
import { nextPoll, toDeviceGrant } from '../device-rows.js';
import type { DeviceGrantRow, DeviceGrantStore, DevicePoll } from '../device-types.js';
import { coreRead, coreWrite, firstRow, type Named, type PgRunner, type Row } from './postgres-tx.js';

// A grant is live while it has not expired at $2 and is neither denied nor redeemed.
const LIVE = 'expires_at > $2 AND denied_at IS NULL AND redeemed_at IS NULL';

const q = (name: string, text: string): Named => ({ name: `lk_dev_${name}`, text });
const SQL = {
  // A user code held by a grant that is no longer live goes to the new one.
  freeUserCode: q('free_user_code', `DELETE FROM core.device_grants WHERE user_code = $1 AND NOT (${LIVE})`),
  insert: q('insert', `INSERT INTO core.device_grants (device_code_hash, user_code, jkt, created_at, expires_at,
      interval_seconds, last_polled_at, approved_by, approved_at, denied_at, redeemed_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`),
  getByUserCode: q('get_by_user_code', `SELECT * FROM core.device_grants WHERE user_code = $1 AND ${LIVE}`),
  approve: q('approve', `UPDATE core.device_grants SET approved_by = $3, approved_at = $2
    WHERE user_code = $1 AND approved_at IS NULL AND ${LIVE} RETURNING *`),
  deny: q('deny', `UPDATE core.device_grants SET denied_at = $2
    WHERE user_code = $1 AND approved_at IS NULL AND ${LIVE} RETURNING *`),
  getForPoll: q('get_for_poll', 'SELECT * FROM core.device_grants WHERE device_code_hash = $1 FOR UPDATE'),
  recordPoll: q('record_poll', `UPDATE core.device_grants SET last_polled_at = $2, interval_seconds = $3
    WHERE device_code_hash = $1 RETURNING *`),
  redeem: q('redeem', `UPDATE core.device_grants SET redeemed_at = $2
    WHERE device_code_hash = $1 AND approved_at IS NOT NULL AND ${LIVE} RETURNING *`),
  deleteExpired: q('delete_expired', 'DELETE FROM core.device_grants WHERE expires_at <= $1 RETURNING 1'),
} as const;


export class PostgresDevices implements DeviceGrantStore {
  readonly #runner: () => Promise<PgRunner>;

  constructor(runner: () => Promise<PgRunner>) {
    this.#runner = runner;
  }


  async insert(g: DeviceGrantRow): Promise<void> {
    await (await this.#runner()).run('core', async (tx) => {
      await tx.query(SQL.freeUserCode, [g.userCode, g.createdAt]);
      await tx.query(SQL.insert, [
        g.deviceCodeHash, g.userCode, g.jkt, g.createdAt, g.expiresAt, g.intervalSeconds, g.lastPolledAt, g.approvedBy, g.approvedAt,
        g.deniedAt, g.redeemedAt,
      ]);
    });
  }
  async getByUserCode(userCode: string, at: string): Promise<DeviceGrantRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.getByUserCode, [userCode, at]), toDeviceGrant);
  }
  async approve(userCode: string, principalId: string, at: string): Promise<DeviceGrantRow | null> {
    return firstRow(await coreWrite(this.#runner, SQL.approve, [userCode, at, principalId]), toDeviceGrant);
  }
  async deny(userCode: string, at: string): Promise<DeviceGrantRow | null> {
    return firstRow(await coreWrite(this.#runner, SQL.deny, [userCode, at]), toDeviceGrant);
  }
  async poll(deviceCodeHash: Buffer, at: string): Promise<DevicePoll | null> {
    return (await this.#runner()).run('core', async (tx) => {
      const before = firstRow(await tx.query(SQL.getForPoll, [deviceCodeHash]), toDeviceGrant);
      if (before === null) return null;
      const next = nextPoll(before, at);
      const [row] = await tx.query(SQL.recordPoll, [deviceCodeHash, next.lastPolledAt, next.intervalSeconds]);
      return { row: toDeviceGrant(row as Row), slowDown: next.slowDown };
    });
  }
  async redeem(deviceCodeHash: Buffer, at: string): Promise<DeviceGrantRow | null> {
    return firstRow(await coreWrite(this.#runner, SQL.redeem, [deviceCodeHash, at]), toDeviceGrant);
  }
  async deleteExpired(before: string): Promise<number> {
    return (await coreWrite(this.#runner, SQL.deleteExpired, [before])).length;
  }
}
