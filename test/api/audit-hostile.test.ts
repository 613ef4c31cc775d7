import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { apiClient, episode, type Episode } from '../support/api.js';
import * as fhir from '../support/fhir.js';
import { createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

/**
 * An attacker chooses request values. None of them may keep an access or a refusal out of the
 * audit log, and none may put personal data into it.
 */
describe('hostile request values and refusals outside the vault are still audited', () => {
  let f: VaultFixture;
  let api: ReturnType<typeof apiClient>;
  let ep: Episode;
  beforeAll(async () => {
    f = await createVaultFixture('sqlite');
    api = apiClient(f);
    ep = await episode(f, f.tenants.a);
  });
  afterAll(() => f.cleanup());

  /** Runs a request and returns the entries it added. */
  const added = async (send: () => Promise<unknown>): Promise<AuditEntry[]> => {
    const before = (await f.app.store.auditHead()).size;
    await send();
    return (await f.app.store.readAudit(before, 1000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
  };

  it('records a read whose user agent looks like a BSN, without that value', async () => {
    let status = 0;
    const entries = await added(async () => {
      status = (await api.get('requesterA', `/fhir/${ep.patient}`, { headers: { 'user-agent': '123456782' } })).status;
    });
    expect(status).toBe(200);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.accessPoint.userAgent).toMatch(/^sha256:/);
    expect(JSON.stringify(entries)).not.toContain('123456782');
  });

  it('records a refused credential sent with a hostile user agent', async () => {
    const entries = await added(() => f.server.inject({ method: 'GET', url: '/fhir/Patient/x', headers: { authorization: 'Bearer guess', 'user-agent': 'x'.repeat(5000) } }));
    expect(entries.map((e) => e.operation)).toEqual(['token-refused']);
  });

  it('records reads and searches for BSN-shaped or oversized ids, hashed', async () => {
    for (const url of ['/fhir/Patient/123456789', '/fhir/Observation?subject=12345678', `/fhir/Observation?subject=Patient/${'a'.repeat(300)}`]) {
      const entries = await added(() => api.get('requesterA', url));
      expect(entries, url).toHaveLength(1);
      expect(JSON.stringify(entries)).not.toMatch(/12345678|a{100}/);
    }
  });

  it('records a search with many OR-ed codes', async () => {
    const codes = ['77379-6', '77399-4', '77400-0', '71431-1', '10524-7', '43304-5', '43305-2', '46154-1', '24110-9', '56888-1', '77379-6', '77399-4'];
    let status = 0;
    const entries = await added(async () => {
      status = (await api.get('analyst', `/fhir/Observation?code=${codes.join(',')}`, { tenant: f.tenants.a })).status;
    });
    expect(status).toBe(200);
    expect(entries[0]!.operation).toBe('search');
  });

  it.each([
    ['a tenant the principal does not act for', 'requesterA', { tenant: 'other-tenant' }, 403],
    ['an unknown purpose of use', 'requesterA', { headers: { 'x-purpose-of-use': 'CURIOSITY' } }, 400],
    ['a purpose the role may not claim', 'requesterA', { headers: { 'x-purpose-of-use': 'HSYSADMIN' } }, 403],
    ['no tenant from a principal of several', 'analyst', {}, 400],
  ] as const)('records a refusal for %s', async (_what, who, options, status) => {
    let got = 0;
    const entries = await added(async () => {
      got = (await api.get(who, `/fhir/${ep.report}`, options)).status;
    });
    expect(got).toBe(status);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: status === 403 ? 'denied' : 'failed', principal: { id: f.principalIds[who] } });
  });

  it('records the tenant a principal probed', async () => {
    const entries = await added(() => api.get('requesterA', `/fhir/${ep.report}`, { tenant: f.tenants.b }));
    expect(entries[0]).toMatchObject({ tenant: f.tenants.b, errorCode: 'ERR_FORBIDDEN' });
  });

  it('records a malformed transaction and an unknown resource type', async () => {
    const batch = await added(() => api.post('registrar', '/fhir', { ...fhir.intakeBundle().bundle, type: 'batch' }, { tenant: f.tenants.a }));
    expect(batch.map((e) => [e.operation, e.errorCode])).toEqual([['transaction', 'ERR_INVALID_RESOURCE']]);
    const unknown = await added(() => api.get('requesterA', '/fhir/Medication/1'));
    expect(unknown.map((e) => [e.operation, e.errorCode])).toEqual([['request', 'ERR_NOT_FOUND']]);
  });

  it('keeps typed personal data in ids, headers and audit-log searches out of the log', async () => {
    const typed = ['Jan Jansen 01-02-1970', '1234-56-782', '1970-01-01', '123.456.782'];
    const sent: Promise<unknown>[] = [];
    for (const v of typed) {
      sent.push(api.get('requesterA', `/fhir/Patient/${encodeURIComponent(v)}`));
      sent.push(api.get('requesterA', `/fhir/Observation?subject=${encodeURIComponent(v)}`));
      sent.push(api.get('requesterA', `/fhir/${ep.report}`, { tenant: v }));
      sent.push(api.get('requesterA', `/fhir/${ep.report}`, { headers: { 'user-agent': v } }));
      sent.push(api.get('securityOfficer', `/fhir/AuditEvent?patient=${encodeURIComponent(v)}`));
      // (a valid date bound of an audit-log search is kept, normalised: it is the range looked at)
      sent.push(api.get('securityOfficer', `/fhir/AuditEvent?agent=${encodeURIComponent(v)}`));
    }
    const entries = await added(() => Promise.all(sent));
    expect(entries.length).toBe(sent.length);
    const log = JSON.stringify(entries);
    for (const v of typed) expect(log).not.toContain(v);
    expect(log).not.toMatch(/Jansen/);
  });

  it('keeps values of unknown audit-log search parameters out of the log', async () => {
    const entries = await added(() => api.get('securityOfficer', '/fhir/AuditEvent?family=Test-Jansen&birthdate=1970-01-01'));
    expect(entries).toHaveLength(1);
    expect(JSON.stringify(entries)).not.toMatch(/Jansen|1970-01-01/);
  });
});
