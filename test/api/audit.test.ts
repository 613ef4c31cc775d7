import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifierKeyString, verifyAuditLog, type AuditEntry } from '../../src/audit/index.js';
import { apiClient, episode, type Episode } from '../support/api.js';
import * as fhir from '../support/fhir.js';
import { BACKENDS, createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

const entries = async (f: VaultFixture): Promise<AuditEntry[]> => {
  const rows = await f.app.store.readAudit(0, 100_000);
  return rows.map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
};

const verify = async (f: VaultFixture, withMac = true) => verifyAuditLog({
  store: f.app.store,
  macKey: withMac ? (await f.app.keys.current('*', 'audit-mac')).key : null,
  verifierKey: verifierKeyString(f.kms.auditSigner.name, f.kms.auditSigner.publicKey),
  origin: f.origin,
});

describe.each(BACKENDS)('NEN 7513 audit of every access (%s)', (backend) => {
  let f: VaultFixture;
  let api: ReturnType<typeof apiClient>;
  let ep: Episode;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    api = apiClient(f);
    ep = await episode(f, f.tenants.a);
  });
  afterAll(() => f.cleanup());

  it('records every created resource in a C entry with its patient pseudonym (one entry per transaction)', async () => {
    const creates = (await entries(f)).filter((e) => e.action === 'C' && e.patients.includes(ep.pseudonym));
    const objects = creates.flatMap((e) => e.objects.map((o) => `${o.type}/${o.id}`));
    expect(objects).toEqual(expect.arrayContaining([ep.patient, ep.order, ep.specimen, ep.observation, ep.report]));
    const e = creates.find((x) => x.objects.some((o) => o.type === 'Patient'))!;
    expect(e.operation).toBe('transaction');
    expect(e.objects.map((o) => o.type)).toEqual(['Patient', 'ServiceRequest', 'Specimen']);
    expect(e.principal?.id).toBe(f.principalIds.registrar);
    expect(e.principal?.role).toBe('registrar');
    expect(e.tenant).toBe(f.tenants.a);
    expect(e.purposeOfUse).toBe('HOPERAT');
    expect(e.outcome).toBe('success');
    expect(e.emergency).toBe(false);
    expect(e.time).toMatch(/Z$/);
  });

  it('records a read with who, for whom, why, which patient, what, where from and the outcome', async () => {
    const before = (await f.app.store.auditHead()).size;
    const r = await f.server.inject({
      method: 'GET', url: `/fhir/${ep.report}`,
      headers: { ...(await f.credential('validator2', 'GET', `/fhir/${ep.report}`)), 'x-labkluis-tenant': f.tenants.a, 'user-agent': 'labkluis-test/1', 'x-purpose-of-use': 'HQUALIMP' },
    });
    expect(r.statusCode).toBe(200);
    const [e] = (await entries(f)).slice(before);
    expect(e).toMatchObject({
      action: 'R', operation: 'read', patients: [ep.pseudonym], objects: [{ type: 'DiagnosticReport', id: ep.report.split('/')[1] }],
      principal: { id: f.principalIds.validator2, role: 'validator' }, actingFor: f.tenants.a, purposeOfUse: 'HQUALIMP',
      outcome: 'success', accessPoint: { ip: '127.0.0.1', userAgent: 'labkluis-test/1' },
    });
  });

  it('records a search with the pseudonyms of every patient it returned', async () => {
    const other = await episode(f, f.tenants.a);
    const before = (await f.app.store.auditHead()).size;
    const r = await api.get('analyst', `/fhir/Observation?subject=${ep.patient},${other.patient}`, { tenant: f.tenants.a });
    expect(r.body.entry.length).toBeGreaterThanOrEqual(2);
    const [e] = (await entries(f)).slice(before);
    expect(e!.operation).toBe('search');
    expect([...e!.patients].sort()).toEqual([ep.pseudonym, other.pseudonym].sort());
  });

  it('records refusals: a forbidden read, a not-found guess, and a refused credential', async () => {
    const before = (await f.app.store.auditHead()).size;
    await api.get('registrar', `/fhir/${ep.observation}`, { tenant: f.tenants.a });
    await api.get('requesterB', `/fhir/${ep.report}`);
    await f.server.inject({ method: 'GET', url: '/fhir/Patient?identifier=1', headers: { authorization: 'Bearer lkt_nope' } });
    const added = (await entries(f)).slice(before);
    expect(added.map((e) => [e.operation, e.outcome, e.errorCode])).toEqual([
      ['read', 'denied', 'ERR_FORBIDDEN'], ['read', 'denied', 'ERR_NOT_FOUND'], ['token-refused', 'denied', 'ERR_UNAUTHENTICATED'],
    ]);
    expect(added[1]!.principal?.id).toBe(f.principalIds.requesterB);
  });

  it('never holds a BSN, name, address, birth date or result in an entry', async () => {
    await api.get('registrar', `/fhir/Patient?identifier=${ep.person.bsn}`, { tenant: f.tenants.a });
    const rows = await f.app.store.readAudit(0, 100_000);
    const all = Buffer.concat(rows.map((r) => r.leaf)).toString('utf8');
    for (const value of [ep.person.bsn, ep.person.family, ep.person.given, ep.person.street, ep.person.birthDate, ep.person.email, 'SYNTHETISCH']) {
      expect(all).not.toContain(value);
    }
    expect(rows.length).toBeGreaterThan(10);
  });

  it('lets the security officer read the log as AuditEvents, by patient, and nobody else', async () => {
    const r = await api.get('securityOfficer', `/fhir/AuditEvent?patient=${ep.pseudonym}&_count=200`);
    expect(r.status).toBe(200);
    const events = r.body.entry.map((x: { resource: { resourceType: string; action: string } }) => x.resource);
    expect(events.every((e: { resourceType: string }) => e.resourceType === 'AuditEvent')).toBe(true);
    expect(events.some((e: { action: string }) => e.action === 'R')).toBe(true);
    expect(JSON.stringify(events)).toContain(`Patient/${ep.pseudonym}`);
    for (const who of ['requesterA', 'analyst', 'admin', 'registrar'] as const) {
      expect((await api.get(who, '/fhir/AuditEvent', { tenant: f.tenants.a })).status).toBe(403);
    }
  });

  it('keeps entries and signed checkpoints append-only in the database itself', async () => {
    await f.app.audit.checkpoint();
    const [entries, checkpoints] = backend === 'sqlite' ? ['audit_entries', 'audit_checkpoints'] : ['audit.entries', 'audit.checkpoints'];
    for (const sql of [`DELETE FROM ${checkpoints}`, `UPDATE ${checkpoints} SET note = 'x'`, `DELETE FROM ${entries} WHERE seq = 0`, `UPDATE ${entries} SET action = 'R'`]) {
      await expect(f.rawSql(sql), sql).rejects.toThrow(/append-only/);
    }
  });

  it('verifies: every leaf, the MAC chain, the tree and the signed checkpoints', async () => {
    await f.app.audit.checkpoint();
    const result = await verify(f);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.checkpoints).toBeGreaterThan(0);
  });
});

