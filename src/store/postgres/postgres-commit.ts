/**
 * The write path of commit() and appendAudit(). Each part's rows go in as arrays and come
 * apart with unnest(), so a batch of any size is two statements per part (retire old
 * versions, insert new ones) plus the audit append: a handful of round trips, not one per row.
 *
 * Order inside the transaction: identity, clinical, then audit. The audit head is locked
 * last, so the one lock every writer shares is held for the shortest time, and a conflict in
 * the data fails before the log is touched.
 */
import { conflictError, distinctPatients, runSealer, storeError } from '../batch-check.js';
import type { AuditRow, AuditSealer, PersonRow, ResourceRow, Versioned } from '../types.js';
import { toHead } from './postgres-rows.js';
import type { Named, PgTx } from './postgres-tx.js';

const RETIRE_PERSONS: Named = {
  name: 'lk_retire_persons',
  text: `WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) AS t(tenant, pseudonym, version)),
    upd AS (UPDATE identity.persons p SET is_current = false FROM t
      WHERE p.tenant = t.tenant AND p.pseudonym = t.pseudonym AND p.version = t.version AND p.is_current
      RETURNING 1)
    SELECT count(*)::int AS n FROM upd`,
};

const INSERT_PERSONS: Named = {
  name: 'lk_insert_persons',
  text: `INSERT INTO identity.persons (tenant, pseudonym, version, bsn_token, body, entered_by, last_updated, is_current)
    SELECT t.*, true FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bytea[], $6::text[], $7::text[])
      AS t(tenant, pseudonym, version, bsn_token, body, entered_by, last_updated)`,
};

/** Retires the expected versions and releases their unique-token claims in one statement. */
const RETIRE_RESOURCES: Named = {
  name: 'lk_retire_resources',
  text: `WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS t(tenant, type, id, version)),
    upd AS (UPDATE clinical.resources r SET is_current = false FROM t
      WHERE r.tenant = t.tenant AND r.type = t.type AND r.id = t.id AND r.version = t.version AND r.is_current
      RETURNING r.tenant, r.type, r.id),
    rel AS (DELETE FROM clinical.unique_tokens u USING upd
      WHERE u.tenant = upd.tenant AND u.type = upd.type AND u.id = upd.id)
    SELECT count(*)::int AS n FROM upd`,
};

/**
 * Inserts the new versions and claims their unique tokens. Token lists are ragged, so each
 * row's list travels as one JSON text and is unpacked in SQL; pos follows batch order.
 */
const INSERT_RESOURCES: Named = {
  name: 'lk_insert_resources',
  text: `WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[],
        $7::text[], $8::text[], $9::text[], $10::bytea[], $11::text[], $12::text[]) WITH ORDINALITY
      AS t(tenant, type, id, version, pseudonym, status, date, tokens, unique_tokens, body, entered_by, last_updated, ord)),
    ins AS (INSERT INTO clinical.resources (tenant, type, id, version, pseudonym, status, date, tokens,
        unique_tokens, body, entered_by, last_updated, is_current)
      SELECT tenant, type, id, version, pseudonym, status, date,
        ARRAY(SELECT jsonb_array_elements_text(tokens::jsonb)),
        ARRAY(SELECT jsonb_array_elements_text(unique_tokens::jsonb)),
        body, entered_by, last_updated, true
      FROM t ORDER BY ord RETURNING 1),
    claim AS (INSERT INTO clinical.unique_tokens (tenant, token, type, id)
      SELECT * FROM unnest($13::text[], $14::text[], $15::text[], $16::text[]))
    SELECT count(*)::int AS n FROM ins`,
};

const INSERT_AUDIT: Named = {
  name: 'lk_insert_audit',
  text: `WITH e AS (INSERT INTO audit.entries (seq, time, action, principal_id, tenant, patients, leaf, leaf_hash, mac, root_after)
      SELECT seq, time, action, principal_id, tenant, ARRAY(SELECT jsonb_array_elements_text(patients::jsonb)),
        leaf, leaf_hash, mac, root_after
      FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[],
        $8::bytea[], $9::bytea[], $10::bytea[])
        AS t(seq, time, action, principal_id, tenant, patients, leaf, leaf_hash, mac, root_after)),
    p AS (INSERT INTO audit.entry_patients (pseudonym, seq) SELECT * FROM unnest($11::text[], $12::bigint[]))
    UPDATE audit.head SET size = $13, frontier = $14::bytea[], last_mac = $15 WHERE id`,
};

