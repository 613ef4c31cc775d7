/**
 * Bulk export as a four-eyes job, over HTTP, on both stores: a requester organisation exports
 * a screening round of its released records to a recipient's age key, approved by a second
 * person; the download opens with the recipient's identity and holds exactly what was in
 * scope, watermarked for that recipient; the audit log names every patient in one E entry.
 * Every refusal is a 4xx OperationOutcome and changes nothing. A tenant transfer by the lab's
 * admin needs the security officer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportJobRow } from '../../src/store/index.js';
import { people, type Person } from '../support/people.js';
import { BACKENDS, createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';
import {
  auditEntries, datedEpisode, decrypt, enrolIn, entryRefs, fetchBytes, recipientKeys, type DatedEpisode, type People,
} from './export-fixture.js';

const REASON = 'Synthetic test: hand-over of screening round Q1 to the screening register';

describe.each(BACKENDS)('four-eyes bulk export (%s)', (backend) => {
  let f: VaultFixture;
  let p: People;
  let reqA1: Person;
  let reqA2: Person;
  let reqB: Person;
  let officer: Person;
  let admin: Person;
  let analyst: Person;
  let q1: DatedEpisode[]; // tenant A, March 2026, authorised
  let draft: DatedEpisode; // tenant A, March 2026, report not authorised
  let q2: DatedEpisode; // tenant A, June 2026
  let other: DatedEpisode; // tenant B, March 2026
  let keys: { identity: string; recipient: string };
  let otherKeys: { identity: string; recipient: string };

  beforeAll(async () => {
    f = await createVaultFixture(backend);
    p = people(f);
    const { a, b } = f.tenants;
    [reqA1, reqA2, reqB] = [await enrolIn(f, p, 'requester', [a]), await enrolIn(f, p, 'requester', [a]), await enrolIn(f, p, 'requester', [b])];
    [officer, admin, analyst] = [await enrolIn(f, p, 'security-officer', ['*']), await enrolIn(f, p, 'admin', ['*']), await enrolIn(f, p, 'analyst', ['*'])];
    q1 = [await datedEpisode(f, a, '2026-03-02'), await datedEpisode(f, a, '2026-03-20')];
    draft = await datedEpisode(f, a, '2026-03-10', false);
    q2 = await datedEpisode(f, a, '2026-06-05');
    other = await datedEpisode(f, b, '2026-03-05');
    keys = await recipientKeys();
    otherKeys = await recipientKeys();
  }, 120_000);
  afterAll(() => f.cleanup());

  const ask = (who: Person, body: unknown) => p.call('POST', '/export/jobs', body, { device: who.device });
  const round = (overrides: Record<string, unknown> = {}) => ({
    tenant: f.tenants.a, scope: { from: '2026-03-01', to: '2026-04-01' },
    recipient: { key: keys.recipient, label: 'Screening register (synthetic)' }, purpose: { code: 'PUBHLTH', reason: REASON }, ...overrides,
  });
  const job = async (id: string): Promise<ExportJobRow> => (await f.app.store.exports.getJob(id))!;
  const allJobs = async () => (await f.app.store.exports.listJobs({ tenants: null, limit: 1000 })).map((j) => `${j.id}:${j.status}`).sort();

  it('requested by one, approved by a second, downloaded once: the round, decrypted with the recipient\'s key, watermarked for them', async () => {
    const requested = await ask(reqA1, round());
    expect(requested.status, requested.text).toBe(201);
    const id: string = requested.body.id;
    expect(requested.body).toMatchObject({ status: 'requested', tenant: f.tenants.a, view: 'released', purpose: { code: 'PUBHLTH', reason: REASON } });
    // The reason is sealed at rest: not in the row as text.
    expect((await job(id)).reason.toString('latin1')).not.toContain('screening round');

    // The second requester sees it, with the reason, and approves it.
    const shown = await p.call('GET', `/export/jobs/${id}`, undefined, { device: reqA2.device });
    expect(shown.body.purpose.reason).toBe(REASON);
    const approved = await p.call('POST', `/export/jobs/${id}/approve`, undefined, { device: reqA2.device });
    expect(approved.status, approved.text).toBe(202);
    await f.app.exports.settled();
    const ready = await job(id);
    expect(ready.status, ready.failure ?? '').toBe('ready');

    const started = Date.now();
    const file = await fetchBytes(f, reqA1.device, `/export/jobs/${id}/download`);
    expect(file.status, file.text).toBe(200);
    expect(file.headers['content-type']).toBe('application/octet-stream');
    expect(file.bytes.length).toBe(ready.result!.bytes);
    expect(file.headers['x-labkluis-export-sha256']).toBe(ready.result!.sha256);
    expect(file.bytes.subarray(0, 21).toString('latin1')).toBe('age-encryption.org/v1');
    // Not readable without the recipient's identity: no name, no BSN in the bytes.
    for (const ep of q1) expect(file.bytes.toString('latin1')).not.toContain(ep.person.family);

    const bundle = await decrypt(file.bytes, keys.identity);
    const decryptMs = Date.now() - started;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection', id });
    const refs = entryRefs(bundle);
    const expected = [
      ...q1.flatMap((ep) => [ep.refs.patient, ep.refs.order, ep.refs.observation, ep.refs.report]),
      // The unauthorised episode: the person and the order, never the result or the draft report.
      draft.refs.patient, draft.refs.order,
    ];
    expect([...refs].sort()).toEqual([...expected].sort());
    for (const absent of [draft.refs.report, draft.refs.observation, ...Object.values(q2.refs), ...Object.values(other.refs), q1[0]!.refs.specimen]) {
      expect(refs).not.toContain(absent);
    }
    // Identity included (a requester reads it), as stored.
    const patient = bundle.entry.find((e: any) => e.resource.id === q1[0]!.pseudonym).resource;
    expect(patient.name[0].family).toBe(q1[0]!.person.family);
    expect(patient.identifier[0].value).toBe(q1[0]!.person.bsn);
    expect(ready.result).toMatchObject({ records: expected.length, patients: 3 });

    // The watermark: valid for this job and recipient, and not for another recipient.
    const mine = await f.app.exports.checkWatermark(id, bundle);
    expect(mine).toEqual({ identifier: true, pairs: expected.length - 1, inOrder: expected.length - 1 });
    const theirs = await f.app.exports.checkWatermark(id, bundle, otherKeys.recipient);
    expect(theirs.identifier).toBe(false);
    expect(theirs.inOrder).toBeLessThan(theirs.pairs);
    // Stripped of its identifier, the order alone still points at this recipient.
    const stripped = { ...bundle, identifier: undefined, meta: undefined };
    expect(await f.app.exports.checkWatermark(id, stripped)).toMatchObject({ identifier: false, inOrder: expected.length - 1 });
    // Nobody else can open it.
    await expect(decrypt(file.bytes, otherKeys.identity)).rejects.toThrow();

    // Once: a second download is refused, and the ciphertext is gone from the store.
    expect((await fetchBytes(f, reqA1.device, `/export/jobs/${id}/download`)).status).toBe(409);
    expect(await f.app.store.exports.readChunk(id, 0)).toBeNull();
    expect((await job(id)).status).toBe('downloaded');

    // One E entry for the records, naming every patient in it; account events for the rest.
    const log = await auditEntries(f);
    const exported = log.filter((e) => e.action === 'E' && e.operation === 'export' && e.objects.some((o) => o.id === id));
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({ outcome: 'success', principal: { id: reqA1.principalId, role: 'requester' }, purposeOfUse: 'PUBHLTH' });
    expect([...exported[0]!.patients].sort()).toEqual([...q1.map((e) => e.pseudonym), draft.pseudonym].sort());
    expect(exported[0]!.objects[0]!.query?.approvedBy).toEqual([reqA2.principalId]);
    const events = log.filter((e) => e.objects.some((o) => o.type === 'ExportJob' && o.id === id)).map((e) => e.operation);
    expect(events).toEqual(['export-requested', 'export-approved', 'export', 'export-ready', 'export-downloaded']);
    console.info(`[${backend}] export of ${ready.result!.records} records (${ready.result!.bytes} bytes): download+decrypt ${decryptMs} ms`);
  });

  it('refuses bad requests with a 400 that names the element, and stores nothing', async () => {
    const before = await allJobs();
    const cases: [Record<string, unknown>, string][] = [
      [round({ recipient: { key: 'age1notakey', label: 'x' } }), 'recipient.key'],
      [round({ recipient: { key: keys.recipient.replace(/.$/, (c) => (c === 'q' ? 'p' : 'q')), label: 'x' } }), 'recipient.key'], // bad checksum
      [round({ recipient: { key: keys.recipient, label: '' } }), 'recipient.label'],
      [round({ purpose: { code: 'PUBHLTH', reason: 'short' } }), 'purpose.reason'],
      [round({ scope: { types: ['Specimen'] } }), 'scope.types[0]'], // a requester reads no specimens
      [round({ scope: { from: '2026-04-01', to: '2026-03-01' } }), 'scope.to'],
      [round({ scope: { from: 'last spring' } }), 'scope.from'],
      [round({ scope: { identity: 'yes' } }), 'scope.identity'],
      [round({ extra: 1 }), 'request'],
    ];
    for (const [body, expression] of cases) {
      const r = await ask(reqA1, body);
      expect(r.status, r.text).toBe(400);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue.some((i: { expression?: string[] }) => i.expression?.[0] === expression), r.text).toBe(true);
    }
    expect(await allJobs()).toEqual(before);
  });

  it('refuses requests from the wrong role, a service, a stale session, another tenant or a wrong purpose (403), storing nothing', async () => {
    const before = await allJobs();
    expect((await ask(analyst, round())).status).toBe(403);
    expect((await ask(officer, round())).status).toBe(403);
    expect((await p.asService('requesterA', 'POST', '/export/jobs', round())).status).toBe(403); // API tokens never step up
    expect((await ask(reqB, round())).status).toBe(403); // tenant A is not reqB's
    expect((await ask(reqA1, round({ purpose: { code: 'ETREAT', reason: REASON } }))).status).toBe(403);
    expect((await ask(admin, round({ purpose: { code: 'TREAT', reason: REASON } }))).status).toBe(403); // an admin claims HSYSADMIN only
    const stale = await enrolIn(f, p, 'requester', [f.tenants.a]);
    await p.stale(stale.device);
    const r = await ask(stale, round());
    expect(r.status).toBe(403);
    expect(r.body.issue[0].diagnostics).toMatch(/step-up/);
    expect(await allJobs()).toEqual(before);
  });

  it('refuses self-approval, a wrong role, another tenant, a stale session, an expired or decided job, and changes nothing', async () => {
    const id: string = (await ask(reqA1, round())).body.id;
    const untouched = await job(id);
    const approve = (who: Person) => p.call('POST', `/export/jobs/${id}/approve`, undefined, { device: who.device });
    const self = await approve(reqA1);
    expect(self.status).toBe(403);
    expect(self.body.issue[0].diagnostics).toMatch(/four eyes/);
    // The refusal is in the audit log, like every refusal of a signed-in person.
    expect((await auditEntries(f)).some((e) => e.principal?.id === reqA1.principalId && e.outcome === 'denied' && e.errorCode === 'ERR_FORBIDDEN')).toBe(true);
    expect((await approve(analyst)).status).toBe(403);
    expect((await approve(admin)).status).toBe(403); // a requester's export is approved by a requester or a security officer
    expect((await approve(reqB)).status).toBe(404); // not even visible from tenant B
    expect((await p.call('POST', `/export/jobs/${id}/reject`, undefined, { device: reqB.device })).status).toBe(404);
    const staleApprover = await enrolIn(f, p, 'requester', [f.tenants.a]);
    await p.stale(staleApprover.device);
    expect((await approve(staleApprover)).status).toBe(403);
    expect((await p.call('POST', '/export/jobs/not-a-job/approve', undefined, { device: reqA2.device })).status).toBe(404);
    expect(await job(id)).toEqual(untouched);

    // Expired: a request waits three days for its second person.
    await f.rawSql(`UPDATE ${backend === 'postgres' ? 'core.export_jobs' : 'core_export_jobs'} SET expires_at = '2026-01-01T00:00:00.000Z' WHERE id = '${id}'`);
    const expired = await approve(reqA2);
    expect(expired.status, expired.text).toBe(409);
    expect((await job(id)).decidedBy).toBeNull();

    // Decided: a rejected job cannot be approved, nor rejected again; an approved one not approved twice.
    const second: string = (await ask(reqA1, round())).body.id;
    expect((await p.call('POST', `/export/jobs/${second}/reject`, undefined, { device: reqA1.device })).status).toBe(403); // the requester cancels instead
    expect((await p.call('POST', `/export/jobs/${second}/reject`, undefined, { device: officer.device })).status).toBe(200);
    expect((await p.call('POST', `/export/jobs/${second}/approve`, undefined, { device: reqA2.device })).status).toBe(409);
    expect((await p.call('POST', `/export/jobs/${second}/reject`, undefined, { device: reqA2.device })).status).toBe(409);
    expect(await job(second)).toMatchObject({ status: 'rejected', decidedBy: officer.principalId, runStartedAt: null });
    const third: string = (await ask(reqA1, round())).body.id;
    expect((await p.call('POST', `/export/jobs/${third}/approve`, undefined, { device: officer.device })).status).toBe(202);
    expect((await p.call('POST', `/export/jobs/${third}/approve`, undefined, { device: reqA2.device })).status).toBe(409);
    await f.app.exports.settled();
    expect(await job(third)).toMatchObject({ status: 'ready', decidedBy: officer.principalId });

    // Download: only the requester, with a fresh step-up; nothing is consumed by a refusal.
    expect((await fetchBytes(f, reqA2.device, `/export/jobs/${third}/download`)).status).toBe(403);
    expect((await fetchBytes(f, reqB.device, `/export/jobs/${third}/download`)).status).toBe(404);
    await p.stale(reqA1.device);
    expect((await fetchBytes(f, reqA1.device, `/export/jobs/${third}/download`)).status).toBe(403);
    expect((await job(third)).status).toBe('ready');
    await p.stepUp(reqA1);
    // The requester withdraws it instead: the ciphertext goes at once.
    expect((await p.call('POST', `/export/jobs/${third}/cancel`, undefined, { device: reqA1.device })).status).toBe(200);
    expect(await f.app.store.exports.readChunk(third, 0)).toBeNull();
    expect((await fetchBytes(f, reqA1.device, `/export/jobs/${third}/download`)).status).toBe(409);
  });

  it('lists jobs per tenant: a requester sees its own tenant\'s, the security officer all; other roles none', async () => {
    const mine = await p.call('GET', '/export/jobs', undefined, { device: reqA2.device });
    expect(mine.status).toBe(200);
    expect(mine.body.jobs.length).toBeGreaterThan(0);
    expect(mine.body.jobs.every((j: { tenant: string }) => j.tenant === f.tenants.a)).toBe(true);
    expect(JSON.stringify(mine.body)).not.toContain(REASON); // the reason only when one job is asked for
    expect((await p.call('GET', '/export/jobs', undefined, { device: reqB.device })).body.jobs).toEqual([]);
    expect((await p.call('GET', '/export/jobs', undefined, { device: officer.device })).body.jobs.length).toBe(mine.body.jobs.length);
    expect((await p.call('GET', '/export/jobs', undefined, { device: analyst.device })).status).toBe(403);
  });

  it('a tenant transfer by the admin needs the security officer, and holds every record and person of the tenant but its canaries', async () => {
    // A canary of the tenant: synthetic, so it never goes to a recipient.
    const decoy = await datedEpisode(f, f.tenants.a, '2026-04-01');
    await f.app.store.sentinel.addCanaries([{ tenant: f.tenants.a, pseudonym: decoy.pseudonym, createdAt: new Date().toISOString(), createdBy: 'test' }]);
    f.app.sentinel.canariesChanged(f.tenants.a); // as the app's canary service does; from another process: within leases.canariesSeconds
    const body = { tenant: f.tenants.a, recipient: { key: otherKeys.recipient, label: 'Successor lab (synthetic)' }, purpose: { code: 'HSYSADMIN', reason: 'Synthetic test: the practice moves to another lab' } };
    await p.stepUp(admin);
    const asked = await ask(admin, body);
    expect(asked.status, asked.text).toBe(201);
    expect(asked.body.view).toBe('full');
    const id: string = asked.body.id;
    expect((await p.call('POST', `/export/jobs/${id}/approve`, undefined, { device: reqA2.device })).status).toBe(403);
    await p.stepUp(officer);
    expect((await p.call('POST', `/export/jobs/${id}/approve`, undefined, { device: officer.device })).status).toBe(202);
    await f.app.exports.settled();
    const file = await fetchBytes(f, admin.device, `/export/jobs/${id}/download`);
    expect(file.status, file.text).toBe(200);
    const refs = entryRefs(await decrypt(file.bytes, otherKeys.identity));
    for (const ep of [...q1, draft, q2]) for (const ref of Object.values(ep.refs)) expect(refs).toContain(ref);
    for (const ref of Object.values(other.refs)) expect(refs).not.toContain(ref);
    for (const ref of Object.values(decoy.refs)) expect(refs).not.toContain(ref);
    expect(refs).not.toContain(`Patient/${decoy.pseudonym}`);
    await f.app.store.sentinel.removeCanary(f.tenants.a, decoy.pseudonym);
  });

  it('without identity: the Patients are pseudonyms only, the results as they are', async () => {
    await p.stepUp(reqA1);
    const asked = await ask(reqA1, round({ scope: { from: '2026-03-01', to: '2026-04-01', types: ['Patient', 'DiagnosticReport'], identity: false } }));
    expect(asked.status, asked.text).toBe(201);
    await p.stepUp(reqA2);
    expect((await p.call('POST', `/export/jobs/${asked.body.id}/approve`, undefined, { device: reqA2.device })).status).toBe(202);
    await f.app.exports.settled();
    const file = await fetchBytes(f, reqA1.device, `/export/jobs/${asked.body.id}/download`);
    expect(file.status, file.text).toBe(200);
    const bundle = await decrypt(file.bytes, keys.identity);
    const text = JSON.stringify(bundle);
    for (const ep of [...q1, draft]) {
      expect(text).not.toContain(ep.person.family);
      expect(text).not.toContain(ep.person.bsn);
    }
    const patients = bundle.entry.filter((e: any) => e.resource.resourceType === 'Patient').map((e: any) => e.resource);
    expect(patients.map((r: any) => r.id).sort()).toEqual([...q1.map((e) => e.pseudonym), draft.pseudonym].sort());
    expect(patients.every((r: any) => r.meta.security[0].code === 'PSEUDED' && r.name === undefined)).toBe(true);
    expect(entryRefs(bundle).filter((r) => r.startsWith('DiagnosticReport/')).sort()).toEqual(q1.map((e) => e.refs.report).sort());
  });
});