describe.each(BACKENDS)('fail closed: no audit entry, no data (%s)', (backend) => {
  let f: VaultFixture;
  let api: ReturnType<typeof apiClient>;
  let ep: Episode;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    api = apiClient(f);
    ep = await episode(f, f.tenants.a);
  });
  afterAll(() => f.cleanup());

  // A real failure of the real store: the database refuses audit inserts, as a full or broken disk would.
  const breakAudit = () => (backend === 'sqlite'
    ? f.rawSql("CREATE TRIGGER lk_test_break BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit disk unavailable'); END")
    : f.rawSql("CREATE FUNCTION audit.lk_test_break() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit disk unavailable'; END $$; CREATE TRIGGER lk_test_break BEFORE INSERT ON audit.entries FOR EACH ROW EXECUTE FUNCTION audit.lk_test_break()"));
  const repairAudit = () => (backend === 'sqlite'
    ? f.rawSql('DROP TRIGGER lk_test_break')
    : f.rawSql('DROP TRIGGER lk_test_break ON audit.entries; DROP FUNCTION audit.lk_test_break()'));

  it('returns 503 and none of the record when the read cannot be audited', async () => {
    await breakAudit();
    try {
      const r = await api.get('requesterA', `/fhir/${ep.patient}`);
      expect(r.status).toBe(503);
      expect(r.text).not.toContain(ep.person.bsn);
      expect(r.text).not.toContain(ep.person.family);
      const s = await api.get('registrar', `/fhir/Patient?identifier=${ep.person.bsn}`, { tenant: f.tenants.a });
      expect(s.status).toBe(503);
      expect(s.text).not.toContain(ep.person.family);
    } finally {
      await repairAudit();
    }
    const ok = await api.get('requesterA', `/fhir/${ep.patient}`);
    expect(ok.status).toBe(200);
    expect(ok.body.identifier[0].value).toBe(ep.person.bsn);
  });

  it('creates no tenant when its creation cannot be audited', async () => {
    const before = (await f.app.store.listTenants()).length;
    await breakAudit();
    try {
      const org = { resourceType: 'Organization', name: 'Test-Onbekend', identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/agb-z', value: '99654321' }],
        type: [{ coding: [{ system: 'https://labkluis.nl/fhir/CodeSystem/organization-kind', code: 'hospital' }] }] };
      expect((await api.post('admin', '/fhir/Organization', org)).status).toBe(503);
    } finally {
      await repairAudit();
    }
    expect((await f.app.store.listTenants()).length).toBe(before);
  });

  it('writes nothing when the write cannot be audited', async () => {
    const intake = fhir.intakeBundle();
    await breakAudit();
    try {
      expect((await api.post('registrar', '/fhir', intake.bundle, { tenant: f.tenants.a })).status).toBe(503);
    } finally {
      await repairAudit();
    }
    const s = await api.get('registrar', `/fhir/Patient?identifier=${intake.person.bsn}`, { tenant: f.tenants.a });
    expect(s.body.entry ?? []).toHaveLength(0);
  });
});

