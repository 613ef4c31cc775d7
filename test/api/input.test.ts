import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, episode } from '../support/api.js';
import * as fhir from '../support/fhir.js';
import { BACKENDS, createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

/** Rows in every table that holds vault content: a refused request must leave them all unchanged. */
async function contentRows(f: VaultFixture): Promise<number> {
  const tables = f.backend === 'sqlite'
    ? ['identity_persons', 'clinical_resources', 'clinical_tokens', 'clinical_unique_tokens']
    : ['identity.persons', 'clinical.resources', 'clinical.unique_tokens'];
  let n = 0;
  for (const t of tables) n += Number(((await f.rawSql(`SELECT count(*) AS n FROM ${t}`))[0] as { n: number | string }).n);
  return n;
}

describe.each(BACKENDS)('bad input is refused with a 4xx and changes nothing (%s)', (backend) => {
  let f: VaultFixture;
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    api = apiClient(f);
  });
  afterAll(() => f.cleanup());

  const refusedWithoutChange = async (send: () => Promise<{ status: number; body: any }>, status: number, expression?: RegExp) => {
    const before = await contentRows(f);
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.body.resourceType).toBe('OperationOutcome');
    if (expression) expect(r.body.issue.flatMap((i: { expression?: string[] }) => i.expression ?? [])).toEqual(expect.arrayContaining([expect.stringMatching(expression)]));
    expect(await contentRows(f)).toBe(before);
    return r;
  };

  it('refuses a BSN that fails the 11-check, and 000000000, naming the element', async () => {
    const p = fhir.patient();
    // Changing only the last digit moves the weighted sum by -1 or +9: never a multiple of 11.
    const bsn = p.identifier[0]!.value;
    const bad = { ...p, identifier: [{ ...p.identifier[0]!, value: `${bsn.slice(0, 8)}${(Number(bsn[8]) + 1) % 10}` }] };
    const r = await refusedWithoutChange(() => api.post('registrar', '/fhir/Patient', bad, { tenant: f.tenants.a }), 400, /Patient\.identifier\[0\]\.value/);
    expect(r.body.issue.map((i: { diagnostics: string }) => i.diagnostics).join(' ')).not.toContain(bad.identifier[0]!.value); // errors never echo a BSN
    await refusedWithoutChange(() => api.post('registrar', '/fhir/Patient', { ...p, identifier: [{ ...p.identifier[0]!, value: '000000000' }] }, { tenant: f.tenants.a }), 400, /identifier/);
  });

  it('refuses unknown elements, wrong types and a wrong resourceType', async () => {
    const p = fhir.patient();
    await refusedWithoutChange(() => api.post('registrar', '/fhir/Patient', { ...p, favouriteColour: 'blue' }, { tenant: f.tenants.a }), 400, /favouriteColour/);
    await refusedWithoutChange(() => api.post('registrar', '/fhir/Patient', { ...p, birthDate: '31-12-1980' }, { tenant: f.tenants.a }), 400, /birthDate/);
    await refusedWithoutChange(() => api.post('registrar', '/fhir/Specimen', p, { tenant: f.tenants.a }), 400);
  });

  it('refuses bodies that are not JSON, the wrong media type, and an empty body', async () => {
    await refusedWithoutChange(() => api.call('registrar', 'POST', '/fhir/Patient', undefined, { tenant: f.tenants.a, raw: '{"resourceType":' }), 400);
    await refusedWithoutChange(() => api.call('registrar', 'POST', '/fhir/Patient', undefined, { tenant: f.tenants.a, raw: 'x', headers: { 'content-type': 'text/plain' } }), 415);
    await refusedWithoutChange(() => api.call('registrar', 'POST', '/fhir/Patient', undefined, { tenant: f.tenants.a, raw: '' }), 400);
    await refusedWithoutChange(() => api.call('registrar', 'POST', '/fhir/Patient', undefined, { tenant: f.tenants.a, raw: '{"__proto__":{"x":1},"resourceType":"Patient"}' }), 400);
  });

  it('refuses deeply nested JSON, a name in a patient reference, and a non-string ifMatch', async () => {
    const deep = `{"resourceType":"Observation","note":${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}}`;
    await refusedWithoutChange(() => api.call('analyst', 'POST', '/fhir/Observation', undefined, { tenant: f.tenants.a, raw: deep }), 400);
    const e = await episode(f, f.tenants.a);
    const withName = { ...fhir.serviceRequest(e.patient), subject: { reference: e.patient, display: 'Test-Familie, BSN 999999990' } };
    await refusedWithoutChange(() => api.post('requesterA', '/fhir/ServiceRequest', withName), 400, /subject/);
    const rep = (await api.get('analyst', `/fhir/${e.report}`, { tenant: f.tenants.a })).body;
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:2e8f3a52-7d55-4f3c-9a59-5b1f0f3d4c13', resource: rep, request: { method: 'PUT', url: e.report, ifMatch: 1 } }] };
    await refusedWithoutChange(() => api.post('analyst', '/fhir', bundle, { tenant: f.tenants.a }), 400, /ifMatch/);
  });

  it('refuses a result about a patient that does not exist in the tenant', async () => {
    await refusedWithoutChange(() => api.post('analyst', '/fhir/Observation', fhir.hpvObservation('Patient/doesnotexist', 'Specimen/x'), { tenant: f.tenants.a }), 400, /subject/);
  });

  describe('transaction bundles commit atomically or not at all', () => {
    it('writes nothing when the last entry is invalid, and names that entry', async () => {
      const intake = fhir.intakeBundle();
      (intake.bundle.entry[2]!.resource as { identifier: { value: string }[] }).identifier[0]!.value = 'bad barcode!';
      await refusedWithoutChange(() => api.post('registrar', '/fhir', intake.bundle, { tenant: f.tenants.a }), 400, /^Bundle\.entry\[2\]\.resource\.identifier\[0\]\.value$/);
      const search = await api.get('registrar', `/fhir/Patient?identifier=${intake.person.bsn}`, { tenant: f.tenants.a });
      expect(search.body.entry ?? []).toHaveLength(0);
    });

    it('writes nothing when one entry conflicts (a BSN that is already registered)', async () => {
      const first = fhir.intakeBundle();
      expect((await api.post('registrar', '/fhir', first.bundle, { tenant: f.tenants.a })).status).toBe(200);
      const again = fhir.intakeBundle(first.person);
      await refusedWithoutChange(() => api.post('registrar', '/fhir', again.bundle, { tenant: f.tenants.a }), 409);
    });

    it('writes nothing when one entry is not allowed for the role', async () => {
      const intake = fhir.intakeBundle();
      intake.bundle.entry.push({ fullUrl: 'urn:uuid:6a2f41a3-c54c-fce8-32d2-0324e1c32e22', resource: fhir.hpvObservation(intake.bundle.entry[0]!.fullUrl!, intake.bundle.entry[2]!.fullUrl!) as never, request: { method: 'POST', url: 'Observation' } });
      await refusedWithoutChange(() => api.post('registrar', '/fhir', intake.bundle, { tenant: f.tenants.a }), 403);
    });

    it('refuses references to entries that are not in the bundle, and non-transaction bundles', async () => {
      const intake = fhir.intakeBundle();
      (intake.bundle.entry[1]!.resource as { subject: { reference: string } }).subject.reference = 'urn:uuid:00000000-0000-4000-8000-000000000000';
      await refusedWithoutChange(() => api.post('registrar', '/fhir', intake.bundle, { tenant: f.tenants.a }), 400, /subject/);
      await refusedWithoutChange(() => api.post('registrar', '/fhir', { ...fhir.intakeBundle().bundle, type: 'batch' }, { tenant: f.tenants.a }), 400, /Bundle\.type/);
    });

    it('refuses a reference to an entry of the wrong type (a result whose subject is another result)', async () => {
      const intake = fhir.intakeBundle();
      const [patientUrn, , specimenUrn] = intake.bundle.entry.map((e) => e.fullUrl!);
      const obsUrn = 'urn:uuid:0e8f3a52-7d55-4f3c-9a59-5b1f0f3d4c11';
      const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [
        { fullUrl: obsUrn, resource: fhir.hpvObservation(patientUrn!, specimenUrn!), request: { method: 'POST', url: 'Observation' } },
        { fullUrl: 'urn:uuid:1e8f3a52-7d55-4f3c-9a59-5b1f0f3d4c12', resource: fhir.hpvObservation(obsUrn, specimenUrn!), request: { method: 'POST', url: 'Observation' } },
      ] };
      await refusedWithoutChange(() => api.post('analyst', '/fhir', bundle, { tenant: f.tenants.a }), 400, /subject/);
    });

    it('resolves urn:uuid references between entries to the new ids', async () => {
      const intake = fhir.intakeBundle();
      const r = await api.post('registrar', '/fhir', intake.bundle, { tenant: f.tenants.a });
      expect(r.status).toBe(200);
      expect(r.body.type).toBe('transaction-response');
      const [patient, order, specimen] = r.body.entry.map((e: { response: { location: string } }) => e.response.location.split('/_history/')[0]);
      expect(r.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created']);
      const s = await api.get('registrar', `/fhir/${specimen}`, { tenant: f.tenants.a });
      expect(s.body.subject.reference).toBe(patient);
      expect(s.body.request[0].reference).toBe(order);
    });
  });

  describe('references and tenants', () => {
    it("refuses a result that points at another tenant's specimen or order", async () => {
      const a = await episode(f, f.tenants.a);
      const b = await episode(f, f.tenants.b);
      const obs = { ...fhir.hpvObservation(a.patient, b.specimen), basedOn: [{ reference: a.order }] };
      await refusedWithoutChange(() => api.post('analyst', '/fhir/Observation', obs, { tenant: f.tenants.a }), 400, /specimen/);
      const obs2 = { ...fhir.hpvObservation(a.patient, a.specimen), basedOn: [{ reference: b.order }] };
      await refusedWithoutChange(() => api.post('analyst', '/fhir/Observation', obs2, { tenant: f.tenants.a }), 400, /basedOn/);
    });

    it('refuses writes and reads in a tenant that does not exist, even for lab-wide staff', async () => {
      await refusedWithoutChange(() => api.post('registrar', '/fhir', fhir.intakeBundle().bundle, { tenant: 'ghost-tenant' }), 404);
      expect((await api.get('analyst', '/fhir/Observation?status=final', { tenant: 'ghost-tenant' })).status).toBe(404);
    });

    it('answers a requester who filters on statuses it may not see with an empty page', async () => {
      for (const url of ['/fhir/DiagnosticReport?status=preliminary', '/fhir/Observation?status=registered,preliminary']) {
        const r = await api.get('requesterA', url);
        expect(r.status).toBe(200);
        expect(r.body.entry ?? []).toHaveLength(0);
      }
    });

    it('creates a tenant with its Organization in one audited commit, and refuses a bad tenant id', async () => {
      const org = (id?: string) => ({
        resourceType: 'Organization', ...(id ? { id } : {}), name: 'Test-Praktijk Nieuw',
        identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/agb-z', value: '99123456' }],
        type: [{ coding: [{ system: 'https://labkluis.nl/fhir/CodeSystem/organization-kind', code: 'gp-practice' }] }],
      });
      const tenantsBefore = (await f.app.store.listTenants()).length;
      expect((await api.post('admin', '/fhir/Organization', org('12345678'))).status).toBe(400);
      expect((await api.post('registrar', '/fhir/Organization', org())).status).toBe(403);
      expect((await f.app.store.listTenants()).length).toBe(tenantsBefore);
      const ok = await api.post('admin', '/fhir/Organization', org());
      expect(ok.status).toBe(201);
      expect(await f.app.store.getTenant(ok.body.id)).not.toBeNull();
      const entries = (await f.app.store.searchAudit({ tenant: ok.body.id, limit: 10 })).map((r) => JSON.parse(r.leaf.toString()));
      expect(entries.map((e: { operation: string; action: string }) => [e.operation, e.action])).toEqual([['create-tenant', 'C']]);
    });
  });

  describe('search', () => {
    it('refuses unknown parameters and malformed values, naming the parameter', async () => {
      for (const [url, param] of [['/fhir/Observation?colour=red', 'colour'], ['/fhir/Observation?date=yesterday', 'date'], ['/fhir/Observation?_count=-1', '_count'], ['/fhir/Observation?status=sleeping', 'status']] as const) {
        const r = await api.get('analyst', url, { tenant: f.tenants.a });
        expect(r.status).toBe(400);
        expect(JSON.stringify(r.body)).toContain(param);
      }
      expect((await api.get('analyst', '/fhir/Observation?_cursor=bm9wZQ', { tenant: f.tenants.a })).status).toBe(400);
    });

    it('caps _count at 100 and pages through results with the next link', async () => {
      const e = await episode(f, f.tenants.b);
      for (let i = 0; i < 4; i++) {
        expect((await api.post('analyst', '/fhir/Observation', fhir.hpvObservation(e.patient, e.specimen), { tenant: f.tenants.b })).status).toBe(201);
      }
      const seen: string[] = [];
      let url: string | null = `/fhir/Observation?subject=${e.patient}&_count=2`;
      let pages = 0;
      while (url) {
        const r = await api.get('analyst', url, { tenant: f.tenants.b });
        expect(r.status).toBe(200);
        expect(r.body.entry.length).toBeLessThanOrEqual(2);
        seen.push(...r.body.entry.map((x: { resource: { id: string } }) => x.resource.id));
        const next = r.body.link.find((l: { relation: string }) => l.relation === 'next');
        url = next ? next.url.replace('https://labkluis.test', '') : null;
        pages++;
      }
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(5);
      const big = await api.get('analyst', `/fhir/Observation?subject=${e.patient}&_count=100000`, { tenant: f.tenants.b });
      expect(big.status).toBe(200);
      expect(big.body.entry).toHaveLength(5);
    });

    it('finds by BSN, barcode, code, status and date', async () => {
      const e = await episode(f, f.tenants.a);
      const specimen = (await api.get('registrar', `/fhir/${e.specimen}`, { tenant: f.tenants.a })).body;
      const barcode = specimen.identifier[0].value;
      const byBsn = await api.get('registrar', `/fhir/Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|${e.person.bsn}`, { tenant: f.tenants.a });
      expect(byBsn.body.entry.map((x: { resource: { id: string } }) => x.resource.id)).toEqual([e.pseudonym]);
      const byBarcode = await api.get('analyst', `/fhir/Specimen?identifier=${barcode}`, { tenant: f.tenants.a });
      expect(byBarcode.body.entry.map((x: { resource: { id: string } }) => `Specimen/${x.resource.id}`)).toEqual([e.specimen]);
      const q = `subject=${e.patient}&code=http://loinc.org|77379-6&status=final&date=ge2026-10-01&date=lt2026-11-01`;
      expect((await api.get('analyst', `/fhir/Observation?${q}`, { tenant: f.tenants.a })).body.entry).toHaveLength(1);
      expect((await api.get('analyst', `/fhir/Observation?subject=${e.patient}&date=ge2027-01-01`, { tenant: f.tenants.a })).body.entry ?? []).toHaveLength(0);
      expect((await api.get('analyst', `/fhir/Observation?subject=${e.patient}&code=10524-7`, { tenant: f.tenants.a })).body.entry ?? []).toHaveLength(0);
      expect((await api.get('analyst', `/fhir/DiagnosticReport?subject=${e.patient}&status=preliminary`, { tenant: f.tenants.a })).body.entry).toHaveLength(1);
    });

    it('answers an over-long path with an OperationOutcome that does not echo it', async () => {
      const long = 'x'.repeat(150);
      const r = await api.get('requesterA', `/fhir/Patient/${long}`);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.text).not.toContain(long);
    });

    it('refuses a Patient search without a BSN or id: no listing of people', async () => {
      expect((await api.get('registrar', '/fhir/Patient', { tenant: f.tenants.a })).status).toBe(400);
    });
  });
});
