/**
 * The passkey part of the SQLite backend (see passkey-types.ts). Statements are prepared on
 * first use, after the store has migrated. Each contract method is one statement, so it is
 * atomic even with a second process on the same file; the conditional ones decide in their
 * WHERE clause, never in a read before the write.
 */
import type { Database, Statement } from 'better-sqlite3';
import { passkeyRowMappers } from '../passkey-rows.js';
import type { ChallengeRow, PasskeyRow, PasskeyStore } from '../passkey-types.js';
import { lazyStatements, one, run } from './sqlite-run.js';
import type { Raw } from './sqlite-rows.js';

const { toPasskey, toChallenge } = passkeyRowMappers({ strings: (v) => JSON.parse(v as string) as string[], flag: (v) => v === 1 });

const SQL = {
  insertPasskey: `INSERT INTO core_passkeys (credential_id, principal_id, public_key, counter, transports, backed_up,
      device_type, created_at, last_used_at, name)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  getPasskey: 'SELECT * FROM core_passkeys WHERE credential_id = ?',
  listPasskeys: 'SELECT * FROM core_passkeys WHERE principal_id = ? ORDER BY created_at, credential_id',
  // Compare-and-set (WebAuthn §6.1.1): forward only, or 0 kept at 0 by a non-counting authenticator.
  updateCounter: `UPDATE core_passkeys SET counter = @counter, last_used_at = @at
    WHERE credential_id = @id AND (counter < @counter OR (counter = 0 AND @counter = 0))`,
  deletePasskey: 'DELETE FROM core_passkeys WHERE credential_id = ? AND principal_id = ?',
  // One statement decides: SQLite has one writer at a time, so the count cannot change under it.
  deletePasskeyUnlessLast: `DELETE FROM core_passkeys WHERE credential_id = @id AND principal_id = @principal
    AND (SELECT count(*) FROM core_passkeys WHERE principal_id = @principal) > 1`,
  insertChallenge: `INSERT INTO core_passkey_challenges (id, challenge, purpose, principal_id, created_at, expires_at, used_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  consumeChallenge: `UPDATE core_passkey_challenges SET used_at = @at
    WHERE id = @id AND used_at IS NULL AND expires_at > @at RETURNING *`,
  deleteExpired: 'DELETE FROM core_passkey_challenges WHERE expires_at <= ?',
} as const;

type Statements = { readonly [K in keyof typeof SQL]: Statement };

export class SqlitePasskeys implements PasskeyStore {
  readonly #db: Database;
  readonly #statements: () => Statements;

  constructor(db: Database) {
    this.#db = db;
    this.#statements = lazyStatements(db, SQL);
  }

  get #s(): Statements {
    return this.#statements();
  }

  async saveCredential(c: PasskeyRow): Promise<void> {
    run(() => this.#s.insertPasskey.run(
      c.credentialId, c.principalId, c.publicKey, c.counter, JSON.stringify(c.transports), c.backedUp ? 1 : 0, c.deviceType,
      c.createdAt, c.lastUsedAt, c.name,
    ));
  }
  async getCredential(credentialId: string): Promise<PasskeyRow | null> {
    return one(run(() => this.#s.getPasskey.get(credentialId)), toPasskey);
  }
  async listCredentials(principalId: string): Promise<PasskeyRow[]> {
    return run(() => this.#s.listPasskeys.all(principalId) as Raw[]).map(toPasskey);
  }
  async updateCounter(credentialId: string, counter: number, lastUsedAt: string): Promise<boolean> {
    return run(() => this.#s.updateCounter.run({ id: credentialId, counter, at: lastUsedAt })).changes === 1;
  }
  async deleteCredential(principalId: string, credentialId: string): Promise<boolean> {
    return run(() => this.#s.deletePasskey.run(credentialId, principalId)).changes === 1;
  }

  async deleteCredentialUnlessLast(principalId: string, credentialId: string): Promise<'deleted' | 'unknown' | 'last'> {
    if (run(() => this.#s.deletePasskeyUnlessLast.run({ id: credentialId, principal: principalId })).changes === 1) return 'deleted';
    // Nothing deleted: say why. A credential that is theirs and still there was their last one.
    const row = await this.getCredential(credentialId);
    return row !== null && row.principalId === principalId ? 'last' : 'unknown';
  }

  async saveChallenge(c: ChallengeRow): Promise<void> {
    run(() => this.#s.insertChallenge.run(c.id, c.challenge, c.purpose, c.principalId, c.createdAt, c.expiresAt, c.usedAt));
  }
  async consumeChallenge(id: string, at: string): Promise<ChallengeRow | null> {
    return one(run(() => this.#s.consumeChallenge.get({ id, at })), toChallenge);
  }
  async deleteExpiredChallenges(before: string): Promise<number> {
    return run(() => this.#s.deleteExpired.run(before)).changes;
  }
}
