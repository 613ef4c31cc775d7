/**
 * The store contract on PostgreSQL, plus what only PostgreSQL enforces: part roles that
 * cannot cross into another part, an audit role that cannot rewrite entries, and one log
 * shared by several processes (two Pools stand in for two labkluis nodes).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase, asPartRole } from '../support/postgres.js';
import { created, personRow, rid } from '../support/store-fixtures.js';
import { frontierRoot, merkleRoot, testSealer } from '../support/test-sealer.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('postgres', async () => {
  const db = await createTestDatabase();
  const store = createPostgresStore({ connectionString: db.connectionString, poolSize: 4 });
  return { store, cleanup: async () => { await store.close(); await db.drop(); } };
});

describe('postgres part roles', () => {
  let db: TestDatabase;
  let store: Store;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = createPostgresStore({ connectionString: db.connectionString });
    await store.migrate();
    const tenant = rid('org');
    await store.commit({ persons: [created(personRow(tenant))], resources: [] },
      testSealer([{ time: '2026-01-10T09:00:00.000Z', tenant }]));
    client = new pg.Client({ connectionString: db.connectionString });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await store.close();
    await db.drop();
  });

  const asRole = (part: string, sql: string): Promise<string> => asPartRole(client, db, part, sql);

  it('the clinical role cannot read identity, core or audit tables', async () => {
    expect(await asRole('clinical', 'SELECT * FROM identity.persons')).toBe('42501');
    expect(await asRole('clinical', 'SELECT * FROM core.data_keys')).toBe('42501');
    expect(await asRole('clinical', 'SELECT * FROM audit.entries')).toBe('42501');
    expect(await asRole('clinical', 'SELECT * FROM clinical.resources')).toBe('ok');
  });

  it('the identity role cannot read clinical data', async () => {
    expect(await asRole('identity', 'SELECT * FROM clinical.resources')).toBe('42501');
    expect(await asRole('identity', 'SELECT * FROM identity.persons')).toBe('ok');
  });

  it('the audit role cannot UPDATE or DELETE entries, but may move the head', async () => {
    expect(await asRole('audit', "UPDATE audit.entries SET time = 'x'")).toBe('42501');
    expect(await asRole('audit', 'DELETE FROM audit.entries')).toBe('42501');
    expect(await asRole('audit', 'DELETE FROM audit.entry_patients')).toBe('42501');
    expect(await asRole('audit', 'TRUNCATE audit.entries')).toBe('42501');
    expect(await asRole('audit', 'UPDATE audit.head SET size = size')).toBe('ok');
    expect(await asRole('audit', 'DELETE FROM audit.head')).toBe('42501');
  });

  it('even the owner cannot rewrite audit entries (trigger)', async () => {
    await expect(client.query("UPDATE audit.entries SET time = 'x'")).rejects.toMatchObject({ code: '42501' });
  });

  it("the core role may change only a passkey's counter and last use, and a challenge's use", async () => {
    expect(await asRole('core', "UPDATE core.passkeys SET counter = counter, last_used_at = 'x'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.passkeys SET public_key = '\\x00'")).toBe('42501');
    expect(await asRole('core', "UPDATE core.passkeys SET principal_id = 'x'")).toBe('42501');
    expect(await asRole('core', "UPDATE core.passkey_challenges SET used_at = 'x'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.passkey_challenges SET expires_at = 'x'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.passkey_challenges')).toBe('ok');
    expect(await asRole('clinical', 'SELECT * FROM core.passkeys')).toBe('42501');
  });

  it('the core role may change only what the safeguards change; training and recertifications are append-only', async () => {
    expect(await asRole('core', "UPDATE core.totp SET secret = secret, created_at = 'x', last_step = 1")).toBe('ok');
    expect(await asRole('core', "UPDATE core.totp SET principal_id = 'x'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.totp')).toBe('ok');
    expect(await asRole('core', "UPDATE core.recovery_codes SET used_at = 'x'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.recovery_codes SET code_hash = '\\x00'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.recovery_codes')).toBe('ok');
    expect(await asRole('core', "UPDATE core.break_glass SET ended_at = 'x'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.break_glass SET expires_at = 'x'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.break_glass')).toBe('42501');
    expect(await asRole('core', "UPDATE core.alerts SET acknowledged_at = 'x', acknowledged_by = 'y'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.alerts SET kind = 'x'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.alerts')).toBe('42501');
    for (const table of ['core.training', 'core.recertifications']) {
      expect(await asRole('core', `SELECT * FROM ${table}`)).toBe('ok');
      expect(await asRole('core', `UPDATE ${table} SET expires_at = 'x'`)).toBe('42501');
      expect(await asRole('core', `DELETE FROM ${table}`)).toBe('42501');
    }
    expect(await asRole('clinical', 'SELECT * FROM core.totp')).toBe('42501');
  });

  it('the core role may change only what the sentinel changes; containments, daily counts and the outbox are never deleted', async () => {
    expect(await asRole('core', "UPDATE core.sentinel_releases SET last_at = 'x'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.sentinel_releases SET pseudonym = 'x'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.sentinel_releases')).toBe('ok');
    expect(await asRole('core', 'UPDATE core.sentinel_volume SET records = 0, bytes = 0')).toBe('ok');
    expect(await asRole('core', "UPDATE core.sentinel_volume SET bucket = 'x'")).toBe('42501');
    expect(await asRole('core', 'UPDATE core.sentinel_daily SET patients = 0')).toBe('ok');
    expect(await asRole('core', "UPDATE core.sentinel_daily SET day = 'x'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.sentinel_daily')).toBe('42501');
    expect(await asRole('core', "UPDATE core.sentinel_containments SET lifted_at = 'x', lifted_by = 'y', lift_note = '\\x00'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.sentinel_containments SET principal_id = 'x'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.sentinel_containments')).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.sentinel_canaries')).toBe('ok');
    expect(await asRole('core', "UPDATE core.sentinel_canaries SET created_by = 'x'")).toBe('42501');
    expect(await asRole('core', "UPDATE core.sentinel_deliveries SET attempts = 1, next_attempt_at = 'x', delivered_at = 'y', last_error = 'z'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.sentinel_deliveries SET payload = 'x'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.sentinel_deliveries')).toBe('42501');
    expect(await asRole('core', "UPDATE core.alerts SET closed_at = 'x', closed_by = 'y', close_note = '\\x00'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.alerts SET evidence = '{}'")).toBe('42501');
    for (const table of ['sentinel_releases', 'sentinel_daily', 'sentinel_containments', 'sentinel_canaries', 'sentinel_deliveries']) {
      expect(await asRole('clinical', `SELECT * FROM core.${table}`)).toBe('42501');
    }
  });

  it("the core role may change only a device grant's poll and decision columns", async () => {
    expect(await asRole('core', "UPDATE core.device_grants SET last_polled_at = 'x', interval_seconds = 10")).toBe('ok');
    expect(await asRole('core', "UPDATE core.device_grants SET approved_by = NULL, approved_at = NULL, denied_at = 'x', redeemed_at = NULL")).toBe('ok');
    expect(await asRole('core', "UPDATE core.device_grants SET jkt = 'x'")).toBe('42501');
    expect(await asRole('core', "UPDATE core.device_grants SET user_code = 'x'")).toBe('42501');
    expect(await asRole('core', "UPDATE core.device_grants SET expires_at = 'x'")).toBe('42501');
    expect(await asRole('core', "UPDATE core.device_grants SET device_code_hash = '\\x00'")).toBe('42501');
    expect(await asRole('clinical', 'SELECT * FROM core.device_grants')).toBe('42501');
  });

  it('part roles cannot log in', async () => {
    const { rows } = await client.query<{ rolname: string; rolcanlogin: boolean }>(
      'SELECT rolname, rolcanlogin FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname', [`${db.name}_`]);
    expect(rows.map((r) => r.rolname.slice(db.name.length + 1))).toEqual(['audit', 'clinical', 'core', 'identity']);
    expect(rows.every((r) => !r.rolcanlogin)).toBe(true);
  });
});

describe('postgres release batches', () => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = createPostgresStore({ connectionString: db.connectionString, poolSize: 4 });
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('merges the releases of one principal that arrive while its statement runs into the next statement', async () => {
    // Counts the release statements sent (pg's Client.query, patched in this test only).
    const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const original = proto.query;
    let statements = 0;
    proto.query = function counted(this: unknown, ...args: unknown[]) {
      if ((args[0] as { name?: string } | undefined)?.name === 'lk_sn_record_release') statements += 1;
      return original.apply(this, args);
    };
    try {
      const [p, q, t] = [rid('prn'), rid('prn'), rid('org')];
      const at = '2026-03-10T09:00:05.000Z';
      const send = (who: string) => store.sentinel.recordRelease(
        { principalId: who, role: 'requester', tenant: t, pseudonyms: [rid('psn')], records: 1, bytes: 100, at }, ['2026-03-10T00:00:00.000Z'],
      );
      const outcomes = await Promise.all([...Array.from({ length: 16 }, () => send(p)), ...Array.from({ length: 4 }, () => send(q))]);
      // Per principal: the first alone, the others together once it is done.
      expect(statements).toBe(4);
      expect(outcomes.slice(0, 16).every((o) => o.totals[0]!.patients >= 1 && o.totals[0]!.patients <= 16)).toBe(true);
      expect(outcomes[15]!.totals[0]!.patients).toBe(16);
      expect(outcomes[19]!.totals[0]!.patients).toBe(4);
      // A release in another minute waits for a statement of its own.
      statements = 0;
      await Promise.all([send(p), send(p), store.sentinel.recordRelease(
        { principalId: p, role: 'requester', tenant: t, pseudonyms: [rid('psn')], records: 1, bytes: 100, at: '2026-03-10T09:01:00.000Z' },
        ['2026-03-10T00:00:00.000Z'],
      )]);
      expect(statements).toBe(3);
    } finally {
      proto.query = original;
    }
  });
});

describe('postgres shared audit log', () => {
  let db: TestDatabase;
  let stores: Store[];
  beforeAll(async () => {
    db = await createTestDatabase();
    stores = [0, 1].map(() => createPostgresStore({ connectionString: db.connectionString, poolSize: 4 }));
    await Promise.all(stores.map((s) => s.migrate())); // concurrent migrations take turns
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db.drop();
  });

  it('two store instances appending at once give contiguous seq and one valid tree', async () => {
    const appends = Array.from({ length: 40 }, (_, i) =>
      (stores[i % 2] as Store).appendAudit(testSealer(Array.from({ length: 1 + (i % 3) }, () =>
        ({ time: '2026-01-10T09:00:00.000Z' })))));
    const written = (await Promise.all(appends)).flat();
    const seqs = written.map((r) => r.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    const head = await (stores[1] as Store).auditHead();
    const all = await (stores[0] as Store).readAudit(0, 1000);
    expect(head.size).toBe(all.length);
    expect(frontierRoot(head.frontier)).toEqual(merkleRoot(all.map((r) => r.leafHash)));
  });
});