/** Column-major arrays from a list of rows: one array per column, for unnest(). */
function columns<T>(rows: readonly T[], pick: ((row: T) => unknown)[]): unknown[][] {
  return pick.map((f) => rows.map(f));
}

export async function writePersons(tx: PgTx, persons: readonly Versioned<PersonRow>[]): Promise<void> {
  if (persons.length === 0) return;
  await tx.as('identity');
  const updates = persons.filter((p) => p.expectedVersion !== null);
  if (updates.length > 0) {
    const [done] = await tx.query(RETIRE_PERSONS, columns(updates, [
      (p) => p.row.tenant, (p) => p.row.pseudonym, (p) => p.expectedVersion,
    ]));
    if (done?.n !== updates.length) throw conflictError('person version mismatch');
  }
  await tx.query(INSERT_PERSONS, columns(persons.map((p) => p.row), [
    (p) => p.tenant, (p) => p.pseudonym, (p) => p.version, (p) => p.bsnToken, (p) => p.body,
    (p) => p.enteredBy, (p) => p.lastUpdated,
  ]));
}

export async function writeResources(tx: PgTx, resources: readonly Versioned<ResourceRow>[]): Promise<void> {
  if (resources.length === 0) return;
  await tx.as('clinical');
  const updates = resources.filter((r) => r.expectedVersion !== null);
  if (updates.length > 0) {
    const [done] = await tx.query(RETIRE_RESOURCES, columns(updates, [
      (r) => r.row.tenant, (r) => r.row.type, (r) => r.row.id, (r) => r.expectedVersion,
    ]));
    if (done?.n !== updates.length) throw conflictError('resource version mismatch');
  }
  const rows = resources.map((r) => r.row);
  const claims = rows.flatMap((r) => [...new Set(r.uniqueTokens)].map((token) => ({ r, token })));
  await tx.query(INSERT_RESOURCES, [
    ...columns(rows, [
      (r) => r.tenant, (r) => r.type, (r) => r.id, (r) => r.version, (r) => r.pseudonym, (r) => r.status,
      (r) => r.date, (r) => JSON.stringify(r.tokens), (r) => JSON.stringify(r.uniqueTokens), (r) => r.body,
      (r) => r.enteredBy, (r) => r.lastUpdated,
    ]),
    ...columns(claims, [(c) => c.r.tenant, (c) => c.token, (c) => c.r.type, (c) => c.r.id]),
  ]);
}

/**
 * Locks the head (SELECT ... FOR UPDATE: writers in every process queue here), seals, and
 * writes entries, the patient index and the new head in one statement.
 */
export async function appendSealed(tx: PgTx, seal: AuditSealer): Promise<readonly AuditRow[]> {
  const [head] = await tx.as('audit', 'SELECT size, frontier, last_mac FROM audit.head WHERE id FOR UPDATE');
  if (head === undefined) throw storeError('postgres', 'NO_AUDIT_HEAD'); // migrate() not run
  const sealed = runSealer(seal, toHead(head));
  if (sealed.rows.length === 0) return sealed.rows;
  const patients = sealed.rows.flatMap((e) => distinctPatients(e).map((pseudonym) => ({ pseudonym, seq: e.seq })));
  await tx.query(INSERT_AUDIT, [
    ...columns(sealed.rows, [
      (e) => e.seq, (e) => e.time, (e) => e.action, (e) => e.principalId, (e) => e.tenant,
      (e) => JSON.stringify(e.patients), (e) => e.leaf, (e) => e.leafHash, (e) => e.mac, (e) => e.rootAfter,
    ]),
    ...columns(patients, [(p) => p.pseudonym, (p) => p.seq]),
    sealed.head.size, sealed.head.frontier, sealed.head.lastMac,
  ]);
  return sealed.rows;
}
