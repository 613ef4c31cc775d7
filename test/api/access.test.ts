import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrincipal, issueApiToken } from '../../src/auth/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey } from '../../src/sessions/index.js';
import { apiClient, episode, type Episode } from '../support/api.js';
import * as fhir from '../support/fhir.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';

describe.each(BACKENDS)('access rules over the API (%s)', (backend) => {
  let f: VaultFixture;
  let api: ReturnType<typeof apiClient>;
  let ep: Episode; // tenant A, preliminary report entered by the analyst
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    api = apiClient(f);
    ep = await episode(f, f.tenants.a);
  });
  afterAll(() => f.cleanup());

  describe('deny by default', () => {
    it('serves metadata without a principal, and nothing else', async () => {
      const meta = await api.get(null, '/fhir/metadata');
      expect(meta.status).toBe(200);
      expect(meta.body.resourceType).toBe('CapabilityStatement');
      for (const url of ['/fhir/Patient?identifier=1', `/fhir/${ep.report}`, '/fhir/AuditEvent']) {
        const r = await api.get(null, url);
        expect(r.status).toBe(401);
        expect(r.body.resourceType).toBe('OperationOutcome');
        expect(r.headers['www-authenticate']).toMatch(/^DPoP algs="[^"]+", Bearer realm="labkluis"$/);
      }
      expect((await api.post(null, '/fhir', fhir.intakeBundle().bundle)).status).toBe(401);
    });

    it('refuses a forged, truncated or revoked token', async () => {
      const good = f.tokens.requesterA;
      for (const bad of [`${good.slice(0, -2)}xx`, good.slice(0, 20), 'lkt_aaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Basic abc']) {
        const r = await f.server.inject({ method: 'GET', url: `/fhir/${ep.report}`, headers: { authorization: `Bearer ${bad}` } });
        expect(r.statusCode).toBe(401);
      }
      const deps = { store: f.app.store, clock: systemClock, random: systemRandom };
      const path = `/fhir/Organization/${f.tenants.a}`;
      const service = async (handle: string) => {
        const p = await createPrincipal(deps, { role: 'requester', tenants: [f.tenants.a], displayName: handle, kind: 'service' });
        const key = await generateDpopKey();
        return { p, key, ...(await issueApiToken(deps, p.id, 1, key.jkt)) };
      };
      const read = async (t: Awaited<ReturnType<typeof service>>) => (await f.server.inject({
        method: 'GET', url: path,
        headers: { authorization: `DPoP ${t.token}`, dpop: await createDpopProof(t.key, { method: 'GET', url: PUBLIC_URL + path, accessToken: t.token, clock: systemClock, random: systemRandom }) },
      })).statusCode;
      const revoked = await service('revoked-one');
      expect(await read(revoked)).toBe(200);
      await f.app.store.revokeApiToken(revoked.id, new Date().toISOString());
      expect(await read(revoked)).toBe(401);
      const disabled = await service('disabled-one');
      await f.app.store.setPrincipalDisabled(disabled.p.id, true);
      expect(await read(disabled)).toBe(401);
    });

    it('refuses an API token that is not bound to a key, whichever way it is sent', async () => {
      // A row as tokens were stored before binding became mandatory: no key to prove, so no access.
      const deps = { store: f.app.store, clock: systemClock, random: systemRandom };
      const p = await createPrincipal(deps, { role: 'requester', tenants: [f.tenants.a], displayName: 'unbound-one', kind: 'service' });
      const key = await generateDpopKey();
      const issued = await issueApiToken(deps, p.id, 1, key.jkt);
      const row = (await f.app.store.getApiToken(issued.id))!;
      const legacy = { ...row, id: 'unboundtoken2345', jkt: null };
      await f.app.store.insertApiToken(legacy);
      const token = `lkt_${legacy.id}.${issued.token.split('.')[1]}`;
      const path = `/fhir/Organization/${f.tenants.a}`;
      expect((await f.server.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
      const proof = await createDpopProof(key, { method: 'GET', url: PUBLIC_URL + path, accessToken: token, clock: systemClock, random: systemRandom });
      expect((await f.server.inject({ method: 'GET', url: path, headers: { authorization: `DPoP ${token}`, dpop: proof } })).statusCode).toBe(401);
      await expect(issueApiToken(deps, p.id, 1, null as unknown as string)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
      // People sign in with their own factors: no API token for a person's principal.
      const person = await createPrincipal(deps, { role: 'requester', tenants: [f.tenants.a], displayName: 'a-person', kind: 'human' });
      await expect(issueApiToken(deps, person.id, 1, key.jkt)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    });

    it('answers unknown routes and resource types with a 404 OperationOutcome', async () => {
      expect((await api.get('requesterA', '/fhir/Medication/x')).status).toBe(404);
      expect((await api.get('requesterA', '/nothing-here')).body.resourceType).toBe('OperationOutcome');
    });
  });

  describe('identity is seen only by roles that need it', () => {
    it('gives the registrar and the requester the whole Patient', async () => {
      for (const who of ['registrar', 'requesterA'] as const) {
        const r = await api.get(who, `/fhir/${ep.patient}`, { tenant: f.tenants.a });
        expect(r.status).toBe(200);
        expect(r.body.identifier[0].value).toBe(ep.person.bsn);
      }
    });

    it('gives analysts and validators the pseudonym only', async () => {
      for (const who of ['analyst', 'validator1'] as const) {
        const r = await api.get(who, `/fhir/${ep.patient}`, { tenant: f.tenants.a });
        expect(r.status).toBe(200);
        expect(r.body.id).toBe(ep.pseudonym);
        expect(r.text).not.toContain(ep.person.bsn);
        expect(r.text).not.toContain(ep.person.family);
        expect(r.text).not.toContain(ep.person.birthDate);
        expect(r.body.meta.security[0].code).toBe('PSEUDED');
      }
      const search = await api.get('analyst', `/fhir/Patient?identifier=${ep.person.bsn}`, { tenant: f.tenants.a });
      expect(search.status).toBe(403);
    });

    it('lets admins and security officers read no clinical content', async () => {
      for (const who of ['admin', 'securityOfficer'] as const) {
        for (const url of [`/fhir/${ep.patient}`, `/fhir/${ep.observation}`, `/fhir/${ep.report}`, '/fhir/Observation?status=final']) {
          expect((await api.get(who, url, { tenant: f.tenants.a })).status).toBe(403);
        }
      }
    });

    it('keeps the registrar away from results', async () => {
      expect((await api.get('registrar', `/fhir/${ep.observation}`, { tenant: f.tenants.a })).status).toBe(403);
      expect((await api.post('registrar', '/fhir/Observation', fhir.hpvObservation(ep.patient, ep.specimen), { tenant: f.tenants.a })).status).toBe(403);
    });
  });

  describe('instruments append for their own device and read nothing', () => {
    it('accepts a result for its device and returns no body', async () => {
      const r = await api.post('instrument', '/fhir/Observation', fhir.hpvObservation(ep.patient, ep.specimen, { device: `Device/${f.instrumentDevice}` }));
      expect(r.status).toBe(201);
      expect(r.text).toBe('');
      expect(r.headers.location).toMatch(/\/fhir\/Observation\/[a-z2-7]+\/_history\/1$/);
    });

    it('refuses a result for another device or without one', async () => {
      expect((await api.post('instrument', '/fhir/Observation', fhir.hpvObservation(ep.patient, ep.specimen, { device: 'Device/other' }))).status).toBe(403);
      expect((await api.post('instrument', '/fhir/Observation', fhir.hpvObservation(ep.patient, ep.specimen))).status).toBe(403);
    });

    it('cannot read anything, not even what it wrote', async () => {
      const r = await api.post('instrument', '/fhir/Observation', fhir.hpvObservation(ep.patient, ep.specimen, { device: `Device/${f.instrumentDevice}` }));
      const own = String(r.headers.location).replace('https://labkluis.test', '').replace(/\/_history\/1$/, '');
      expect((await api.get('instrument', own)).status).toBe(403);
      expect((await api.get('instrument', `/fhir/${ep.patient}`)).status).toBe(403);
      expect((await api.get('instrument', '/fhir/Observation?status=final')).status).toBe(403);
      expect((await api.post('instrument', '/fhir/DiagnosticReport', fhir.report(ep.patient, [], 'preliminary', { basedOn: ep.order, specimen: ep.specimen }))).status).toBe(403);
    });
  });

  describe('four eyes on reports', () => {
    it('refuses final from an analyst, and from the validator who entered the results', async () => {
      const prelim = (await api.get('analyst', `/fhir/${ep.report}`, { tenant: f.tenants.a })).body;
      expect((await api.put('analyst', `/fhir/${ep.report}`, { ...prelim, status: 'final' }, { tenant: f.tenants.a })).status).toBe(403);
      const own = await episode(f, f.tenants.a, 'validator1');
      const ownReport = (await api.get('validator1', `/fhir/${own.report}`, { tenant: f.tenants.a })).body;
      const refused = await api.put('validator1', `/fhir/${own.report}`, { ...ownReport, status: 'final' }, { tenant: f.tenants.a });
      expect(refused.status).toBe(403);
      expect(refused.body.issue[0].diagnostics).toMatch(/four eyes/);
      const accepted = await api.put('validator2', `/fhir/${own.report}`, { ...ownReport, status: 'final' }, { tenant: f.tenants.a });
      expect(accepted.status).toBe(200);
    });

    it('refuses a validator who creates a report as final in one go', async () => {
      const r = await api.post('validator1', '/fhir/DiagnosticReport', fhir.report(ep.patient, [ep.observation], 'final', { basedOn: ep.order, specimen: ep.specimen }), { tenant: f.tenants.a });
      expect(r.status).toBe(403);
    });

    it('versions a report through final, reopen and amended; the earlier versions stay readable', async () => {
      const e = await episode(f, f.tenants.a);
      const t = { tenant: f.tenants.a };
      const v1 = (await api.get('validator2', `/fhir/${e.report}`, t)).body;
      const final = await api.put('validator2', `/fhir/${e.report}`, { ...v1, status: 'final' }, { ...t, headers: { 'if-match': 'W/"1"' } });
      expect(final.status).toBe(200);
      expect(final.body.meta.versionId).toBe('2');
      expect((await api.put('validator2', `/fhir/${e.report}`, { ...v1, status: 'amended' }, { ...t, headers: { 'if-match': 'W/"1"' } })).status).toBe(409);
      expect((await api.put('validator2', `/fhir/${e.report}`, { ...v1, status: 'final' }, t)).status).toBe(403); // once authorised: 'amended'
      expect((await api.put('validator2', `/fhir/${e.report}`, { ...v1, status: 'registered' }, t)).status).toBe(403);
      // the authoriser may not change the content on their own
      expect((await api.put('validator2', `/fhir/${e.report}`, { ...v1, status: 'amended', conclusion: 'Eigen wijziging [SYNTHETISCH]' }, t)).status).toBe(403);
      // the analyst reopens it with the correction; requesters no longer see it meanwhile
      const reopened = await api.put('analyst', `/fhir/${e.report}`, { ...v1, status: 'preliminary', conclusion: 'Aangepast advies [SYNTHETISCH]' }, t);
      expect(reopened.status).toBe(200);
      expect((await api.get('requesterA', `/fhir/${e.report}`)).status).toBe(404);
      const amended = await api.put('validator2', `/fhir/${e.report}`, { ...reopened.body, status: 'amended' }, t);
      expect(amended.status).toBe(200);
      expect(amended.body.meta.versionId).toBe('4');
      expect((await api.get('validator1', `/fhir/${e.report}/_history/2`, t)).body.status).toBe('final');
      // requesters get the current version only: v3 (reopened) was never released to them
      expect((await api.get('requesterA', `/fhir/${e.report}/_history/3`)).status).toBe(404);
      expect((await api.get('requesterA', `/fhir/${e.report}/_history/4`)).status).toBe(200);
      const now = (await api.get('requesterA', `/fhir/${e.report}`)).body;
      expect([now.status, now.conclusion]).toEqual(['amended', 'Aangepast advies [SYNTHETISCH]']);
    });

    it('keeps results away from requesters until a validator authorised their report, and locks them after', async () => {
      const e = await episode(f, f.tenants.a);
      const t = { tenant: f.tenants.a };
      // the instrument reports a final result: still not for the requester
      const r = await api.post('instrument', '/fhir/Observation', fhir.hpvObservation(e.patient, e.specimen, { device: `Device/${f.instrumentDevice}` }));
      const instrumentResult = String(r.headers.location).replace('https://labkluis.test', '').replace(/\/_history\/1$/, '');
      expect((await api.get('requesterA', instrumentResult)).status).toBe(404);
      expect((await api.get('requesterA', `/fhir/${e.observation}`)).status).toBe(404);
      expect((await api.get('requesterA', `/fhir/Observation?subject=${e.patient}`)).body.entry ?? []).toHaveLength(0);
      const v1 = (await api.get('validator1', `/fhir/${e.report}`, t)).body;
      expect((await api.put('validator1', `/fhir/${e.report}`, { ...v1, status: 'final' }, t)).status).toBe(200);
      expect((await api.get('requesterA', `/fhir/${e.observation}`)).status).toBe(200);
      expect((await api.get('requesterA', instrumentResult)).status).toBe(404); // not in the report
      // an authorised result cannot be changed in place...
      const obs = (await api.get('analyst', `/fhir/${e.observation}`, t)).body;
      const corrected = { ...obs, status: 'corrected', valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '260385009' }] } };
      expect((await api.put('analyst', `/fhir/${e.observation}`, corrected, t)).status).toBe(403);
      // ...only after reopening the report, and then a validator other than the corrector authorises it
      const current = (await api.get('analyst', `/fhir/${e.report}`, t)).body;
      expect((await api.put('analyst', `/fhir/${e.report}`, { ...current, status: 'preliminary' }, t)).status).toBe(200);
      expect((await api.get('requesterA', `/fhir/${e.observation}`)).status).toBe(404);
      expect((await api.put('validator2', `/fhir/${e.observation}`, corrected, t)).status).toBe(200);
      const reopened = (await api.get('analyst', `/fhir/${e.report}`, t)).body;
      expect((await api.put('validator2', `/fhir/${e.report}`, { ...reopened, status: 'amended' }, t)).status).toBe(403);
      expect((await api.put('validator1', `/fhir/${e.report}`, { ...reopened, status: 'amended' }, t)).status).toBe(200);
      expect((await api.get('requesterA', `/fhir/${e.observation}`)).body.valueCodeableConcept.coding[0].code).toBe('260385009');
      // the withdrawn first value was never authorised: not even by version id
      expect((await api.get('requesterA', `/fhir/${e.observation}/_history/1`)).status).toBe(404);
    });
  });

  describe('requesters see released reports of their own tenant only', () => {
    it('hides a preliminary report, shows it once final', async () => {
      const e = await episode(f, f.tenants.a);
      expect((await api.get('requesterA', `/fhir/${e.report}`)).status).toBe(404);
      const search = await api.get('requesterA', `/fhir/DiagnosticReport?subject=${e.patient}`);
      expect(search.body.entry ?? []).toHaveLength(0);
      const v1 = (await api.get('validator2', `/fhir/${e.report}`, { tenant: f.tenants.a })).body;
      await api.put('validator2', `/fhir/${e.report}`, { ...v1, status: 'final' }, { tenant: f.tenants.a });
      expect((await api.get('requesterA', `/fhir/${e.report}`)).status).toBe(200);
      expect((await api.get('requesterA', `/fhir/DiagnosticReport?subject=${e.patient}`)).body.entry).toHaveLength(1);
    });

    it('never shows tenant A to tenant B, whether by id, by search or by naming the tenant', async () => {
      const e = await episode(f, f.tenants.a);
      const v1 = (await api.get('validator2', `/fhir/${e.report}`, { tenant: f.tenants.a })).body;
      await api.put('validator2', `/fhir/${e.report}`, { ...v1, status: 'final' }, { tenant: f.tenants.a });
      expect((await api.get('requesterA', `/fhir/${e.report}`)).status).toBe(200);
      for (const url of [`/fhir/${e.report}`, `/fhir/${e.patient}`, `/fhir/${e.observation}`, `/fhir/${e.report}/_history/2`]) {
        const r = await api.get('requesterB', url);
        expect(r.status).toBe(404);
        expect(r.text).not.toContain(e.person.bsn);
      }
      expect((await api.get('requesterB', `/fhir/DiagnosticReport?subject=${e.patient}`)).body.entry ?? []).toHaveLength(0);
      expect((await api.get('requesterB', `/fhir/Patient?identifier=${e.person.bsn}`)).body.entry ?? []).toHaveLength(0);
      expect((await api.get('requesterB', `/fhir/${e.report}`, { tenant: f.tenants.a })).status).toBe(403);
      // ...and it cannot write into tenant A's patient either.
      expect((await api.post('requesterB', '/fhir/ServiceRequest', fhir.serviceRequest(e.patient))).status).toBe(400);
    });

    it('makes lab staff that act for several tenants name one', async () => {
      const r = await api.get('analyst', `/fhir/${ep.observation}`);
      expect(r.status).toBe(400);
      expect(r.body.issue[0].diagnostics).toMatch(/X-Labkluis-Tenant/);
      expect((await api.get('analyst', `/fhir/${ep.observation}`, { tenant: f.tenants.b })).status).toBe(404);
    });
  });
});
