import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof } from '../../src/sessions/index.js';
import { apiClient, episode, type Episode } from '../support/api.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';

describe.each(BACKENDS)('records cannot be swapped or replayed in the database (%s)', (backend) => {
  let f: VaultFixture;
  let api: ReturnType<typeof apiClient>;
  let one: Episode;
  let two: Episode;
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    api = apiClient(f);
    one = await episode(f, f.tenants.a);
    two = await episode(f, f.tenants.a);
  });
  afterAll(() => f.cleanup());

  const persons = backend === 'sqlite' ? 'identity_persons' : 'identity.persons';

  it("refuses to serve a person whose ciphertext was copied from another person's row", async () => {
    await f.rawSql(`UPDATE ${persons} SET body = (SELECT body FROM ${persons} WHERE pseudonym = '${two.pseudonym}') WHERE pseudonym = '${one.pseudonym}'`);
    const r = await api.get('requesterA', `/fhir/${one.patient}`);
    expect(r.status).toBe(500);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.text).not.toContain(two.person.bsn);
    expect(r.text).not.toContain(two.person.family);
    expect(r.text).not.toMatch(/decrypt|aes|gcm|key/i); // says nothing about why
    // the other record is unharmed
    expect((await api.get('requesterA', `/fhir/${two.patient}`)).body.identifier[0].value).toBe(two.person.bsn);
  });

  it('refuses a record moved to another tenant', async () => {
    const resources = backend === 'sqlite' ? 'clinical_resources' : 'clinical.resources';
    const id = one.observation.split('/')[1]!;
    await f.rawSql(`UPDATE ${resources} SET tenant = '${f.tenants.b}' WHERE id = '${id}'`);
    const r = await api.get('analyst', `/fhir/${one.observation}`, { tenant: f.tenants.b });
    expect(r.status).toBe(500);
    expect(r.text).not.toContain('10828004');
  });

  it('refuses an expired token', async () => {
    const key = f.keys.requesterA;
    const expired = await issueApiToken({ store: f.app.store, clock: systemClock, random: systemRandom }, f.principalIds.requesterA, 0, key.jkt);
    const url = `/fhir/${two.patient}`;
    const dpop = await createDpopProof(key, { method: 'GET', url: PUBLIC_URL + url, accessToken: expired.token, clock: systemClock, random: systemRandom });
    const r = await f.server.inject({ method: 'GET', url, headers: { authorization: `DPoP ${expired.token}`, dpop } });
    expect(r.statusCode).toBe(401);
  });
});