describe.each(BACKENDS)('audit verify catches edits made directly in the database (%s)', (backend) => {
  let f: VaultFixture;
  const table = backend === 'sqlite' ? 'audit_entries' : 'audit.entries';
  beforeEach(async () => {
    f = await createVaultFixture(backend, { checkpointEvery: { entries: 4, ms: 60_000 } });
    for (let i = 0; i < 3; i++) await episode(f, f.tenants.a);
    await f.app.audit.checkpoint();
    expect((await verify(f)).ok).toBe(true);
    // The attacker has the database: the append-only triggers go first.
    if (backend === 'sqlite') {
      for (const t of ['audit_entries_no_update', 'audit_entries_no_delete']) await f.rawSql(`DROP TRIGGER IF EXISTS ${t}`);
    } else {
      await f.rawSql('ALTER TABLE audit.entries DISABLE TRIGGER USER');
    }
  });
  afterEach(() => f.cleanup());

  const leafOf = async (seq: number) => (await f.app.store.readAudit(seq, 1))[0]!;
  const hex = (b: Buffer) => (backend === 'sqlite' ? `X'${b.toString('hex')}'` : `'\\x${b.toString('hex')}'::bytea`);

  it('names an edited entry', async () => {
    const row = await leafOf(7);
    const edited = Buffer.from(row.leaf.toString('utf8').replace('"outcome":"success"', '"outcome":"failed!"'));
    await f.rawSql(`UPDATE ${table} SET leaf = ${hex(edited)} WHERE seq = 7`);
    const r = await verify(f);
    expect(r).toMatchObject({ ok: false, seq: 7 });
  });

  it('names an entry edited with its hashes recomputed (the MAC chain catches it)', async () => {
    const { leafHash } = await import('../../src/audit/index.js');
    const row = await leafOf(5);
    const edited = Buffer.from(row.leaf.toString('utf8').replace(/"patients":\["[a-z2-7]+"\]/, '"patients":["aaaaaaaaaaaaaaaaaaaaaaaaaa"]'));
    const patientsColumn = backend === 'sqlite' ? `patients = '["aaaaaaaaaaaaaaaaaaaaaaaaaa"]'` : `patients = ARRAY['aaaaaaaaaaaaaaaaaaaaaaaaaa']`;
    await f.rawSql(`UPDATE ${table} SET leaf = ${hex(edited)}, leaf_hash = ${hex(leafHash(edited))}, ${patientsColumn} WHERE seq = 5`);
    const r = await verify(f);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.seq).toBe(5);
    const withoutKey = await verify(f, false); // an outside auditor without the MAC key still sees it
    expect(withoutKey.ok).toBe(false);
  });

  it('names a deleted entry', async () => {
    await f.rawSql(`DELETE FROM ${table} WHERE seq = 3`);
    expect(await verify(f)).toMatchObject({ ok: false, seq: 3 });
  });

  it('names reordered entries', async () => {
    await f.rawSql(`UPDATE ${table} SET seq = 100000 WHERE seq = 4`);
    await f.rawSql(`UPDATE ${table} SET seq = 4 WHERE seq = 6`);
    await f.rawSql(`UPDATE ${table} SET seq = 6 WHERE seq = 100000`);
    const r = await verify(f);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.seq).toBe(4);
  });

  it('notices an inserted entry and a truncated tail', async () => {
    const last = (await f.app.store.auditHead()).size - 1;
    const row = await leafOf(2);
    const cols = 'seq, time, action, principal_id, tenant, patients, leaf, leaf_hash, mac, root_after';
    await f.rawSql(`INSERT INTO ${table} (${cols}) SELECT ${last + 1}, time, action, principal_id, tenant, patients, leaf, leaf_hash, mac, root_after FROM ${table} WHERE seq = 2`);
    expect(row.seq).toBe(2);
    expect((await verify(f)).ok).toBe(false);
    await f.rawSql(`DELETE FROM ${table} WHERE seq >= ${last - 1}`);
    const r = await verify(f);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.seq).toBeLessThanOrEqual(last - 1);
  });
});
