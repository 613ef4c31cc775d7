/**
 * vault.transactions(): many bundles (import, demo), each its own atomic, audited transaction,
 * small ones sharing durable commits. What must hold is that the outcome is the one of sending
 * them one after another: same records, same audit entries, the same refusal at the same place.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { localImporter, resolveApiToken } from '../../src/auth/index.js';
import { isLabkluisError, systemClock } from '../../src/kernel/index.js';
import type { AccessContext } from '../../src/vault/index.js';
import * as fhir from '../support/fhir.js';
import { BACKENDS, createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

const entries = async (f: VaultFixture): Promise<AuditEntry[]> =>
  (await f.app.store.readAudit(0, 100_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);

/** An intake bundle whose specimen carries the given barcode. */
function intakeWithBarcode(barcode: string) {
  const urns = [`urn:uuid:${randomUUID()}`, `urn:uuid:${randomUUID()}`, `urn:uuid:${randomUUID()}`];
  return {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      { fullUrl: urns[0], resource: fhir.patient(), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: urns[1], resource: fhir.serviceRequest(urns[0]!), request: { method: 'POST', url: 'ServiceRequest' } },
      { fullUrl: urns[2], resource: fhir.specimen(urns[0]!, urns[1]!, barcode), request: { method: 'POST', url: 'Specimen' } },
    ],
  };
}

async function countPersons(f: VaultFixture): Promise<number> {
  const [row] = (await f.rawSql(f.backend === 'sqlite' ? 'SELECT count(*) AS n FROM identity_persons' : 'SELECT count(*)::int AS n FROM identity.persons')) as { n: number }[];
  return Number(row!.n);
}

const pseudonymsOf = (response: { entry?: { response?: { location?: string } }[] }): string[] =>
  (response.entry ?? []).map((e) => e.response!.location!).filter((l) => l.startsWith('Patient/')).map((l) => l.split('/')[1]!);

describe.each(BACKENDS)('batched transactions (%s)', (backend) => {
  let f: VaultFixture;
  let ctx: AccessContext;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    ctx = f.app.vault.context(localImporter('batch-test'), { tenant: f.tenants.a, ip: 'local', userAgent: 'labkluis-test' });
  }, 60_000);
  afterAll(() => f.cleanup());

  it('commits many small bundles in few durable commits, each with its own audit entry', async () => {
    const bundles = Array.from({ length: 12 }, () => fhir.intakeBundle().bundle);
    const before = (await entries(f)).length;
    const commits = vi.spyOn(f.app.store, 'commit');
    try {
      const outcome = await f.app.vault.transactions(ctx, bundles);
      expect(outcome.refused).toBeUndefined();
      expect(outcome.responses).toHaveLength(12);
      expect(commits.mock.calls.length).toBeLessThan(12);
    } finally {
      commits.mockRestore();
    }
    const added = (await entries(f)).slice(before);
    expect(added).toHaveLength(12);
    expect(added.every((e) => e.action === 'C' && e.operation === 'transaction' && e.outcome === 'success')).toBe(true);
    // Each entry names exactly its own bundle's patient.
    expect(added.map((e) => e.patients.length)).toEqual(Array(12).fill(1));
    expect(new Set(added.flatMap((e) => e.patients)).size).toBe(12);
  });

  it('stops at a refused bundle: the ones before it are committed, it and the ones after it are not, one refusal recorded', async () => {
    const ok = [fhir.intakeBundle().bundle, fhir.intakeBundle().bundle];
    const bad = fhir.intakeBundle().bundle;
    (bad.entry[0]!.resource as { identifier: { value: string }[] }).identifier[0]!.value = '000000000';
    const after = fhir.intakeBundle();
    const personsBefore = await countPersons(f);
    const before = (await entries(f)).length;
    const outcome = await f.app.vault.transactions(ctx, [...ok, bad, after.bundle]);
    expect(await countPersons(f)).toBe(personsBefore + 2);
    expect(outcome.responses).toHaveLength(2);
    expect(outcome.refused?.index).toBe(2);
    expect(isLabkluisError(outcome.refused?.error, 'ERR_INVALID_RESOURCE')).toBe(true);
    for (const response of outcome.responses) {
      for (const pseudonym of pseudonymsOf(response)) expect(await f.app.store.getPerson(f.tenants.a, pseudonym)).not.toBeNull();
    }
    const added = (await entries(f)).slice(before);
    expect(added.filter((e) => e.outcome === 'success')).toHaveLength(2);
    const refusals = added.filter((e) => e.outcome !== 'success');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.errorCode).toBe('ERR_INVALID_RESOURCE');
  });

  it('replays a group whose commit fails: two bundles claiming one barcode, the first wins and the second is refused', async () => {
    const barcode = `TB${randomUUID().slice(0, 8).toUpperCase()}`;
    const first = intakeWithBarcode(barcode);
    const middle = fhir.intakeBundle().bundle;
    const second = intakeWithBarcode(barcode);
    const before = (await entries(f)).length;
    const outcome = await f.app.vault.transactions(ctx, [first, middle, second]);
    expect(outcome.responses).toHaveLength(2);
    expect(outcome.refused?.index).toBe(2);
    expect(isLabkluisError(outcome.refused?.error, 'ERR_CONFLICT')).toBe(true);
    const added = (await entries(f)).slice(before);
    expect(added.filter((e) => e.outcome === 'success')).toHaveLength(2);
    expect(added.filter((e) => e.outcome !== 'success')).toHaveLength(1);
    for (const response of outcome.responses) {
      for (const pseudonym of pseudonymsOf(response)) expect(await f.app.store.getPerson(f.tenants.a, pseudonym)).not.toBeNull();
    }
  });

  it('runs a bundle with an update on its own, after the bundles before it have committed', async () => {
    const registrar = (await resolveApiToken({ store: f.app.store, clock: systemClock }, f.tokens.registrar)).principal;
    const ctx = f.app.vault.context(registrar, { tenant: f.tenants.a, ip: 'local', userAgent: 'labkluis-test' });
    const created = await f.app.vault.transaction(ctx, fhir.intakeBundle().bundle);
    const specimenId = created.entry!.map((e) => e.response!.location!).find((l) => l.startsWith('Specimen/'))!.split('/')[1]!;
    const current = await f.app.vault.read(ctx, 'Specimen', specimenId);
    const update = {
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: { ...current, status: 'unavailable' }, request: { method: 'PUT', url: `Specimen/${specimenId}` } }],
    };
    const outcome = await f.app.vault.transactions(ctx, [fhir.intakeBundle().bundle, update, fhir.intakeBundle().bundle]);
    expect(outcome.refused).toBeUndefined();
    expect(outcome.responses).toHaveLength(3);
    expect(outcome.responses[1]!.entry![0]!.response!.location).toBe(`Specimen/${specimenId}/_history/2`);
    const stored = await f.app.store.getResource(f.tenants.a, 'Specimen', specimenId);
    expect([stored!.version, stored!.status]).toEqual([2, 'unavailable']);
  });
});
