/**
 * A containment reaches the security officer's SIEM: the alert the sentinel raises goes into the
 * outbox and out to a real local webhook receiver and a real UDP syslog collector, signed and
 * without personal data. On both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { verifyWebhookSignature } from '../../src/sentinel/delivery/index.js';
import { createDpopProof } from '../../src/sessions/index.js';
import { episode, type Episode } from '../support/api.js';
import { people } from '../support/people.js';
import { BACKENDS, createVaultFixture, PUBLIC_URL, type VaultFixture, DEFAULT_SENTINEL_AT_ANY_HOUR } from '../support/vault-fixture.js';
import { startUdpCollector, startWebhookServer, type Collector, type WebhookServer } from './delivery/listeners.js';

const SECRET = 'synthetic-test-webhook-secret-0123456789';

describe.each(BACKENDS)('sentinel alerts are delivered (%s)', (backend) => {
  let f: VaultFixture;
  let hook: WebhookServer;
  let syslog: Collector;
  let ep: Episode;

  beforeAll(async () => {
    hook = await startWebhookServer();
    syslog = await startUdpCollector();
    f = await createVaultFixture(backend, {
      sentinelPolicy: DEFAULT_SENTINEL_AT_ANY_HOUR,
      alertDelivery: { webhook: { url: hook.url, secret: SECRET }, syslog: { host: '127.0.0.1', port: syslog.port, transport: 'udp' } },
    });
    ep = await episode(f, f.tenants.a);
  }, 60_000);
  afterAll(async () => {
    await f.cleanup();
    await hook.close();
    await syslog.close();
  });

  it('a canary touch contains the account and its alert reaches the webhook and syslog', async () => {
    const p = people(f);
    const analyst = await p.enrol({ role: 'analyst' });
    await f.app.store.sentinel.addCanaries([{ tenant: f.tenants.a, pseudonym: ep.pseudonym, createdAt: new Date().toISOString(), createdBy: 'test' }]);
    f.app.sentinel.canariesChanged(f.tenants.a); // as the app's canary service does; from another process: within leases.canariesSeconds
    const path = `/fhir/${ep.observation}`;
    const dpop = await createDpopProof(analyst.device.key, { method: 'GET', url: PUBLIC_URL + path, accessToken: analyst.device.tokens.accessToken, clock: systemClock, random: systemRandom });
    const res = await f.server.inject({ method: 'GET', url: path, headers: { authorization: `DPoP ${analyst.device.tokens.accessToken}`, dpop, 'x-labkluis-tenant': f.tenants.a } });
    expect(res.statusCode).toBe(403);
    const run = await f.app.alertDelivery.runDue();
    expect(run.delivered).toBe(2);
    expect(hook.requests).toHaveLength(1);
    const sent = hook.requests[0]!;
    expect(verifyWebhookSignature({ header: sent.headers['x-labkluis-signature'] as string, body: sent.body, secret: SECRET, clock: systemClock })).toBe(true);
    const body = JSON.parse(sent.body) as { alert: { kind: string; principalId: string; severity: string } } & Record<string, unknown>;
    expect(JSON.stringify(body)).toContain('sentinel:canary');
    expect(JSON.stringify(body)).toContain(analyst.principalId);
    // No personal data: not the patient's name, not the pseudonym of the canary either.
    expect(sent.body).not.toContain(ep.person.family);
    const [datagram] = await syslog.waitFor(1);
    const line = datagram!.toString('utf8');
    expect(line).toMatch(/^<\d+>1 /);
    expect(line).toContain('sentinel:canary');
    expect(line).not.toContain(ep.person.family);
    expect(await f.app.store.sentinel.dueDeliveries(new Date(Date.now() + 3_600_000).toISOString(), 10)).toHaveLength(0);
  });
});
