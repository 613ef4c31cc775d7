/**
 * The export and the sentinel, with the sentinel's real limits, on both stores: an approved
 * export of more patients than anyone may read in ten minutes contains neither the requester
 * nor the approver (it is the job's, not theirs), while the same person reading those patients
 * one by one is still contained; and a contained person exports nothing, even through a job
 * approved before or after the containment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomId, systemClock, systemRandom } from '../../src/kernel/index.js';
import { DEFAULT_SENTINEL_POLICY } from '../../src/sentinel/index.js';
import { createDpopProof } from '../../src/sessions/index.js';
import { people, type Device, type Person } from '../support/people.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';
import { auditEntries, datedEpisode, decrypt, enrolIn, fetchBytes, recipientKeys, type DatedEpisode, type People } from './export-fixture.js';

describe.each(BACKENDS)('an export is not a bulk read (%s)', (backend) => {
  let f: VaultFixture;
  let p: People;
  let reqA1: Person;
  let reqA2: Person;
  let episodes: DatedEpisode[];
  let keys: { identity: string; recipient: string };
  const burst = DEFAULT_SENTINEL_POLICY.windows[0]!.patients;

  beforeAll(async () => {
    f = await createVaultFixture(backend, { sentinelPolicy: {} }); // the real defaults
    p = people(f);
    reqA1 = await enrolIn(f, p, 'requester', [f.tenants.a]);
    reqA2 = await enrolIn(f, p, 'requester', [f.tenants.a]);
    episodes = [];
    for (let i = 0; i < burst + 3; i++) episodes.push(await datedEpisode(f, f.tenants.a, `2026-03-${String(2 + i).padStart(2, '0')}`));
    keys = await recipientKeys();
  }, 180_000);
  afterAll(() => f.cleanup());

  const read = async (device: Device, path: string): Promise<number> => {
    const dpop = await createDpopProof(device.key, { method: 'GET', url: PUBLIC_URL + path, accessToken: device.tokens.accessToken, clock: systemClock, random: systemRandom });
    const res = await f.server.inject({ method: 'GET', url: path, headers: { authorization: `DPoP ${device.tokens.accessToken}`, dpop, 'x-labkluis-tenant': f.tenants.a }, remoteAddress: device.ip });
    return res.statusCode;
  };
  const body = () => ({
    recipient: { key: keys.recipient, label: 'Screening register (synthetic)' }, purpose: { code: 'PUBHLTH', reason: 'Synthetic test: every final report of the tenant' },
  });
  const exportAll = async (by: Person, approver: Person) => {
    const asked = await p.call('POST', '/export/jobs', body(), { device: by.device });
    expect(asked.status, asked.text).toBe(201);
    expect((await p.call('POST', `/export/jobs/${asked.body.id}/approve`, undefined, { device: approver.device })).status).toBe(202);
    await f.app.exports.settled();
    return asked.body.id as string;
  };

  it(`exports ${burst + 3} patients without containing requester or approver; the same person reading them one by one is contained`, async () => {
    const id = await exportAll(reqA1, reqA2);
    const file = await fetchBytes(f, reqA1.device, `/export/jobs/${id}/download`);
    expect(file.status, file.text).toBe(200);
    const bundle = await decrypt(file.bytes, keys.identity);
    const patients = bundle.entry.filter((e: any) => e.resource.resourceType === 'Patient');
    expect(patients).toHaveLength(burst + 3);
    expect(await f.app.store.sentinel.liveContainment(reqA1.principalId)).toBeNull();
    expect(await f.app.store.sentinel.liveContainment(reqA2.principalId)).toBeNull();

    // The same person, the same patients, read directly: the sentinel stops it within the burst.
    const statuses: number[] = [];
    for (const ep of episodes) statuses.push(await read(reqA1.device, `/fhir/${ep.refs.report}`));
    expect(statuses[0]).toBe(200); // the export counted for nobody
    const refused = statuses.indexOf(403);
    expect(refused, statuses.join(',')).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(burst);
    expect(await f.app.store.sentinel.liveContainment(reqA1.principalId)).not.toBeNull();
  });

  it('a contained person gets no export: a new request is refused, and an approved job of theirs reads nothing', async () => {
    // reqA1 is contained (above): a new sign-in works, an export request does not.
    const device = await p.signIn(reqA1);
    const refused = await p.call('POST', '/export/jobs', body(), { device });
    expect(refused.status, refused.text).toBe(403);
    // A job asked for before its requester was contained, approved after: the run refuses to read.
    const reqA3 = await enrolIn(f, p, 'requester', [f.tenants.a]);
    const asked = await p.call('POST', '/export/jobs', body(), { device: reqA3.device });
    expect(asked.status, asked.text).toBe(201);
    const id: string = asked.body.id;
    await f.app.store.sentinel.insertContainment({
      id: randomId(systemRandom), principalId: reqA3.principalId, reason: 'canary', alertId: null, createdAt: new Date().toISOString(), liftedAt: null, liftedBy: null, liftNote: null,
    });
    expect((await p.call('POST', `/export/jobs/${id}/approve`, undefined, { device: reqA2.device })).status).toBe(202);
    await f.app.exports.settled();
    expect(await f.app.store.exports.getJob(id)).toMatchObject({ status: 'failed', failure: 'ERR_FORBIDDEN', result: null });
    expect(await f.app.store.exports.readChunk(id, 0)).toBeNull();
    const log = await auditEntries(f);
    const reads = log.filter((e) => e.operation === 'export' && e.objects.some((o) => o.id === id));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ action: 'E', outcome: 'denied', patients: [] });
    expect(log.some((e) => e.operation.startsWith('export-failed') && e.objects.some((o) => o.id === id))).toBe(true);
  });
});
