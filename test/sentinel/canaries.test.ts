/**
 * Canary patients (issue 4), on both stores, with the app's real sentinel: a security officer
 * seeds them over HTTP after a fresh step-up; they are written through the vault like any
 * episode (same resources, same fields, the tenant's labels and barcode format, nothing of their
 * own); a broad search that returns one contains the principal at once; a registrar's BSN search
 * never meets one, also when a real person with a canary's BSN is registered later (canaries stay
 * out of the BSN index); only a security officer manages them, seeding and removing after a
 * fresh step-up, and bad input changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { createPrincipal, issueApiToken, localImporter, principalFromRow } from '../../src/auth/index.js';
import { aesGcmCipher } from '../../src/crypto/index.js';
import { generateDemo, Prng, seededRandom } from '../../src/demo/index.js';
import { AGB_SYSTEM, HTEST, isValidBsn, ORGANIZATION_KIND_SYSTEM } from '../../src/domain/index.js';
import { systemClock, systemRandom, type Random } from '../../src/kernel/index.js';
import { Canaries } from '../../src/sentinel/index.js';
import { canaryBarcode, canaryBsn } from '../../src/sentinel/canary-episode.js';
import { learnStyle } from '../../src/sentinel/canary-style.js';
import { createDpopProof, generateDpopKey } from '../../src/sessions/index.js';
import type { PersonRow, ResourceRow, ResourceType } from '../../src/store/index.js';
import { apiClient, episode, type Episode } from '../support/api.js';
import * as fhir from '../support/fhir.js';
import { people, type Person } from '../support/people.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';

const TYPES: readonly ResourceType[] = ['ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport'];
const cipher = aesGcmCipher(systemRandom);

describe.each(BACKENDS)('canary patients (%s)', (backend) => {
  let f: VaultFixture;
  let p: ReturnType<typeof people>;
  let officer: Person;
  let episodes: Episode[];
  let canaries: string[];

  const entries = async (): Promise<AuditEntry[]> => (await f.app.store.readAudit(0, 1_000_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
  const openRow = async (row: ResourceRow) => JSON.parse(cipher.open(
    await f.app.keys.version(row.tenant, 'clinical', cipher.keyVersionOf(row.body)), { tenant: row.tenant, type: row.type, id: row.id, version: row.version }, row.body,
  ).toString('utf8')) as Record<string, any>;
  const openPerson = async (row: PersonRow) => JSON.parse(cipher.open(
    await f.app.keys.version(row.tenant, 'identity', cipher.keyVersionOf(row.body)), { tenant: row.tenant, type: 'Patient', id: row.pseudonym, version: row.version }, row.body,
  ).toString('utf8')) as Record<string, any>;
  const recordsOf = async (pseudonym: string, tenant = f.tenants.a) => {
    const out: Record<string, any>[] = [await openPerson((await f.app.store.getPerson(tenant, pseudonym))!)];
    for (const type of TYPES) {
      for (const row of await f.app.store.searchResources({ tenant, type, pseudonyms: [pseudonym], limit: 100 })) out.push(await openRow(row));
    }
    return out;
  };
  /** Every key set each resource type shows in the demo's episodes (ids added: the vault assigns them). */
  const demoShapes = (kind: 'gp-practice' | 'screening') => {
    const demo = generateDemo({ random: seededRandom(`canary-shape-${kind}`), clock: systemClock, tenants: 3, patientsPerTenant: 200 });
    const shapes = new Map<string, Set<string>>();
    demo.bundles.forEach((b, i) => {
      const org = demo.organizations.find((o) => o.id === demo.tenantOf[i])!;
      if (org.type?.[0]?.coding?.[0]?.code !== kind) return;
      for (const e of b.entry ?? []) {
        const r = e.resource as unknown as Record<string, unknown>;
        const set = shapes.get(r.resourceType as string) ?? new Set<string>();
        set.add(['id', ...Object.keys(r)].sort().join(','));
        shapes.set(r.resourceType as string, set);
      }
    });
    return shapes;
  };
  const newTenant = async (kind: string, labelled: boolean) => (await f.app.vault.createTenant(localImporter('canary-test'), { ip: 'local' }, {
    resourceType: 'Organization', name: `Synthetisch ${kind}`, ...(labelled ? { meta: { security: [{ ...HTEST }] } } : {}),
    identifier: [{ system: AGB_SYSTEM, value: `99${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}` }],
    type: [{ coding: [{ system: ORGANIZATION_KIND_SYSTEM, code: kind }] }],
  }, kind)).id;
  const bsnOf = async (pseudonym: string): Promise<string> => (await openPerson((await f.app.store.getPerson(f.tenants.a, pseudonym))!)).identifier[0].value;
  const specimens = async () => (await f.app.store.searchResources({ tenant: f.tenants.a, type: 'Specimen', limit: 1000 })).length;
  const listed = async () => (await f.app.store.sentinel.listCanaries(f.tenants.a)).map((c) => c.pseudonym).sort();

  /** A fresh service principal of `role` with its API token: contained ones do not spoil the fixture's. */
  const probe = async (role: 'requester' | 'analyst' | 'registrar' | 'validator') => {
    const deps = { store: f.app.store, clock: systemClock, random: systemRandom };
    const svc = await createPrincipal(deps, { role, tenants: role === 'requester' ? [f.tenants.a] : ['*'], displayName: `${role}-probe`, kind: 'service' });
    const key = await generateDpopKey();
    const token = (await issueApiToken(deps, svc.id, 1, key.jkt)).token;
    const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
      const dpop = await createDpopProof(key, { method, url: PUBLIC_URL + path, accessToken: token, clock: systemClock, random: systemRandom });
      const res = await f.server.inject({
        method, url: path, headers: { authorization: `DPoP ${token}`, dpop, 'x-labkluis-tenant': f.tenants.a, 'content-type': 'application/fhir+json' },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, text: res.body };
    };
    return { id: svc.id, call };
  };

  beforeAll(async () => {
    f = await createVaultFixture(backend);
    p = people(f);
    episodes = [];
    for (let i = 0; i < 4; i++) episodes.push(await episode(f, f.tenants.a));
    // One real episode authorised, so that the requester has something of its own to see.
    const api = apiClient(f);
    const rep = (await api.get('validator1', `/fhir/${episodes[0]!.report}`, { tenant: f.tenants.a })).body;
    const final = await api.put('validator1', `/fhir/${episodes[0]!.report}`, { ...rep, status: 'final' }, { tenant: f.tenants.a });
    expect(final.status, final.text).toBe(200);
    officer = await p.enrol({ role: 'security-officer' });
    await p.stepUp(officer);
    const seeded = await p.call('POST', '/auth/canaries', { tenant: f.tenants.a, count: 3 }, { device: officer.device });
    expect(seeded.status, seeded.text).toBe(201);
    canaries = seeded.body.seeded.map((c: { pseudonym: string }) => c.pseudonym);
  }, 180_000);
  afterAll(() => f.cleanup());

  it('seeds canaries through the write path, shaped like a normal episode and marked by nothing', async () => {
    expect(canaries).toHaveLength(3);
    expect(await listed()).toEqual([...canaries].sort());
    const rows = await f.app.store.sentinel.listCanaries(f.tenants.a);
    expect(rows.every((c) => c.createdBy === officer.principalId)).toBe(true);

    // The demo's STI episode is the normal record set of a tenant that is not a screening programme.
    const shapes = demoShapes('gp-practice');
    const real = await recordsOf(episodes[1]!.pseudonym);
    const realMeta = (real.find((r) => r.resourceType === 'Specimen')!.meta) as Record<string, unknown>;
    for (const pseudonym of canaries) {
      const records = await recordsOf(pseudonym);
      expect(new Set(records.map((r) => r.resourceType))).toEqual(new Set(['Patient', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport']));
      for (const r of records) {
        expect(shapes.get(r.resourceType)!.has(Object.keys(r).sort().join(',')), `${r.resourceType}: ${Object.keys(r).sort().join(',')}`).toBe(true);
        // Nothing of their own: the tenant's labels (HTEST here) and the server's version fields, no tag.
        expect(Object.keys(r.meta).sort()).toEqual(['lastUpdated', 'security', 'versionId']);
        expect(r.meta.security).toEqual(realMeta.security);
        expect(r.id).toMatch(/^[a-z2-7]{26}$/);
      }
      expect(records.find((r) => r.resourceType === 'DiagnosticReport')!.status).toBe('final');
      // The barcode follows the tenant's own (T and eleven hexadecimal characters in this fixture).
      expect(records.find((r) => r.resourceType === 'Specimen')!.identifier[0].value).toMatch(/^T[0-9A-F]{11}$/);
      const patient = records[0]!;
      expect(isValidBsn(patient.identifier[0].value)).toBe(true);
      // Dates at least ten days back: a "what is new" poll never meets one.
      const issued = Date.parse(records.find((r) => r.resourceType === 'DiagnosticReport')!.issued);
      expect(issued).toBeLessThanOrEqual(Date.now() - 10 * 86_400_000);
      // Out of the BSN index (see the collision rule below).
      expect((await f.app.store.getPerson(f.tenants.a, pseudonym))!.bsnToken).toBeNull();
    }
    const log = await entries();
    for (const pseudonym of canaries) {
      // Written like any record (a transaction, audited, naming the patient), and recorded as the officer's seeding.
      expect(log.some((e) => e.operation === 'transaction' && e.action === 'C' && e.patients.includes(pseudonym) && e.principal?.id === 'local-canary-seeder')).toBe(true);
      expect(log.some((e) => e.operation === 'canary-seeded' && e.principal?.id === officer.principalId && e.objects.some((o) => o.type === 'Canary' && o.id === pseudonym))).toBe(true);
    }
  });

  it("contains a requester whose broad search returns a canary's report: 403, and refused from then on", async () => {
    const requester = await probe('requester');
    // Its own work is fine.
    expect((await requester.call('GET', `/fhir/${episodes[0]!.report}`)).status).toBe(200);
    expect((await requester.call('GET', '/fhir/DiagnosticReport?status=final&_count=100')).status).toBe(403);
    expect((await f.app.store.sentinel.liveContainment(requester.id))?.reason).toBe('canary');
    // Containment revoked its token.
    expect((await requester.call('GET', `/fhir/${episodes[0]!.report}`)).status).toBe(401);
  });

  it("contains an analyst whose broad search returns a canary's specimen or result", async () => {
    const analyst = await probe('analyst');
    expect((await analyst.call('GET', `/fhir/${episodes[2]!.specimen}`)).status).toBe(200);
    expect((await analyst.call('GET', '/fhir/Specimen?status=available&_count=100')).status).toBe(403);
    expect((await f.app.store.sentinel.liveContainment(analyst.id))?.reason).toBe('canary');
    expect((await analyst.call('GET', `/fhir/${episodes[2]!.specimen}`)).status).toBe(401);
    const other = await probe('analyst');
    expect((await other.call('GET', '/fhir/ServiceRequest?status=completed')).status).toBe(403);
    expect((await f.app.store.sentinel.liveContainment(other.id))?.reason).toBe('canary');
  });

  it("never lets a registrar's BSN search meet a canary", async () => {
    const registrar = await probe('registrar');
    for (const ep of episodes) {
      const r = await registrar.call('GET', `/fhir/Patient?identifier=${ep.person.bsn}`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([ep.pseudonym]);
    }
    for (const pseudonym of canaries) {
      const r = await registrar.call('GET', `/fhir/Patient?identifier=${await bsnOf(pseudonym)}`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.entry ?? []).toEqual([]);
    }
    expect(await f.app.store.sentinel.liveContainment(registrar.id)).toBeNull();
  });

  it("registers a real person who has a canary's BSN; the registrar's searches find that person only and nobody is contained", async () => {
    const registrar = await probe('registrar');
    const canary = canaries[0]!;
    const bsn = await bsnOf(canary);
    const intake = await registrar.call('POST', '/fhir', fhir.intakeBundle({ ...fhir.syntheticPerson(), bsn }).bundle);
    expect(intake.status, intake.text).toBe(200);
    const registered = (intake.body.entry[0].response.location as string).split('/')[1];
    const found = await registrar.call('GET', `/fhir/Patient?identifier=${bsn}`);
    expect(found.status, found.text).toBe(200);
    expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([registered]);
    expect(await f.app.store.sentinel.liveContainment(registrar.id)).toBeNull();
    // The canary stays a canary, out of the index.
    expect(await listed()).toContain(canary);
    expect((await f.app.store.getPerson(f.tenants.a, canary))!.bsnToken).toBeNull();
  });

  it('never draws a BSN that a person of the tenant has (checked through the blind index)', async () => {
    // The tenant is synthetic (HTEST), so BSNs come from the 999 range as syntheticBsn draws them:
    // the first draw is scripted to be a real episode's BSN, the next ones are random.
    const taken = episodes[3]!.person.bsn;
    const queue = [Number(taken.slice(3, 8))];
    const scripted: Random = {
      bytes: (n) => {
        if (n !== 4 || queue.length === 0) return systemRandom.bytes(n);
        const b = Buffer.alloc(4);
        b.writeUInt32BE(queue.shift()!);
        return b;
      },
      uuid: () => systemRandom.uuid(),
    };
    const own = new Canaries({ vault: f.app.vault, store: f.app.store, keys: f.app.keys, cipher, clock: systemClock, random: scripted, events: async () => {} });
    const [row] = await own.seed(localImporter('canary-test'), f.tenants.a, 1, { ip: 'local', userAgent: null });
    expect(queue).toEqual([]); // the taken number was drawn ...
    const bsn = await bsnOf(row!.pseudonym);
    expect(isValidBsn(bsn)).toBe(true);
    expect(bsn).not.toBe(taken); // ... and refused
    expect(row!.createdBy).toBe(localImporter('canary-test').id);
    await f.app.store.sentinel.removeCanary(f.tenants.a, row!.pseudonym);
  });

  it('gives a screening tenant screening episodes, in the shape of the demo\'s', async () => {
    const tenant = await newTenant('screening', true);
    const shapes = demoShapes('screening');
    const seeded = await f.app.canaries.seed(localImporter('canary-test'), tenant, 3, { ip: 'local', userAgent: null });
    for (const c of seeded) {
      const records = await recordsOf(c.pseudonym, tenant);
      for (const r of records) expect(shapes.get(r.resourceType)!.has(Object.keys(r).sort().join(',')), `${r.resourceType}: ${Object.keys(r).sort().join(',')}`).toBe(true);
      const report = records.find((r) => r.resourceType === 'DiagnosticReport')!;
      expect(report.code.coding[0].code).toBe('77379-6'); // hrHPV: the screening programme's test
      expect(records[0]!.gender).toBe('female');
    }
  });

  it('gives a tenant whose records carry no test label canaries without any of the demo\'s marks', async () => {
    const tenant = await newTenant('gp-practice', false);
    const seeded = await f.app.canaries.seed(localImporter('canary-test'), tenant, 3, { ip: 'local', userAgent: null });
    for (const c of seeded) {
      const records = await recordsOf(c.pseudonym, tenant);
      for (const r of records) expect(Object.keys(r.meta).sort()).toEqual(['lastUpdated', 'versionId']);
      const patient = records[0]!;
      expect(patient.name[0].family).not.toMatch(/^Test-/);
      expect(patient.telecom).toBeUndefined();
      expect(patient.address[0].line[0]).not.toMatch(/Test|Proef|Voorbeeld|Demo|Oefen|Steekproef|Monster|Fictie/);
      expect(patient.identifier[0].value).toMatch(/^[1-8]\d{8}$/);
      expect(records.find((r) => r.resourceType === 'DiagnosticReport')!.conclusion).not.toMatch(/SYNTHETISCH/);
    }
  });

  it("learns a large tenant's style from all through its history, not only its oldest records", async () => {
    const tenant = await newTenant('gp-practice', true);
    const importer = localImporter('canary-test');
    const demo = generateDemo({ random: seededRandom('canary-history'), clock: systemClock, tenants: 1, patientsPerTenant: 700 });
    const written = await f.app.vault.transactions(f.app.vault.context(importer, { tenant, ip: 'local' }), demo.bundles);
    expect(written.refused).toBeUndefined();
    const rows = await f.app.store.searchResources({ tenant, type: 'Specimen', limit: 1000 });
    expect(rows).toHaveLength(700);
    const oldest = new Set(await Promise.all(rows.slice(0, 500).map(async (r) => (await openRow(r)).identifier[0].value as string)));
    const style = await learnStyle({ store: f.app.store, keys: f.app.keys, cipher, random: systemRandom }, tenant, 'gp-practice', Date.now());
    expect(style.synthetic).toBe(true);
    expect(style.barcodes.length).toBeGreaterThan(30);
    expect(style.barcodes.some((b) => !oldest.has(b))).toBe(true);
    expect(style.collected.length).toBeGreaterThan(300);
    expect(style.requester).toBe(`Organization/${demo.organizations[0]!.id}`);
  }, 60_000);

  it("writes canary episodes (out of the BSN index) for the local operator's role only", async () => {
    const registrar = principalFromRow((await f.app.store.getPrincipal(f.principalIds.registrar))!, 'test');
    const before = await specimens();
    const ctx = f.app.vault.context(registrar, { tenant: f.tenants.a, ip: 'local' });
    await expect(f.app.vault.canaryTransaction(ctx, fhir.intakeBundle().bundle)).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' });
    expect(await specimens()).toBe(before);
  });

  it('lets a security officer list, seed (fresh step-up) and remove (fresh step-up) canaries, each audited', async () => {
    const list = await p.call('GET', `/auth/canaries?tenant=${f.tenants.a}`, undefined, { device: officer.device });
    expect(list.status, list.text).toBe(200);
    expect(list.body.canaries.map((c: { pseudonym: string }) => c.pseudonym).sort()).toEqual([...canaries].sort());
    expect(Object.keys(list.body.canaries[0]).sort()).toEqual(['createdAt', 'createdBy', 'pseudonym']);
    await p.stepUp(officer);
    const more = await p.call('POST', '/auth/canaries', { tenant: f.tenants.b, count: 2 }, { device: officer.device });
    expect(more.status, more.text).toBe(201);
    expect((await f.app.store.sentinel.listCanaries(f.tenants.b))).toHaveLength(2);
    const gone = more.body.seeded[0].pseudonym as string;
    const removed = await p.call('DELETE', `/auth/canaries/${f.tenants.b}/${gone}`, undefined, { device: officer.device });
    expect(removed.status, removed.text).toBe(200);
    expect((await f.app.store.sentinel.listCanaries(f.tenants.b)).map((c) => c.pseudonym)).not.toContain(gone);
    expect((await p.call('DELETE', `/auth/canaries/${f.tenants.b}/${gone}`, undefined, { device: officer.device })).status).toBe(404);
    const log = await entries();
    expect(log.some((e) => e.operation === 'canaries-listed' && e.principal?.id === officer.principalId)).toBe(true);
    expect(log.some((e) => e.operation === 'canary-removed' && e.principal?.id === officer.principalId && e.objects.some((o) => o.id === gone))).toBe(true);
  });

  it('refuses anyone but a security officer (403), and seeding or removing without a fresh step-up, changing nothing', async () => {
    const before = { a: await listed(), specimens: await specimens() };
    const admin = await p.enrol({ role: 'admin' });
    await p.stepUp(admin);
    expect((await p.call('GET', `/auth/canaries?tenant=${f.tenants.a}`, undefined, { device: admin.device })).status).toBe(403);
    expect((await p.call('POST', '/auth/canaries', { tenant: f.tenants.a, count: 1 }, { device: admin.device })).status).toBe(403);
    expect((await p.call('DELETE', `/auth/canaries/${f.tenants.a}/${canaries[1]}`, undefined, { device: admin.device })).status).toBe(403);
    const requester = await probe('requester');
    expect((await requester.call('GET', `/auth/canaries?tenant=${f.tenants.a}`)).status).toBe(403);
    // A security officer's API token cannot step up: it lists, it does not seed.
    const soToken = await createPrincipal({ store: f.app.store, clock: systemClock, random: systemRandom }, { role: 'security-officer', tenants: ['*'], displayName: 'so-service', kind: 'service' });
    const key = await generateDpopKey();
    const token = (await issueApiToken({ store: f.app.store, clock: systemClock, random: systemRandom }, soToken.id, 1, key.jkt)).token;
    const asSo = async (method: 'GET' | 'POST', path: string, body?: unknown) => (await f.server.inject({
      method, url: path, headers: { authorization: `DPoP ${token}`, dpop: await createDpopProof(key, { method, url: PUBLIC_URL + path, accessToken: token, clock: systemClock, random: systemRandom }), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    })).statusCode;
    expect(await asSo('GET', `/auth/canaries?tenant=${f.tenants.a}`)).toBe(200);
    expect(await asSo('POST', '/auth/canaries', { tenant: f.tenants.a, count: 1 })).toBe(403);
    // A person's stale assertion.
    await p.stale(officer.device);
    const stale = await p.call('POST', '/auth/canaries', { tenant: f.tenants.a, count: 1 }, { device: officer.device });
    expect(stale.status).toBe(403);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    expect((await p.call('DELETE', `/auth/canaries/${f.tenants.a}/${canaries[1]}`, undefined, { device: officer.device })).status).toBe(403);
    expect({ a: await listed(), specimens: await specimens() }).toEqual(before);
    const log = await entries();
    expect(log.some((e) => e.principal?.id === admin.principalId && e.outcome === 'denied' && e.errorCode === 'ERR_FORBIDDEN')).toBe(true);
  });

  it.each([
    ['a count of 0', { count: 0 }, 400],
    ['a count of 51', { count: 51 }, 400],
    ['a count as text', { count: '3' }, 400],
    ['a fractional count', { count: 1.5 }, 400],
    ['no tenant', { tenant: undefined }, 400],
    ['a malformed tenant', { tenant: 'not a tenant!' }, 400],
    ['a tenant that does not exist', { tenant: 'nosuchtenant' }, 404],
  ])('refuses %s with an OperationOutcome and changes nothing', async (_what, change, status) => {
    await p.stepUp(officer);
    const before = { a: await listed(), specimens: await specimens() };
    const r = await p.call('POST', '/auth/canaries', { tenant: f.tenants.a, count: 1, ...change }, { device: officer.device });
    expect(r.status, r.text).toBe(status);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect({ a: await listed(), specimens: await specimens() }).toEqual(before);
  });

  it('refuses a body that is not a JSON object, and removing what is not a canary', async () => {
    await p.stepUp(officer);
    const res = await p.call('POST', '/auth/canaries', [1, 2], { device: officer.device });
    expect(res.status).toBe(400);
    const real = await p.call('DELETE', `/auth/canaries/${f.tenants.a}/${episodes[1]!.pseudonym}`, undefined, { device: officer.device });
    expect(real.status).toBe(404);
    expect(await listed()).toEqual([...canaries].sort());
  });
});

describe('canary BSNs and barcodes', () => {
  it('draws valid BSNs outside the test range for a real tenant and inside it for a synthetic one', () => {
    for (let i = 0; i < 200; i++) {
      const real = canaryBsn(systemRandom, false);
      expect(isValidBsn(real)).toBe(true);
      expect(real).toMatch(/^[1-8]\d{8}$/);
      const synthetic = canaryBsn(systemRandom, true);
      expect(isValidBsn(synthetic)).toBe(true);
      expect(synthetic.startsWith('999')).toBe(true);
    }
  });

  it("follows the tenant's barcode format, keeping what all share and drawing the rest from what they show", () => {
    const prng = Prng.from(seededRandom('barcodes'));
    const sequential = ['LAB0012345', 'LAB0012391', 'LAB0013007', 'LAB0012650'];
    for (let i = 0; i < 50; i++) expect(canaryBarcode(sequential, prng)).toMatch(/^LAB001[0-9]{4}$/);
    expect(canaryBarcode([], prng)).toMatch(/^T[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{11}$/);
    // Too few to tell: a real one keeps all but its last four characters.
    expect(canaryBarcode(['X99AB7777777'], prng)).toMatch(/^X99AB777[0-9]{4}$/);
  });
});
