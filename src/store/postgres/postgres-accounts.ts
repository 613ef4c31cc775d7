/**
 * The accounts part of the PostgreSQL backend (see account-types.ts): every statement runs in
 * the core part's role, which may update only the columns sign-in changes.
 */
import { LabkluisError } from '../../kernel/index.js';
import { accountRowMappers } from '../account-rows.js';
import type { AccountRow, AccountStore, EnrolmentLinkRow, RefreshTokenRow, SessionRow } from '../account-types.js';
import type { PrincipalRow } from '../types.js';
import { coreRead, coreWrite, firstRow, type PgRunner, type Row } from './postgres-tx.js';

const { toAccount, toEnrolmentLink, toSession, toRefreshToken } = accountRowMappers((v) => v === true);

const q = (name: string, text: string) => ({ name: `lk_acc_${name}`, text });
const SQL = {
  insertPrincipal: q('insert_principal', `INSERT INTO core.principals
    (id, kind, role, tenants, instrument, display_name, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`),
  insertAccount: q('insert_account', `INSERT INTO core.accounts
    (principal_id, username, password_hash, password_changed_at, totp_allowed, created_at) VALUES ($1, $2, $3, $4, $5, $6)`),
  getAccount: q('get_account', 'SELECT * FROM core.accounts WHERE principal_id = $1'),
  findAccount: q('find_account', 'SELECT * FROM core.accounts WHERE username = $1'),
  anyAccount: q('any_account', 'SELECT 1 AS one FROM core.accounts LIMIT 1'),
  listAccounts: q('list_accounts', 'SELECT * FROM core.accounts ORDER BY username'),
  getLink: q('get_link', 'SELECT * FROM core.enrolment_links WHERE secret_hash = $1'),
  setPassword: q('set_password', `UPDATE core.accounts SET password_hash = $2, password_changed_at = $3
    WHERE principal_id = $1 RETURNING 1`),
  insertLink: q('insert_link', `INSERT INTO core.enrolment_links
    (secret_hash, principal_id, purpose, created_by, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
  consumeLink: q('consume_link', `UPDATE core.enrolment_links SET used_at = $2
    WHERE secret_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING *`),
  voidLinksOf: q('void_links_of', 'UPDATE core.enrolment_links SET used_at = $2 WHERE principal_id = $1 AND used_at IS NULL RETURNING 1'),
  insertSession: q('insert_session', `INSERT INTO core.sessions (id, principal_id, jkt, created_at, last_seen_at, idle_seconds,
      absolute_expires_at, authenticated_at, auth_method, revoked_at, revoked_reason, ip, user_agent)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`),
  getSession: q('get_session', 'SELECT * FROM core.sessions WHERE id = $1'),
  listSessions: q('list_sessions', 'SELECT * FROM core.sessions WHERE principal_id = $1 ORDER BY created_at, id'),
  touchSession: q('touch_session', `UPDATE core.sessions SET last_seen_at = $2
    WHERE id = $1 AND revoked_at IS NULL AND last_seen_at < $2`),
  setAuthenticated: q('set_authenticated', `UPDATE core.sessions SET authenticated_at = $2
    WHERE id = $1 AND revoked_at IS NULL RETURNING 1`),
  revokeSession: q('revoke_session', `UPDATE core.sessions SET revoked_at = $2, revoked_reason = $3
    WHERE id = $1 AND revoked_at IS NULL RETURNING 1`),
  revokeSessionsOf: q('revoke_sessions_of', `UPDATE core.sessions SET revoked_at = $2, revoked_reason = $3
    WHERE principal_id = $1 AND revoked_at IS NULL RETURNING 1`),
  revokeOtherSessionsOf: q('revoke_other_sessions_of', `UPDATE core.sessions SET revoked_at = $3, revoked_reason = $4
    WHERE principal_id = $1 AND id <> $2 AND revoked_at IS NULL RETURNING 1`),
  rememberProof: q('remember_proof', `INSERT INTO core.dpop_proofs (key, expires_at) VALUES ($1, $2)
    ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE core.dpop_proofs.expires_at < $3 RETURNING 1`),
  forgetProofs: q('forget_proofs', 'DELETE FROM core.dpop_proofs WHERE expires_at < $1 RETURNING 1'),
  insertRefresh: q('insert_refresh', `INSERT INTO core.refresh_tokens (secret_hash, session_id, created_at, expires_at, used_at)
    VALUES ($1, $2, $3, $4, $5)`),
  // Row-locked, so of two concurrent uses exactly one sees used_at still empty.
  getRefreshForUpdate: q('get_refresh_for_update', 'SELECT * FROM core.refresh_tokens WHERE secret_hash = $1 FOR UPDATE'),
  useRefresh: q('use_refresh', 'UPDATE core.refresh_tokens SET used_at = $2 WHERE secret_hash = $1 AND used_at IS NULL RETURNING 1'),
} as const;


export class PostgresAccounts implements AccountStore {
  readonly #runner: () => Promise<PgRunner>;

  constructor(runner: () => Promise<PgRunner>) {
    this.#runner = runner;
  }


  async insertAccount(p: PrincipalRow, a: AccountRow): Promise<void> {
    if (p.id !== a.principalId || p.kind !== 'human') throw new TypeError('an account belongs to its own human principal');
    await (await this.#runner()).run('core', async (tx) => {
      await tx.query(SQL.insertPrincipal, [p.id, p.kind, p.role, p.tenants, p.instrument, p.displayName, p.disabled, p.createdAt]);
      await tx.query(SQL.insertAccount, [a.principalId, a.username, a.passwordHash, a.passwordChangedAt, a.totpAllowed, a.createdAt]);
    });
  }
  async getAccount(principalId: string): Promise<AccountRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.getAccount, [principalId]), toAccount);
  }
  async findAccountByUsername(username: string): Promise<AccountRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.findAccount, [username]), toAccount);
  }
  async anyAccount(): Promise<boolean> {
    return (await coreRead(this.#runner, SQL.anyAccount, [])).length > 0;
  }
  async listAccounts(): Promise<AccountRow[]> {
    return (await coreRead(this.#runner, SQL.listAccounts, [])).map(toAccount);
  }
  async setPasswordHash(principalId: string, passwordHash: string, at: string): Promise<void> {
    if ((await coreWrite(this.#runner, SQL.setPassword, [principalId, passwordHash, at])).length !== 1) throw notFound();
  }

  async insertEnrolmentLink(l: EnrolmentLinkRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertLink, [l.secretHash, l.principalId, l.purpose, l.createdBy, l.createdAt, l.expiresAt, l.usedAt]);
  }
  async getEnrolmentLink(secretHash: Buffer): Promise<EnrolmentLinkRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.getLink, [secretHash]), toEnrolmentLink);
  }
  async consumeEnrolmentLink(secretHash: Buffer, at: string): Promise<EnrolmentLinkRow | null> {
    return firstRow(await coreWrite(this.#runner, SQL.consumeLink, [secretHash, at]), toEnrolmentLink);
  }
  async voidEnrolmentLinksOf(principalId: string, at: string): Promise<number> {
    return (await coreWrite(this.#runner, SQL.voidLinksOf, [principalId, at])).length;
  }

  async insertSession(s: SessionRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertSession, [
      s.id, s.principalId, s.jkt, s.createdAt, s.lastSeenAt, s.idleSeconds, s.absoluteExpiresAt, s.authenticatedAt, s.authMethod,
      s.revokedAt, s.revokedReason, s.ip, s.userAgent,
    ]);
  }
  async getSession(id: string): Promise<SessionRow | null> {
    return firstRow(await coreRead(this.#runner, SQL.getSession, [id]), toSession);
  }
  async listSessions(principalId: string): Promise<SessionRow[]> {
    return (await coreRead(this.#runner, SQL.listSessions, [principalId])).map(toSession);
  }
  async touchSession(id: string, at: string): Promise<void> {
    await coreWrite(this.#runner, SQL.touchSession, [id, at]);
  }
  async setSessionAuthenticated(id: string, at: string): Promise<void> {
    if ((await coreWrite(this.#runner, SQL.setAuthenticated, [id, at])).length !== 1) throw notFound();
  }
  async revokeSession(id: string, at: string, reason: string): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.revokeSession, [id, at, reason])).length === 1;
  }
  async revokeSessionsOf(principalId: string, at: string, reason: string): Promise<number> {
    return (await coreWrite(this.#runner, SQL.revokeSessionsOf, [principalId, at, reason])).length;
  }
  async revokeOtherSessionsOf(principalId: string, keepId: string, at: string, reason: string): Promise<number> {
    return (await coreWrite(this.#runner, SQL.revokeOtherSessionsOf, [principalId, keepId, at, reason])).length;
  }

  async rememberProof(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return (await coreWrite(this.#runner, SQL.rememberProof, [key, expiresAtMs, nowMs])).length === 1;
  }
  async forgetProofs(beforeMs: number): Promise<number> {
    return (await coreWrite(this.#runner, SQL.forgetProofs, [beforeMs])).length;
  }
  async insertRefreshToken(r: RefreshTokenRow): Promise<void> {
    await coreWrite(this.#runner, SQL.insertRefresh, [r.secretHash, r.sessionId, r.createdAt, r.expiresAt, r.usedAt]);
  }
  async useRefreshToken(secretHash: Buffer, at: string): Promise<{ readonly row: RefreshTokenRow; readonly reused: boolean } | null> {
    return (await this.#runner()).run('core', async (tx) => {
      const [before] = await tx.query(SQL.getRefreshForUpdate, [secretHash]);
      if (before === undefined) return null;
      const used = await tx.query(SQL.useRefresh, [secretHash, at]);
      return { row: toRefreshToken(before), reused: used.length !== 1 };
    });
  }
}

function notFound(): LabkluisError {
  return new LabkluisError('ERR_NOT_FOUND', 'no such record');
}
