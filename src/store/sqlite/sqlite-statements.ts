/**
 * Every fixed statement, prepared once when the store opens (after migration). Dynamic
 * search statements are cached separately in sqlite-search.ts.
 */
import type { Database, Statement } from 'better-sqlite3';

const SQL = {
  insertTenant: 'INSERT INTO core_tenants (id, name, kind, created_at) VALUES (?, ?, ?, ?)',
  getTenant: 'SELECT * FROM core_tenants WHERE id = ?',
  listTenants: 'SELECT * FROM core_tenants ORDER BY id',
  insertPrincipal: `INSERT INTO core_principals (id, kind, role, tenants, instrument, display_name, disabled, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  getPrincipal: `SELECT p.*, EXISTS (SELECT 1 FROM core_sentinel_containments c WHERE c.principal_id = p.id AND c.lifted_at IS NULL)
    AS contained FROM core_principals p WHERE p.id = ?`,
  setPrincipalDisabled: 'UPDATE core_principals SET disabled = ? WHERE id = ?',
  insertApiToken: `INSERT INTO core_api_tokens (id, principal_id, secret_hash, created_at, expires_at, revoked_at, jkt)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  getApiToken: 'SELECT * FROM core_api_tokens WHERE id = ?',
  // The first revocation time stands: revoking again must not move it later.
  revokeApiToken: 'UPDATE core_api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?',
  revokeApiTokensOf: 'UPDATE core_api_tokens SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL',
  insertDataKey: `INSERT INTO core_data_keys (tenant, purpose, version, kek_id, wrapped, created_at)
    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  getDataKey: 'SELECT * FROM core_data_keys WHERE tenant = ? AND purpose = ? AND version = ?',
  getDataKeys: 'SELECT * FROM core_data_keys WHERE tenant = ? AND purpose = ? ORDER BY version',

  insertPerson: `INSERT INTO identity_persons (tenant, pseudonym, version, bsn_token, body, entered_by, last_updated, is_current)
    VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
  retirePerson: `UPDATE identity_persons SET is_current = 0
    WHERE tenant = ? AND pseudonym = ? AND version = ? AND is_current = 1`,
  getPerson: 'SELECT * FROM identity_persons WHERE tenant = ? AND pseudonym = ? AND is_current = 1',
  findPersonsByBsn: `SELECT * FROM identity_persons WHERE tenant = ? AND bsn_token = ? AND is_current = 1
    ORDER BY pseudonym`,

  insertResource: `INSERT INTO clinical_resources (tenant, type, id, version, pseudonym, status, date, tokens,
      unique_tokens, body, entered_by, last_updated, is_current)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
  retireResource: `UPDATE clinical_resources SET is_current = 0
    WHERE tenant = ? AND type = ? AND id = ? AND version = ? AND is_current = 1 RETURNING pos, tokens`,
  insertToken: 'INSERT OR IGNORE INTO clinical_tokens (tenant, token, pos) VALUES (?, ?, ?)',
  deleteToken: 'DELETE FROM clinical_tokens WHERE tenant = ? AND token = ? AND pos = ?',
  claimUniqueToken: 'INSERT INTO clinical_unique_tokens (tenant, token, type, id) VALUES (?, ?, ?, ?)',
  releaseUniqueTokens: 'DELETE FROM clinical_unique_tokens WHERE tenant = ? AND type = ? AND id = ?',
  getCurrentResource: 'SELECT * FROM clinical_resources WHERE tenant = ? AND type = ? AND id = ? AND is_current = 1',
  getResourceVersion: 'SELECT * FROM clinical_resources WHERE tenant = ? AND type = ? AND id = ? AND version = ?',

  getHead: 'SELECT size, frontier, last_mac FROM audit_head WHERE id = 1',
  setHead: 'UPDATE audit_head SET size = ?, frontier = ?, last_mac = ? WHERE id = 1',
  insertAudit: `INSERT INTO audit_entries (seq, time, action, principal_id, tenant, patients, leaf, leaf_hash, mac, root_after)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  insertAuditPatient: 'INSERT INTO audit_entry_patients (pseudonym, seq) VALUES (?, ?)',
  readAudit: 'SELECT * FROM audit_entries WHERE seq >= ? ORDER BY seq LIMIT ?',
  insertCheckpoint: `INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (size) DO NOTHING`,
  checkpointRoot: 'SELECT root FROM audit_checkpoints WHERE size = ?',
  listCheckpoints: 'SELECT * FROM audit_checkpoints ORDER BY size',
} as const;

export type Statements = { readonly [K in keyof typeof SQL]: Statement };

export function prepareStatements(db: Database): Statements {
  const out: Record<string, Statement> = {};
  for (const [name, sql] of Object.entries(SQL)) out[name] = db.prepare(sql);
  return Object.freeze(out) as Statements;
}
