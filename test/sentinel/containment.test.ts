/**
 * The sentinel on the live path, over HTTP, on both stores, with its default limits: a person
 * reading patient after patient is contained by the request that crosses the limit (that
 * response never leaves); a canary contains at the first touch; a copied token contains the
 * account; a contained account stays locked, whatever credential it comes back with, until a
 * security officer lifts the containment with a reason after a fresh step-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { apiTokenIdOf, createPrincipal, issueApiToken } from '../../src/auth/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { DEFAULT_SENTINEL_POLICY } from '../../src/sentinel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import { episode, type Episode } from '../support/api.js';
import { people, type Device, type Person } from '../support/people.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture, DEFAULT_SENTINEL_AT_ANY_HOUR } from '../support/vault-fixture.js';

describe.each(BACKENDS)('the sentinel contains abnormal access (%s)', (backend) => {
  let f: VaultFixture;
  let p: ReturnType<typeof people>;
  let episodes: Episode[];
  const burst = DEFAULT_SENTINEL_POLICY.windows[0]!.patients;

  beforeAll(async () => {
    f = await createVaultFixture(backend, { sentinelPolicy: DEFAULT_SENTINEL_AT_ANY_HOUR }); // the real defaults, at any hour
    p = people(f);
    episodes = [];
    for (let i = 0; i < burst + 3; i++) episodes.push(await episode(f, f.tenants.a));
  }, 120_000);
  afterAll(() => f.cleanup());

  const entries = async (): Promise<AuditEntry[]> => (await f.app.store.readAudit(0, 1_000_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
  // A read of the patient by default: identity (or its pseudonym) always counts in the hard windows.
  const read = async (device: Device, ep: Episode, what: 'patient' | 'observation' | 'report' = 'patient'): Promise<number> => {
    const path = `/fhir/${ep[what]}`;
    const dpop = await createDpopProof(device.key, { method: 'GET', url: PUBLIC_URL + path, accessToken: device.tokens.accessToken, clock: systemClock, random: systemRandom });
    const res = await f.server.inject({
      method: 'GET', url: path, headers: { authorization: `DPoP ${device.tokens.accessToken}`, dpop, 'x-labkluis-tenant': f.tenants.a }, remoteAddress: device.ip,
    });
    return res.statusCode;
  };

  it(`contains a person reading patient after patient at patient ${burst + 1}: that response and every later one are refused`, async () => {
    const analyst: Person = await p.enrol({ role: 'analyst' });
    const statuses: number[] = [];
    for (const ep of episodes) statuses.push(await read(analyst.device, ep));
    // Exposed: the first `burst` patients. The read that crosses is refused (403) and ends the
    // session, so the ones after it are not even authenticated (401).
    expect(statuses).toEqual([...Array(burst).fill(200), 403, ...Array(episodes.length - burst - 1).fill(401)]);
    const live = await f.app.store.sentinel.liveContainment(analyst.principalId);
    expect(live).toMatchObject({ principalId: analyst.principalId, reason: 'patients-600s', liftedAt: null });
    // The session ended with the containment; a new sign-in works but reads nothing clinical.
    expect(await p.works(analyst.device)).toBe(false);
    const again = await p.signIn(analyst);
    expect(await read(again, episodes[0]!)).toBe(403);
    const alerts = await f.app.store.safeguards.listAlerts({ open: true, limit: 100 });
    expect(alerts.some((a) => a.kind === 'sentinel:patients-600s' && a.principalId === analyst.principalId && a.subject === live!.id)).toBe(true);
    // The alert names the audit entries behind it: the analyst's reads in the window.
    const alert = alerts.find((a) => a.subject === live!.id)!;
    expect(alert.evidence.length).toBeGreaterThanOrEqual(burst);
    const evidence = await Promise.all(alert.evidence.map(async (seq) => JSON.parse((await f.app.store.readAudit(seq, 1))[0]!.leaf.toString('utf8')) as AuditEntry));
    expect(evidence.every((e) => e.principal?.id === analyst.principalId)).toBe(true);
    expect(evidence.filter((e) => e.operation === 'read' && e.outcome === 'success').length).toBe(burst);
    const log = await entries();
    expect(log.some((e) => e.operation === 'sentinel-contained:patients-600s' && e.principal?.id === analyst.principalId)).toBe(true);
    // The refused read is audited as refused, and names no data it did not hand out.
    const refusedReads = log.filter((e) => e.principal?.id === analyst.principalId && e.operation === 'read' && e.outcome === 'denied');
    expect(refusedReads.length).toBeGreaterThanOrEqual(1);
  });

  it('lets a validator work through the results and reports awaiting authorisation (work in progress), but not through the patients', async () => {
    const validator: Person = await p.enrol({ role: 'validator' });
    // Every episode's report is preliminary and its result in no authorised report yet: work in
    // progress, counted in the wider work windows.
    for (const ep of episodes) {
      expect(await read(validator.device, ep, 'report')).toBe(200);
      expect(await read(validator.device, ep, 'observation')).toBe(200);
    }
    expect(await f.app.store.sentinel.liveContainment(validator.principalId)).toBeNull();
    // The patients themselves count in the hard windows: the 21st is refused.
    const statuses: number[] = [];
    for (const ep of episodes) statuses.push(await read(validator.device, ep));
    expect(statuses.slice(0, burst + 1)).toEqual([...Array(burst).fill(200), 403]);
  });

  it('contains at the first touch of a canary patient: its record never leaves', async () => {
    const analyst: Person = await p.enrol({ role: 'analyst' });
    const canary = episodes[1]!;
    await f.app.store.sentinel.addCanaries([{ tenant: f.tenants.a, pseudonym: canary.pseudonym, createdAt: new Date().toISOString(), createdBy: 'test' }]);
    f.app.sentinel.canariesChanged(f.tenants.a); // as the app's canary service does; from another process: within leases.canariesSeconds
    try {
      expect(await read(analyst.device, episodes[0]!)).toBe(200);
      expect(await read(analyst.device, canary)).toBe(403);
      expect((await f.app.store.sentinel.liveContainment(analyst.principalId))?.reason).toBe('canary');
      const again = await p.signIn(analyst);
      expect(await read(again, episodes[2]!)).toBe(403);
    } finally {
      await f.app.store.sentinel.removeCanary(f.tenants.a, canary.pseudonym);
    }
  });

  it('a session token used without its key (a copied token) opens nothing, ends that session and alerts the security officer', async () => {
    const analyst: Person = await p.enrol({ role: 'analyst' });
    const stolen = await f.server.inject({
      method: 'GET', url: `/fhir/${episodes[0]!.observation}`, headers: { authorization: `Bearer ${analyst.device.tokens.accessToken}`, 'x-labkluis-tenant': f.tenants.a },
    });
    expect(stolen.statusCode).toBe(401);
    expect(await p.works(analyst.device)).toBe(false);
    const alerts = await f.app.store.safeguards.listAlerts({ open: true, limit: 100 });
    expect(alerts.some((a) => a.kind === 'sentinel:token-replay' && a.principalId === analyst.principalId)).toBe(true);
    // Not locked by that alone: the person signs in again on their own device and works.
    const again = await p.signIn(analyst);
    expect(await read(again, episodes[0]!)).toBe(200);
  });

  it('a security officer lifts a containment with a reason after a fresh step-up; then reads work again', async () => {
    const analyst: Person = await p.enrol({ role: 'analyst' });
    const canary = episodes[2]!;
    await f.app.store.sentinel.addCanaries([{ tenant: f.tenants.a, pseudonym: canary.pseudonym, createdAt: new Date().toISOString(), createdBy: 'test' }]);
    f.app.sentinel.canariesChanged(f.tenants.a); // as the app's canary service does; from another process: within leases.canariesSeconds
    expect(await read(analyst.device, canary)).toBe(403);
    await f.app.store.sentinel.removeCanary(f.tenants.a, canary.pseudonym);
    const live = (await f.app.store.sentinel.liveContainment(analyst.principalId))!;
    const officer: Person = await p.enrol({ role: 'security-officer' });
    const listed = await p.call('GET', '/auth/containments', undefined, { device: officer.device });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.containments.some((c: { id: string }) => c.id === live.id)).toBe(true);
    // Refusals first: another role, a stale assertion, no reason.
    const admin: Person = await p.enrol({ role: 'admin' });
    expect((await p.call('GET', '/auth/containments', undefined, { device: admin.device })).status).toBe(403);
    expect((await p.call('POST', `/auth/containments/${live.id}/lift`, { reason: 'Synthetic test: admin tries' }, { device: admin.device })).status).toBe(403);
    await p.stale(officer.device);
    expect((await p.call('POST', `/auth/containments/${live.id}/lift`, { reason: 'Synthetic test: stale assertion' }, { device: officer.device })).status).toBe(403);
    await p.stepUp(officer);
    expect((await p.call('POST', `/auth/containments/${live.id}/lift`, { reason: 'short' }, { device: officer.device })).status).toBe(400);
    expect(await f.app.store.sentinel.liveContainment(analyst.principalId)).not.toBeNull();
    const lifted = await p.call('POST', `/auth/containments/${live.id}/lift`, { reason: 'Synthetic test: checked with the analyst by phone' }, { device: officer.device });
    expect(lifted.status, lifted.text).toBe(200);
    expect(await f.app.store.sentinel.liveContainment(analyst.principalId)).toBeNull();
    const again = await p.signIn(analyst);
    expect(await read(again, episodes[0]!)).toBe(200);
    expect((await p.call('POST', `/auth/containments/${live.id}/lift`, { reason: 'Synthetic test: lifted twice' }, { device: officer.device })).status).toBe(404);
    expect((await entries()).some((e) => e.operation === 'sentinel-lifted' && e.principal?.id === officer.principalId)).toBe(true);
  });

  it('a security officer sees the alert, follows it to the audit entries behind it, and closes it with a finding', async () => {
    const analyst: Person = await p.enrol({ role: 'analyst' });
    const canary = episodes[3]!;
    await f.app.store.sentinel.addCanaries([{ tenant: f.tenants.a, pseudonym: canary.pseudonym, createdAt: new Date().toISOString(), createdBy: 'test' }]);
    f.app.sentinel.canariesChanged(f.tenants.a); // as the app's canary service does; from another process: within leases.canariesSeconds
    expect(await read(analyst.device, episodes[4]!)).toBe(200);
    expect(await read(analyst.device, canary)).toBe(403);
    await f.app.store.sentinel.removeCanary(f.tenants.a, canary.pseudonym);
    const officer: Person = await p.enrol({ role: 'security-officer' });
    const list = await p.call('GET', '/auth/alerts', undefined, { device: officer.device });
    expect(list.status, list.text).toBe(200);
    const alert = list.body.alerts.find((a: { kind: string; principalId: string }) => a.kind === 'sentinel:canary' && a.principalId === analyst.principalId);
    expect(alert).toMatchObject({ closed: false, acknowledgedAt: null });
    // It says what it means, and names the read that went out before as its evidence.
    expect(alert.explanation).toMatch(/canary patient/);
    expect(alert.evidence.length).toBeGreaterThan(0);
    // The audit entries behind it: the read that went out and the one that was refused.
    const trail = await p.call('GET', alert.auditQuery, undefined, { device: officer.device });
    expect(trail.status, trail.text).toBe(200);
    const ops = (trail.body.entry as { resource: { outcome: string; subtype?: { code: string }[] } }[]).map((e) => e.resource.outcome);
    expect(ops).toContain('0'); // a success (FHIR AuditEvent outcome 0)
    expect(ops.some((o) => o !== '0')).toBe(true); // and a refusal
    // Refusals: not an officer, no finding.
    const admin: Person = await p.enrol({ role: 'admin' });
    expect((await p.call('POST', `/auth/alerts/${alert.id}/close`, { note: 'Synthetic test: admin closes' }, { device: admin.device })).status).toBe(403);
    expect((await p.call('POST', `/auth/alerts/${alert.id}/close`, { note: 'ok' }, { device: officer.device })).status).toBe(400);
    const closed = await p.call('POST', `/auth/alerts/${alert.id}/close`, { note: 'Synthetic test: canary touched by a test script; containment stays' }, { device: officer.device });
    expect(closed.body).toEqual({ closed: true });
    expect((await p.call('POST', `/auth/alerts/${alert.id}/close`, { note: 'Synthetic test: closed a second time' }, { device: officer.device })).body).toEqual({ closed: false });
    const after = (await p.call('GET', '/auth/alerts?open=false', undefined, { device: officer.device })).body.alerts.find((a: { id: string }) => a.id === alert.id);
    expect(after).toMatchObject({ closed: true, hasCloseNote: true, closedBy: officer.principalId });
    expect(after.acknowledgedAt).not.toBeNull();
    expect(JSON.stringify(after)).not.toContain('canary touched by a test script'); // sealed, never listed
  });

  it('contains a service the same way: its tokens are revoked, and a new token for it is refused too', async () => {
    const deps = { store: f.app.store, clock: systemClock, random: systemRandom };
    const svc = await createPrincipal(deps, { role: 'analyst', tenants: ['*'], displayName: 'lims-bridge', kind: 'service' });
    const token = async () => {
      const key = await generateDpopKey();
      return { key, token: (await issueApiToken(deps, svc.id, 1, key.jkt)).token };
    };
    const readAs = async (t: { key: DpopKey; token: string }, ep: Episode) => {
      const path = `/fhir/${ep.patient}`; // identity counts in the hard windows
      const dpop = await createDpopProof(t.key, { method: 'GET', url: PUBLIC_URL + path, accessToken: t.token, clock: systemClock, random: systemRandom });
      return (await f.server.inject({ method: 'GET', url: path, headers: { authorization: `DPoP ${t.token}`, dpop, 'x-labkluis-tenant': f.tenants.a } })).statusCode;
    };
    const first = await token();
    const statuses: number[] = [];
    for (const ep of episodes) statuses.push(await readAs(first, ep));
    // The crossing read is refused; containment revoked the token, so nothing authenticates with it after.
    expect(statuses).toEqual([...Array(burst).fill(200), 403, ...Array(episodes.length - burst - 1).fill(401)]);
    expect((await f.app.store.sentinel.liveContainment(svc.id))?.reason).toBe('patients-600s');
    expect((await f.app.store.getApiToken(apiTokenIdOf(first.token)!))?.revokedAt).not.toBeNull();
    const log = await entries();
    expect(log.some((e) => e.operation === 'api-tokens-revoked:contained-patients-600s' && e.principal?.id === svc.id)).toBe(true);
    // A token issued after it authenticates, and the lock refuses every request.
    expect(await readAs(await token(), episodes[0]!)).toBe(403);
  });
});
