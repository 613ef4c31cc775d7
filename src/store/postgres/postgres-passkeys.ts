/**
 * The passkey part of the PostgreSQL backend (see passkey-types.ts): every statement runs in
 * the core part's role, which may update only a passkey's counter and last use and a
 * challenge's used_at. Each contract method is one statement; under READ COMMITTED a second
 * concurrent UPDATE of the same row waits and re-checks its WHERE clause against the first
 * one's result, so of racing compare-and-sets and consumers exactly one changes the row.
 * The one exception, deleteCredentialUnlessLast, decides over several rows: it locks them first.
 */
import { passkeyRowMappers } from '../passkey-rows.js';
import type { ChallengeRow, PasskeyRow, PasskeyStore } from '../passkey-types.js';
import { coreRead, coreWrite, firstRow, type Named, type PgRunner } from './postgres-tx.js';

const { toPasskey, toChallenge } = passkeyRowMappers({ strings: (v) => v as string[], flag: (v) => v === true });

const q = (name: string, text: string): Named => ({ name: `lk_pk_${name}`, text });
const SQL = {
  insertPasskey: q('insert_passkey', `INSERT INTO core.passkeys (credential_id, principal_id, public_key, counter, transports,
      backed_up, device_type, created_at, last_used_at, name)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`),
  getPasskey: q('get_passkey', 'SELECT * FROM core.passkeys WHERE credential_id = $1'),
  listPasskeys: q('list_passkeys', 'SELECT * FROM core.passkeys WHERE principal_id = $1 ORDER BY created_at, credential_id'),
  // Compare-and-set (WebAuthn §6.1.1): forward only, or 0 kept at 0 by a non-counting authenticator.
  updateCounter: q('update_counter', `UPDATE core.passkeys SET counter = $2::bigint, last_used_at = $3
    WHERE credential_id = $1 AND (counter < $2::bigint OR (counter = 0 AND $2::bigint = 0)) RETURNING 1`),
  deletePasskey: q('delete_passkey', 'DELETE FROM core.passkeys WHERE credential_id = $1 AND principal_id = $2 RETURNING 1'),
  // Locks every credential of the principal (in one order): a concurrent removal waits here, and
  // once the first commits it sees the rows that are left, so two removals cannot take the last two.
  lockPasskeysOf: q('lock_passkeys_of', `SELECT credential_id FROM core.passkeys WHERE principal_id = $1
    ORDER BY credential_id FOR UPDATE`),
  insertChallenge: q('insert_challenge', `INSERT INTO core.passkey_challenges
    (id, challenge, purpose, principal_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
  consumeChallenge: q('consume_challenge', `UPDATE core.passkey_challenges SET used_at = $2
    WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING *`),
  deleteExpired: q('delete_expired', 'DELETE FROM core.passkey_challenges WHERE expires_at <= $1 RETURNING 1'),
} as const;


export class PostgresPasskeys implements PasskeyStore {
  readonly #runner: () => Promise<PgRunner>;

  constructor(runner: () => Promise<PgRunner>) {
    this.#runner = runner;
  }


  async saveCredential(c: PasskeyRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertPasskey, [
      c.credentialId, c.principalId, c.publicKey, c.counter, [...c.transports], c.backedUp, c.deviceType, c.createdAt,
      c.lastUsedAt, c.name,
    ]);
  }
  async getCredential(credentialId: string): Promise<PasskeyRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.getPasskey, [credentialId]), toPasskey);
  }
  async listCredentials(principalId: string): Promise<PasskeyRow[]> {
    return (await coreRead(this.#runner, SQL.listPasskeys, [principalId])).map(toPasskey);
  }
  async updateCounter(credentialId: string, counter: number, lastUsedAt: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.updateCounter, [credentialId, counter, lastUsedAt])).length === 1;
  }
  async deleteCredential(principalId: string, credentialId: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.deletePasskey, [credentialId, principalId])).length === 1;
  }

  async deleteCredentialUnlessLast(principalId: string, credentialId: string): Promise<'deleted' | 'unknown' | 'last'> {
    return (await this.#runner()).run('core', async (tx) => {
      const mine = (await tx.query(SQL.lockPasskeysOf, [principalId])).map((r) => r.credential_id as string);
      if (!mine.includes(credentialId)) return 'unknown';
      if (mine.length <= 1) return 'last';
      await tx.query(SQL.deletePasskey, [credentialId, principalId]);
      return 'deleted';
    });
  }

  async saveChallenge(c: ChallengeRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertChallenge, [c.id, c.challenge, c.purpose, c.principalId, c.createdAt, c.expiresAt, c.usedAt]);
  }
  async consumeChallenge(id: string, at: string): Promise<ChallengeRow | null> {
    return firstRow(await coreWrite(this.#runner, SQL.consumeChallenge, [id, at]), toChallenge);
  }
  async deleteExpiredChallenges(before: string): Promise<number> {
    return (await coreWrite(this.#runner, SQL.deleteExpired, [before])).length;
  }
}
