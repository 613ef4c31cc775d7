import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { createVaultFixture, type VaultFixture, type Who } from '../support/vault-fixture.js';

/** The CapabilityStatement must tell the truth: what it lists answers, what it leaves out does not. */
describe('CapabilityStatement', () => {
  let f: VaultFixture;
  let api: ReturnType<typeof apiClient>;
  let statement: any;
  beforeAll(async () => {
    f = await createVaultFixture('sqlite');
    api = apiClient(f);
    statement = (await api.get(null, '/fhir/metadata')).body;
  });
  afterAll(() => f.cleanup());

  // A principal allowed to search each type, and a harmless value per parameter type.
  const searcher: Record<string, Who> = {
    Patient: 'registrar', Organization: 'admin', ServiceRequest: 'analyst', Specimen: 'analyst', Observation: 'analyst',
    DiagnosticReport: 'analyst', AuditEvent: 'securityOfficer',
  };
  const sample: Record<string, string> = {
    identifier: 'TABC1234', subject: 'Patient/abc', patient: 'Patient/abc', status: 'final', code: '77379-6', date: 'ge2026-01-01',
    specimen: 'Specimen/abc', 'based-on': 'ServiceRequest/abc', agent: 'abc', _id: 'abc', _count: '5',
  };
  const sampleFor = (type: string, name: string) => {
    if (type === 'Patient' && name === 'identifier') return '999999990';
    if (type === 'Organization' && name === 'identifier') return '99000001';
    if (type === 'Specimen' && name === 'status') return 'available';
    if (type === 'ServiceRequest' && name === 'status') return 'active';
    return sample[name] ?? 'x';
  };

  it('is FHIR 4.0.1, JSON only, with transaction at system level', () => {
    expect(statement.fhirVersion).toBe('4.0.1');
    expect(statement.format).toEqual(['application/fhir+json']);
    expect(statement.rest[0].interaction).toEqual([{ code: 'transaction' }]);
  });

  it('accepts every search parameter it lists', async () => {
    for (const resource of statement.rest[0].resource) {
      if (!resource.interaction.some((i: { code: string }) => i.code === 'search-type')) continue;
      for (const { name } of resource.searchParam) {
        if (name === '_cursor') continue;
        if (resource.type === 'Patient' && name === '_count') continue; // a Patient search must also name a person
        const url = `/fhir/${resource.type}?${name}=${encodeURIComponent(sampleFor(resource.type, name))}`;
        const r = await api.get(searcher[resource.type]!, url, { tenant: resource.type === 'AuditEvent' ? '*' : f.tenants.a });
        expect.soft(r.status, `${url}: ${r.text}`).toBe(200);
      }
    }
  });

  it('lists no interaction the server does not have (no delete, no history)', async () => {
    for (const resource of statement.rest[0].resource) {
      const codes = resource.interaction.map((i: { code: string }) => i.code);
      expect(codes).not.toContain('delete');
      expect(codes).not.toContain('history-instance');
    }
    const del = await f.server.inject({ method: 'DELETE', url: `/fhir/Organization/${f.tenants.a}`, headers: await f.credential('admin', 'DELETE', `/fhir/Organization/${f.tenants.a}`) });
    expect(del.statusCode).toBe(404);
    expect(JSON.parse(del.body).resourceType).toBe('OperationOutcome');
  });
});
