/**
 * Break-glass and access hygiene over HTTP, on both stores: emergency access to one patient
 * with a reason, time-boxed, alerting the security officer and flagged in the audit log; clinical
 * access suspended when training has expired; every power lapsing without recertification.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { randomId, systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import type { PrincipalRow } from '../../src/store/index.js';
import { episode, type Episode } from '../support/api.js';
import { clearForAccess } from '../support/hygiene.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { principalRow } from '../support/store-fixtures.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';

const RP = { origin: PUBLIC_URL, rpId: new URL(PUBLIC_URL).hostname };

interface Person {
  readonly row: PrincipalRow;
  readonly key: DpopKey;
  readonly authenticator: SoftAuthenticator;
  accessToken: string;
}

describe.each(BACKENDS)('break-glass and access hygiene (%s)', (backend) => {
  let f: VaultFixture;
  let ep: Episode;
  let other: Episode;

  const call = async (p: Person, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const dpop = await createDpopProof(p.key, { method, url: `${PUBLIC_URL}${path}`, accessToken: p.accessToken, clock: systemClock, random: systemRandom });
    const res = await f.server.inject({
      method, url: path,
      headers: { authorization: `DPoP ${p.accessToken}`, dpop, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, text: res.body };
  };
  /** A person with a live session opened just now (a fresh assertion), cleared for access unless told otherwise. */
  const person = async (role: string, tenants: string[], cleared = true): Promise<Person> => {
    const row = principalRow({ id: randomId(systemRandom), kind: 'human', role: role as PrincipalRow['role'], tenants, displayName: `${role}-safeguards` });
    await f.app.store.accounts.insertAccount(row, {
      principalId: row.id, username: `${role}-${row.id.slice(0, 8)}`, passwordHash: null, passwordChangedAt: null, totpAllowed: false, createdAt: row.createdAt,
    });
    if (cleared) await clearForAccess(f.app.store, row);
    const key = await generateDpopKey();
    const authenticator = new SoftAuthenticator(RP);
    const pair = await f.app.sessions.open({ principalId: row.id, jkt: key.jkt, authMethod: 'passkey', ip: '127.0.0.1', userAgent: 'labkluis-test/1' });
    return { row, key, authenticator, accessToken: pair.accessToken };
  };
  const entries = async (): Promise<AuditEntry[]> => (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);

  beforeAll(async () => {
    f = await createVaultFixture(backend);
    ep = await episode(f, f.tenants.a);
    other = await episode(f, f.tenants.a);
  }, 60_000);
  afterAll(() => f.cleanup());

  it('an analyst sees only the pseudonym; under break-glass, identity and every result of that one patient', async () => {
    const analyst = await person('analyst', ['*']);
    const tenant = { 'x-labkluis-tenant': f.tenants.a };
    const plain = await call(analyst, 'GET', `/fhir/${ep.patient}`, undefined, tenant);
    expect(plain.status).toBe(200);
    expect(plain.body.name).toBeUndefined();
    // Without a grant, claiming ETREAT gets nothing.
    expect((await call(analyst, 'GET', `/fhir/${ep.patient}`, undefined, { ...tenant, 'x-purpose-of-use': 'ETREAT' })).status).toBe(403);
    const grant = await call(analyst, 'POST', '/auth/break-glass', { patient: ep.pseudonym, reason: 'Synthetic test: acute care question from the ward' }, tenant);
    expect(grant.status, grant.text).toBe(201);
    expect(Date.parse(grant.body.expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(Date.parse(grant.body.expiresAt) - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    const emergency = { ...tenant, 'x-purpose-of-use': 'ETREAT' };
    const seen = await call(analyst, 'GET', `/fhir/${ep.patient}`, undefined, emergency);
    expect(seen.status).toBe(200);
    expect(seen.body.name?.[0]?.family).toBe(ep.person.family);
    expect((await call(analyst, 'GET', `/fhir/DiagnosticReport?subject=${ep.patient}`, undefined, emergency)).status).toBe(200);
    // Another patient stays out of reach, and a broader search is refused.
    expect((await call(analyst, 'GET', `/fhir/${other.patient}`, undefined, emergency)).status).toBe(403);
    expect((await call(analyst, 'GET', `/fhir/${other.observation}`, undefined, emergency)).status).toBe(404);
    expect((await call(analyst, 'GET', '/fhir/DiagnosticReport?status=preliminary', undefined, emergency)).status).toBe(403);
    // Read only.
    expect((await call(analyst, 'POST', '/fhir/Observation', {}, emergency)).status).toBe(403);

    const log = await entries();
    const opened = log.filter((e) => e.operation === 'break-glass' && e.principal?.id === analyst.row.id);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ emergency: true, purposeOfUse: 'ETREAT', patients: [ep.pseudonym] });
    expect(JSON.stringify(opened[0])).not.toContain('acute care'); // the reason is sealed, not logged
    const reads = log.filter((e) => e.action === 'R' && e.principal?.id === analyst.row.id && e.emergency);
    expect(reads.length).toBeGreaterThanOrEqual(2);
    // The patient's access report (AuditEvents by patient) shows it, flagged.
    const so = await person('security-officer', ['*']);
    const report = await call(so, 'GET', `/fhir/AuditEvent?patient=${ep.pseudonym}`);
    expect(report.status, report.text).toBe(200);
    expect(JSON.stringify(report.body)).toContain('ETREAT');
    // And the security officer has an alert.
    const alerts = await call(so, 'GET', '/auth/alerts');
    expect(alerts.status).toBe(200);
    const alert = alerts.body.alerts.find((a: { kind: string; principalId: string }) => a.kind === 'break-glass' && a.principalId === analyst.row.id);
    expect(alert).not.toHaveProperty('closeNote'); // sealed at rest, never listed
    expect(alert).toMatchObject({ evidence: [], closed: false, hasCloseNote: false });
    expect(alert).toMatchObject({ subject: ep.pseudonym, tenant: f.tenants.a });
    expect((await call(so, 'POST', `/auth/alerts/${alert.id}/acknowledge`, {})).body).toEqual({ acknowledged: true });
    expect((await call(so, 'POST', `/auth/alerts/${alert.id}/acknowledge`, {})).body).toEqual({ acknowledged: false });
    // Ending the grant ends the access.
    expect((await call(analyst, 'DELETE', `/auth/break-glass/${grant.body.id}`, undefined, tenant)).body).toEqual({ ended: true });
    expect((await call(analyst, 'GET', `/fhir/${ep.patient}`, undefined, emergency)).status).toBe(403);
  });

  it('refuses break-glass without a reason, to roles without clinical work, to API tokens, and without a fresh step-up', async () => {
    const registrar = await person('registrar', ['*']);
    const tenant = { 'x-labkluis-tenant': f.tenants.a };
    expect((await call(registrar, 'POST', '/auth/break-glass', { patient: ep.pseudonym, reason: 'because' }, tenant)).status).toBe(400);
    const admin = await person('admin', ['*']);
    expect((await call(admin, 'POST', '/auth/break-glass', { patient: ep.pseudonym, reason: 'Synthetic test: admin curiosity' }, tenant)).status).toBe(403);
    const viaToken = await f.server.inject({
      method: 'POST', url: '/auth/break-glass', headers: { ...(await f.credential('registrar', 'POST', '/auth/break-glass')), 'content-type': 'application/json', ...tenant },
      payload: JSON.stringify({ patient: ep.pseudonym, reason: 'Synthetic test: service principal' }),
    });
    expect(viaToken.statusCode).toBe(403);
    // A session opened long ago has no fresh assertion.
    await f.app.store.accounts.setSessionAuthenticated((await f.app.store.accounts.listSessions(registrar.row.id))[0]!.id, new Date(Date.now() - 10 * 60_000).toISOString());
    expect((await call(registrar, 'POST', '/auth/break-glass', { patient: ep.pseudonym, reason: 'Synthetic test: stale assertion' }, tenant)).status).toBe(403);
    const refusals = (await entries()).filter((e) => e.operation === 'break-glass' && e.outcome !== 'success');
    expect(refusals.length).toBeGreaterThanOrEqual(3);
  });

  it('revealing several patients at once needs a fresh step-up; one at a time does not', async () => {
    const registrar = await person('registrar', ['*']);
    const tenant = { 'x-labkluis-tenant': f.tenants.a };
    const both = `/fhir/Patient?_id=${ep.pseudonym},${other.pseudonym}`;
    const fresh = await call(registrar, 'GET', both, undefined, tenant);
    expect(fresh.status, fresh.text).toBe(200);
    expect(fresh.body.entry).toHaveLength(2);
    await f.app.store.accounts.setSessionAuthenticated((await f.app.store.accounts.listSessions(registrar.row.id))[0]!.id, new Date(Date.now() - 6 * 60_000).toISOString());
    const stale = await call(registrar, 'GET', both, undefined, tenant);
    expect(stale.status).toBe(403);
    expect(stale.text).not.toContain(ep.person.family);
    expect((await call(registrar, 'GET', `/fhir/Patient?_id=${ep.pseudonym}`, undefined, tenant)).status).toBe(200);
    // An API token cannot step up: it reveals one person at a time.
    const viaToken = await f.server.inject({ method: 'GET', url: both, headers: { ...(await f.credential('registrar', 'GET', both)), ...tenant } });
    expect(viaToken.statusCode).toBe(403);
  });

  it('suspends clinical access when training has expired, and restores it when renewed', async () => {
    const registrar = await person('registrar', ['*'], false);
    const past = new Date(Date.now() - 400 * 86_400_000);
    await f.app.store.safeguards.recordRecertification({ principalId: registrar.row.id, role: 'registrar', tenants: ['*'], certifiedBy: 'test-admin', certifiedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    await f.app.store.safeguards.recordTraining({ principalId: registrar.row.id, completedAt: past.toISOString(), expiresAt: new Date(past.getTime() + 365 * 86_400_000).toISOString(), recordedBy: 'test-admin', recordedAt: past.toISOString() });
    const tenant = { 'x-labkluis-tenant': f.tenants.a };
    const refused = await call(registrar, 'GET', `/fhir/${ep.patient}`, undefined, tenant);
    expect(refused.status).toBe(403);
    expect(refused.text).toMatch(/training/);
    // Own sessions stay manageable.
    expect((await call(registrar, 'GET', '/auth/sessions')).status).toBe(200);
    await f.app.store.safeguards.recordTraining({ principalId: registrar.row.id, completedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString(), recordedBy: 'test-admin', recordedAt: new Date().toISOString() });
    expect((await call(registrar, 'GET', `/fhir/${ep.patient}`, undefined, tenant)).status).toBe(200);
  });

  it('lapses every power without a current recertification of the same role and tenants', async () => {
    const registrar = await person('registrar', ['*'], false);
    const now = new Date().toISOString();
    await f.app.store.safeguards.recordTraining({ principalId: registrar.row.id, completedAt: now, expiresAt: new Date(Date.now() + 86_400_000).toISOString(), recordedBy: 'test-admin', recordedAt: now });
    const tenant = { 'x-labkluis-tenant': f.tenants.a };
    expect((await call(registrar, 'GET', `/fhir/${ep.patient}`, undefined, tenant)).status).toBe(403);
    // A confirmation of another role does not count.
    await f.app.store.safeguards.recordRecertification({ principalId: registrar.row.id, role: 'analyst', tenants: ['*'], certifiedBy: 'test-admin', certifiedAt: now, expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect((await call(registrar, 'GET', `/fhir/${ep.patient}`, undefined, tenant)).status).toBe(403);
    const admin = await person('admin', ['*']);
    const recert = await call(admin, 'POST', `/auth/accounts/${registrar.row.id}/recertify`, {});
    expect(recert.status, recert.text).toBe(200);
    expect(Date.parse(recert.body.expiresAt) - Date.now()).toBeGreaterThan(91 * 86_400_000);
    expect((await call(registrar, 'GET', `/fhir/${ep.patient}`, undefined, tenant)).status).toBe(200);
    // Nobody recertifies themselves.
    expect((await call(admin, 'POST', `/auth/accounts/${admin.row.id}/recertify`, {})).status).toBe(403);
  });
});
