/**
 * Helpers for the export tests: people enrolled for chosen tenants (the shared people() helper
 * makes lab-wide ones), screening episodes on a chosen day with their report authorised by a
 * second validator (without reading anything back, so the fixture's services stay under the
 * sentinel's real limits), the raw bytes of a download, and the recipient's age keys.
 */
import { expect } from 'vitest';
import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import type { AuditEntry } from '../../src/audit/index.js';
import { randomId, systemClock, systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey } from '../../src/sessions/index.js';
import type { Role } from '../../src/store/index.js';
import { apiClient } from '../support/api.js';
import * as fhir from '../support/fhir.js';
import { clearForAccess } from '../support/hygiene.js';
import { PASSWORD, people, RP, type Device, type Person } from '../support/people.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { principalRow } from '../support/store-fixtures.js';
import { PUBLIC_URL, type VaultFixture } from '../support/vault-fixture.js';

export type People = ReturnType<typeof people>;

/** A person enrolled through a one-time link (password and passkey), acting for `tenants`. */
export async function enrolIn(f: VaultFixture, p: People, role: Role, tenants: string[]): Promise<Person> {
  const displayName = `Test ${role}`;
  const row = principalRow({ id: randomId(systemRandom), kind: 'human', role, tenants, displayName });
  const username = `${role.slice(0, 3)}-${row.id.slice(0, 10)}`;
  await f.app.store.accounts.insertAccount(row, {
    principalId: row.id, username, passwordHash: null, passwordChangedAt: null, totpAllowed: false, createdAt: row.createdAt,
  });
  await clearForAccess(f.app.store, row);
  const link = await f.app.signIn.createEnrolmentLink({ principalId: row.id, purpose: 'invite', createdBy: null, ttlSeconds: 600 });
  const key = await generateDpopKey();
  const ip = p.nextIp();
  const authenticator = new SoftAuthenticator(RP);
  const start = await p.call('POST', '/auth/enrol/start', { secret: link.secret }, { ip });
  expect(start.status, start.text).toBe(200);
  const finish = await p.call('POST', '/auth/enrol/finish', {
    secret: link.secret, challengeId: start.body.challengeId, password: PASSWORD,
    credential: authenticator.createResponse(start.body.options), passkeyName: 'first key',
  }, { key, ip });
  expect(finish.status, finish.text).toBe(200);
  return { principalId: row.id, username, displayName, authenticator, device: { key, ip, tokens: finish.body } };
}

/** A GET whose answer is bytes (the age file): status, headers and the raw body. */
export async function fetchBytes(f: VaultFixture, device: Device, path: string) {
  const dpop = await createDpopProof(device.key, { method: 'GET', url: `${PUBLIC_URL}${path}`, accessToken: device.tokens.accessToken, clock: systemClock, random: systemRandom });
  const res = await f.server.inject({ method: 'GET', url: path, headers: { authorization: `DPoP ${device.tokens.accessToken}`, dpop }, remoteAddress: device.ip });
  return { status: res.statusCode, headers: res.headers, bytes: res.rawPayload, text: res.body };
}

export interface DatedEpisode {
  readonly person: fhir.SyntheticPerson;
  readonly tenant: string;
  readonly pseudonym: string;
  readonly refs: { readonly patient: string; readonly order: string; readonly specimen: string; readonly observation: string; readonly report: string };
  readonly final: boolean;
}

/**
 * One screening episode whose clinical dates fall on `day` (YYYY-MM-DD, in the past): intake
 * by the registrar, a result and a preliminary report by the analyst, and, when `final`, the
 * report authorised by a second validator (the body is the one posted, not read back).
 */
export async function datedEpisode(f: VaultFixture, tenant: string, day: string, final = true): Promise<DatedEpisode> {
  const api = apiClient(f);
  const intake = fhir.intakeBundle();
  const [, order, specimen] = intake.bundle.entry as { resource: Record<string, any> }[];
  order!.resource.authoredOn = `${day}T08:00:00Z`;
  specimen!.resource.collection = { collectedDateTime: `${day}T09:00:00Z` };
  const tx = await api.post('registrar', '/fhir', intake.bundle, { tenant });
  expect(tx.status, tx.text).toBe(200);
  const [patient, orderRef, specimenRef] = (tx.body.entry as { response: { location: string } }[]).map((e) => e.response.location.split('/_history/')[0]!);
  const obs = await api.post('analyst', '/fhir/Observation', { ...fhir.hpvObservation(patient!, specimenRef!, { positive: true }), effectiveDateTime: `${day}T10:00:00Z` }, { tenant });
  expect(obs.status, obs.text).toBe(201);
  const observation = `Observation/${obs.body.id}`;
  const report = { ...fhir.report(patient!, [observation], 'preliminary', { basedOn: orderRef!, specimen: specimenRef! }), effectiveDateTime: `${day}T10:00:00Z`, issued: `${day}T12:00:00Z` };
  const rep = await api.post('analyst', '/fhir/DiagnosticReport', report, { tenant });
  expect(rep.status, rep.text).toBe(201);
  if (final) {
    const put = await api.put('validator2', `/fhir/DiagnosticReport/${rep.body.id}`, { ...report, id: rep.body.id, status: 'final' }, { tenant });
    expect(put.status, put.text).toBe(200);
  }
  return {
    person: intake.person, tenant, pseudonym: patient!.split('/')[1]!, final,
    refs: { patient: patient!, order: orderRef!, specimen: specimenRef!, observation, report: `DiagnosticReport/${rep.body.id}` },
  };
}

/** A recipient's age key pair: the identity stays with the recipient, the server gets the key. */
export async function recipientKeys(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** What `age -d -i identity` gives: the Bundle. */
export async function decrypt(bytes: Buffer, identity: string): Promise<any> {
  const d = new Decrypter();
  d.addIdentity(identity);
  return JSON.parse(await d.decrypt(new Uint8Array(bytes), 'text'));
}

export async function auditEntries(f: VaultFixture): Promise<AuditEntry[]> {
  return (await f.app.store.readAudit(0, 1_000_000)).map((r) => JSON.parse(r.leaf.toString('utf8')) as AuditEntry);
}

/** The 'Type/id' of every entry in a Bundle. */
export const entryRefs = (bundle: { entry?: { resource: { resourceType: string; id: string } }[] }): string[] =>
  (bundle.entry ?? []).map((e) => `${e.resource.resourceType}/${e.resource.id}`);
