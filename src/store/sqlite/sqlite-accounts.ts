/**
 * The accounts part of the SQLite backend (see account-types.ts). Statements are prepared on
 * first use, after the store has migrated.
 */
import type { Database, Statement } from 'better-sqlite3';
import { accountRowMappers } from '../account-rows.js';
import type { AccountRow, AccountStore, EnrolmentLinkRow, RefreshTokenRow, SessionRow } from '../account-types.js';
import type { PrincipalRow } from '../types.js';
import { lazyStatements, mustChange, one, run } from './sqlite-run.js';
import type { Raw } from './sqlite-rows.js';

const { toAccount, toEnrolmentLink, toSession, toRefreshToken } = accountRowMappers((v) => v === 1);

const SQL = {
  insertPrincipal: `INSERT INTO core_principals (id, kind, role, tenants, instrument, display_name, disabled, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  insertAccount: `INSERT INTO core_accounts (principal_id, username, password_hash, password_changed_at, totp_allowed, created_at)
    VALUES (?, ?, ?, ?, ?, ?)`,
  getAccount: 'SELECT * FROM core_accounts WHERE principal_id = ?',
  findAccount: 'SELECT * FROM core_accounts WHERE username = ?',
  anyAccount: 'SELECT 1 AS one FROM core_accounts LIMIT 1',
  listAccounts: 'SELECT * FROM core_accounts ORDER BY username',
  getLink: 'SELECT * FROM core_enrolment_links WHERE secret_hash = ?',
  setPassword: 'UPDATE core_accounts SET password_hash = ?, password_changed_at = ? WHERE principal_id = ?',
  insertLink: `INSERT INTO core_enrolment_links (secret_hash, principal_id, purpose, created_by, created_at, expires_at, used_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  consumeLink: `UPDATE core_enrolment_links SET used_at = ?
    WHERE secret_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING *`,
  voidLinksOf: 'UPDATE core_enrolment_links SET used_at = ? WHERE principal_id = ? AND used_at IS NULL',
  insertSession: `INSERT INTO core_sessions (id, principal_id, jkt, created_at, last_seen_at, idle_seconds, absolute_expires_at,
      authenticated_at, auth_method, revoked_at, revoked_reason, ip, user_agent)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  getSession: 'SELECT * FROM core_sessions WHERE id = ?',
  listSessions: 'SELECT * FROM core_sessions WHERE principal_id = ? ORDER BY created_at, id',
  touchSession: `UPDATE core_sessions SET last_seen_at = ? WHERE id = ? AND revoked_at IS NULL AND last_seen_at < ?`,
  setAuthenticated: `UPDATE core_sessions SET authenticated_at = ? WHERE id = ? AND revoked_at IS NULL`,
  revokeSession: `UPDATE core_sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL`,
  revokeSessionsOf: `UPDATE core_sessions SET revoked_at = ?, revoked_reason = ? WHERE principal_id = ? AND revoked_at IS NULL`,
  revokeOtherSessionsOf: `UPDATE core_sessions SET revoked_at = ?, revoked_reason = ?
    WHERE principal_id = ? AND id <> ? AND revoked_at IS NULL`,
  rememberProof: `INSERT INTO core_dpop_proofs (key, expires_at) VALUES (?, ?)
    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE core_dpop_proofs.expires_at < ?`,
  forgetProofs: 'DELETE FROM core_dpop_proofs WHERE expires_at < ?',
  insertRefresh: `INSERT INTO core_refresh_tokens (secret_hash, session_id, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?)`,
  getRefresh: 'SELECT * FROM core_refresh_tokens WHERE secret_hash = ?',
  useRefresh: 'UPDATE core_refresh_tokens SET used_at = ? WHERE secret_hash = ? AND used_at IS NULL',
} as const;

type Statements = { readonly [K in keyof typeof SQL]: Statement };

export class SqliteAccounts implements AccountStore {
  readonly #db: Database;
  readonly #statements: () => Statements;

  constructor(db: Database) {
    this.#db = db;
    this.#statements = lazyStatements(db, SQL);
  }

  get #s(): Statements {
    return this.#statements();
  }

  async insertAccount(p: PrincipalRow, a: AccountRow): Promise<void> {
    if (p.id !== a.principalId || p.kind !== 'human') throw new TypeError('an account belongs to its own human principal');
    run(() => this.#db.transaction(() => {
      this.#s.insertPrincipal.run(p.id, p.kind, p.role, JSON.stringify(p.tenants), p.instrument, p.displayName, p.disabled ? 1 : 0, p.createdAt);
      this.#s.insertAccount.run(a.principalId, a.username, a.passwordHash, a.passwordChangedAt, a.totpAllowed ? 1 : 0, a.createdAt);
    }).immediate());
  }
  async getAccount(principalId: string): Promise<AccountRow | null> {
    return one(run(() => this.#s.getAccount.get(principalId)), toAccount);
  }
  async findAccountByUsername(username: string): Promise<AccountRow | null> {
    return one(run(() => this.#s.findAccount.get(username)), toAccount);
  }
  async anyAccount(): Promise<boolean> {
    return run(() => this.#s.anyAccount.get()) !== undefined;
  }
  async listAccounts(): Promise<AccountRow[]> {
    return run(() => this.#s.listAccounts.all() as Raw[]).map(toAccount);
  }
  async setPasswordHash(principalId: string, passwordHash: string, at: string): Promise<void> {
    mustChange(run(() => this.#s.setPassword.run(passwordHash, at, principalId)).changes);
  }

  async insertEnrolmentLink(l: EnrolmentLinkRow): Promise<void> {
    run(() => this.#s.insertLink.run(l.secretHash, l.principalId, l.purpose, l.createdBy, l.createdAt, l.expiresAt, l.usedAt));
  }
  async getEnrolmentLink(secretHash: Buffer): Promise<EnrolmentLinkRow | null> {
    return one(run(() => this.#s.getLink.get(secretHash)), toEnrolmentLink);
  }
  async consumeEnrolmentLink(secretHash: Buffer, at: string): Promise<EnrolmentLinkRow | null> {
    return one(run(() => this.#s.consumeLink.get(at, secretHash, at)), toEnrolmentLink);
  }
  async voidEnrolmentLinksOf(principalId: string, at: string): Promise<number> {
    return run(() => this.#s.voidLinksOf.run(at, principalId)).changes;
  }

  async insertSession(s: SessionRow): Promise<void> {
    run(() => this.#s.insertSession.run(
      s.id, s.principalId, s.jkt, s.createdAt, s.lastSeenAt, s.idleSeconds, s.absoluteExpiresAt, s.authenticatedAt, s.authMethod,
      s.revokedAt, s.revokedReason, s.ip, s.userAgent,
    ));
  }
  async getSession(id: string): Promise<SessionRow | null> {
    return one(run(() => this.#s.getSession.get(id)), toSession);
  }
  async listSessions(principalId: string): Promise<SessionRow[]> {
    return run(() => this.#s.listSessions.all(principalId) as Raw[]).map(toSession);
  }
  async touchSession(id: string, at: string): Promise<void> {
    run(() => this.#s.touchSession.run(at, id, at));
  }
  async setSessionAuthenticated(id: string, at: string): Promise<void> {
    mustChange(run(() => this.#s.setAuthenticated.run(at, id)).changes);
  }
  async revokeSession(id: string, at: string, reason: string): Promise<boolean> {
    return run(() => this.#s.revokeSession.run(at, reason, id)).changes === 1;
  }
  async revokeSessionsOf(principalId: string, at: string, reason: string): Promise<number> {
    return run(() => this.#s.revokeSessionsOf.run(at, reason, principalId)).changes;
  }
  async revokeOtherSessionsOf(principalId: string, keepId: string, at: string, reason: string): Promise<number> {
    return run(() => this.#s.revokeOtherSessionsOf.run(at, reason, principalId, keepId)).changes;
  }

  async rememberProof(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return run(() => this.#s.rememberProof.run(key, expiresAtMs, nowMs)).changes === 1;
  }
  async forgetProofs(beforeMs: number): Promise<number> {
    return run(() => this.#s.forgetProofs.run(beforeMs)).changes;
  }
  async insertRefreshToken(r: RefreshTokenRow): Promise<void> {
    run(() => this.#s.insertRefresh.run(r.secretHash, r.sessionId, r.createdAt, r.expiresAt, r.usedAt));
  }
  async useRefreshToken(secretHash: Buffer, at: string): Promise<{ readonly row: RefreshTokenRow; readonly reused: boolean } | null> {
    return run(() => this.#db.transaction(() => {
      const before = this.#s.getRefresh.get(secretHash) as Raw | undefined;
      if (before === undefined) return null;
      const first = this.#s.useRefresh.run(at, secretHash).changes === 1;
      return { row: toRefreshToken(before), reused: !first };
    }).immediate());
  }
}
