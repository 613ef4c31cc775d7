/**
 * Two labkluis nodes (each its own app: connection pool, sentinel, audit writer) serving one
 * PostgreSQL database, in one process and in two: what one node released counts for the other, and a containment made
 * by one is enforced by the other on the next request.
 */
import { spawn } from 'node:child_process';
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
    let { token } = await issueApiToken(deps, svc.id, 1, key.jkt);
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
    // Node A made no decision about it, and refuses all the same: the token is revoked, and a new one is locked out.
    expect(await read(serverA, episodes[0]!)).toBe(401);
    token = (await issueApiToken(deps, svc.id, 1, key.jkt)).token;
    expect(await read(serverA, episodes[0]!)).toBe(403);
    await serverB.close();
  });

  it('shares counts and containment with a node in another OS process', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/node-process.ts'], {
      env: {
        ...process.env,
        LABKLUIS_TEST_NODE: JSON.stringify({
          dataDir: f.dataDir, keyringPath: f.keyringPath, storeConfig: f.storeConfig, origin: f.origin, publicUrl: PUBLIC_URL, node: 'node-c', sentinelPolicy: DEFAULT_SENTINEL_AT_ANY_HOUR,
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          const m = /listening (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`the second node exited (${code}) before listening`)));
      });
      expect(port).toBeGreaterThan(0);
      const deps = { store: f.app.store, clock: systemClock, random: systemRandom };
      const svc = await createPrincipal(deps, { role: 'analyst', tenants: ['*'], displayName: 'two-process-bridge', kind: 'service' });
      const key = await generateDpopKey();
      let { token } = await issueApiToken(deps, svc.id, 1, key.jkt);
      const read = async (where: 'here' | 'other process', ep: Episode): Promise<number> => {
        const path = `/fhir/${ep.patient}`;
        const dpop = await createDpopProof(key, { method: 'GET', url: PUBLIC_URL + path, accessToken: token, clock: systemClock, random: systemRandom });
        const headers = { authorization: `DPoP ${token}`, dpop, 'x-labkluis-tenant': f.tenants.a };
        if (where === 'here') return (await f.server.inject({ method: 'GET', url: path, headers })).statusCode;
        return (await fetch(`http://127.0.0.1:${port}${path}`, { headers })).status;
      };
      const statuses: number[] = [];
      for (const [i, ep] of episodes.slice(0, burst).entries()) statuses.push(await read(i % 2 === 0 ? 'here' : 'other process', ep));
      expect(statuses).toEqual(Array(burst).fill(200));
      // The other process crosses the limit and contains; this one enforces it.
      expect(await read('other process', episodes[burst]!)).toBe(403);
      expect((await f.app.store.sentinel.liveContainment(svc.id))?.reason).toBe('patients-600s');
      expect(await read('here', episodes[0]!)).toBe(401);
      token = (await issueApiToken(deps, svc.id, 1, key.jkt)).token;
      expect(await read('here', episodes[0]!)).toBe(403);
      expect(await read('other process', episodes[1]!)).toBe(403);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
