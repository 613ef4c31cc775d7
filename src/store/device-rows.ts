/**
 * Database rows of the device-grant part to the contract's row type, and the poll rule, shared
 * by both backends (the columns decode alike in SQLite and PostgreSQL).
 */
import { SLOW_DOWN_STEP_SECONDS, type DeviceGrantRow } from './device-types.js';
import { str, strOrNull, type DbRow } from './row-mapping.js';


export function toDeviceGrant(r: DbRow): DeviceGrantRow {
  return {
    deviceCodeHash: r.device_code_hash as Buffer, userCode: str(r.user_code), jkt: str(r.jkt),
    createdAt: str(r.created_at), expiresAt: str(r.expires_at), intervalSeconds: Number(r.interval_seconds),
    lastPolledAt: strOrNull(r.last_polled_at), approvedBy: strOrNull(r.approved_by), approvedAt: strOrNull(r.approved_at),
    deniedAt: strOrNull(r.denied_at), redeemedAt: strOrNull(r.redeemed_at),
  };
}

/** RFC 8628 §3.5: a poll sooner than the interval after the previous one is told to slow down. */
export function nextPoll(before: DeviceGrantRow, at: string): { lastPolledAt: string; intervalSeconds: number; slowDown: boolean } {
  const slowDown = before.lastPolledAt !== null && Date.parse(at) - Date.parse(before.lastPolledAt) < before.intervalSeconds * 1000;
  return { lastPolledAt: at, intervalSeconds: before.intervalSeconds + (slowDown ? SLOW_DOWN_STEP_SECONDS : 0), slowDown };
}
