import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, episode } from '../support/api.js';
import * as fhir from '../support/fhir.js';
import { createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

/** Invariant 2: log lines never carry a BSN, name, address, birth date or result. */
describe('server logs', () => {
  let f: VaultFixture;
  const lines: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    f = await createVaultFixture('sqlite', { logger: pino({ level: 'debug' }, sink) });
  });
  afterAll(() => f.cleanup());

  it('log every request by route and status, and nothing personal, also on errors', async () => {
    const api = apiClient(f);
    const e = await episode(f, f.tenants.a);
    await api.get('registrar', `/fhir/Patient?identifier=${e.person.bsn}`, { tenant: f.tenants.a });
    await api.get('requesterA', `/fhir/${e.patient}`);
    const bad = fhir.patient(e.person);
    await api.post('registrar', '/fhir/Patient', { ...bad, birthDate: 'not-a-date' }, { tenant: f.tenants.a });
    await api.post('registrar', '/fhir/Patient', fhir.patient(e.person), { tenant: f.tenants.a }); // duplicate BSN: 409
    // a 500: a record whose ciphertext belongs to another row
    const other = await episode(f, f.tenants.a);
    await f.rawSql(`UPDATE identity_persons SET body = (SELECT body FROM identity_persons WHERE pseudonym = '${other.pseudonym}') WHERE pseudonym = '${e.pseudonym}'`);
    expect((await api.get('requesterA', `/fhir/${e.patient}`)).status).toBe(500);

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(8);
    expect(log).toContain('"route":"/fhir/:type"');
    expect(log).toContain('"status":409');
    expect(log).toContain('"errorCode":"ERR_DECRYPTION_FAILED"');
    for (const value of [e.person.bsn, e.person.family, e.person.given, e.person.street, e.person.birthDate, e.person.email, other.person.bsn]) {
      expect(log).not.toContain(value);
    }
    expect(log).not.toContain('identifier='); // query strings are never logged
  });
});
