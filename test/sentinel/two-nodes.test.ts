/**
 * Two labkluis nodes (each its own app: connection pool, sentinel, audit writer) serving one
 * PostgreSQL database: what one node released counts for the other, and a containment made
 * by one is enforced by the other on the next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createLogger, type App } from '../../src/app.js';
import { createPrincipal, issueApiToken } from '../../src/auth/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { DEFAULT_SENTINEL_POLICY } from '../../src/sentinel/index.js';
import { createDpopProof, generateDpopKey } from '../../src/sessions/index.js';
import { episode, type Episode } from '../support/api.js';
import { createVaultFixture, PUBLIC_URL, type VaultFixture, DEFAULT_SENTINEL_AT_ANY_HOUR } from '../support/vault-fixture.js';

describe('two nodes on one PostgreSQL database share the sentinel', () => {
  let f: VaultFixture;
  let nodeB: App;
  let episodes: Episode[];
  const burst = DEFAULT_SENTINEL_POLICY.windows[0]!.patients;

  beforeAll(async () => {
    f = await createVaultFixture('postgres', { sentinelPolicy: DEFAULT_SENTINEL_AT_ANY_HOUR });
    nodeB = await createApp({
      dataDir: f.dataDir, storeConfig: f.storeConfig, kms: f.kms, origin: f.origin, publicUrl: PUBLIC_URL,
      clock: systemClock, random: systemRandom, logger: createLogger('silent'), node: 'node-b', sentinelPolicy: DEFAULT_SENTINEL_AT_ANY_HOUR,
    });
    episodes = [];
    for (let i = 0; i < burst + 2; i++) episodes.push(await episode(f, f.tenants.a));
  }, 120_000);
  afterAll(async () => {
    await nodeB.close();
    await f.cleanup();
  });

  it(`counts releases across nodes and contains at patient ${burst + 1}; the other node enforces it`, async () => {
    const deps = { store: f.app.store, clock: systemClock, random: systemRandom };
    const svc = await createPrincipal(deps, { role: 'analyst', tenants: ['*'], displayName: 'two-node-bridge', kind: 'service' });
    const key = await generateDpopKey();
    const { token } = await issueApiToken(deps, svc.id, 1, key.jkt);
    const serverA = f.server;
    const serverB = nodeB.server();
    const read = async (server: typeof serverA, ep: Episode) => {
      const path = `/fhir/${ep.patient}`; // identity counts in the hard windows
      const dpop = await createDpopProof(key, { method: 'GET', url: PUBLIC_URL + path, accessToken: token, clock: systemClock, random: systemRandom });
      return (await server.inject({ method: 'GET', url: path, headers: { authorization: `DPoP ${token}`, dpop, 'x-labkluis-tenant': f.tenants.a } })).statusCode;
    };
    const statuses: number[] = [];
    // Alternate nodes: neither sees more than about half the patients itself.
    for (const [i, ep] of episodes.slice(0, burst).entries()) statuses.push(await read(i % 2 === 0 ? serverA : serverB, ep));
    expect(statuses).toEqual(Array(burst).fill(200));
    expect(await read(serverB, episodes[burst]!)).toBe(403);
    expect((await f.app.store.sentinel.liveContainment(svc.id))?.reason).toBe('patients-600s');
    // Node A made no decision about it, and refuses all the same.
    expect(await read(serverA, episodes[0]!)).toBe(403);
    await serverB.close();
  });
});
