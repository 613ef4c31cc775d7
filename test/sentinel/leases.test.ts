/**
 * The sentinel's leases (write-behind) on both stores, with a clock the test moves: reads that
 * fit a lease pass on the node and are counted in the store when the lease ends; the crossing
 * read is still judged on exact totals and refused; two nodes on one store draw on one budget
 * and contain at the same patient as one node would. Two Sentinels on one store stand for two
 * labkluis processes (the process boundary itself is two-nodes.test.ts's). Principals carry
 * `contained: false` as authentication gives it (a principal without it never gets a lease).
 * Pseudonyms are random test strings, no data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalFromRow } from '../../src/auth/index.js';
import { ManualClock, randomId, systemRandom } from '../../src/kernel/index.js';
import { Sentinel, type SentinelPolicyInput } from '../../src/sentinel/index.js';
import type { AccessContext, Release } from '../../src/vault/index.js';
import { createStoreEnv, type StoreEnv } from '../support/store-env.js';
import { principalRow, tenantRow } from '../support/store-fixtures.js';
import { BACKENDS } from '../support/vault-fixture.js';

/** Hard limits only: 20 patients in 10 minutes (no baselines, no working hours). */
const POLICY: SentinelPolicyInput = {
  signals: { workingHours: null },
  baseline: { enabled: false },
  leases: { seconds: 5, share: 0.25, canariesSeconds: 1 },
};
const LIMIT = 20;

describe.each(BACKENDS)('sentinel leases (%s)', (backend) => {
  const clock = new ManualClock('2026-03-10T09:00:05.000Z');
  let env: StoreEnv;
  let tenant: string;
  const events: string[] = [];

  const node = (name: string): Sentinel => new Sentinel({
    store: env.store, clock, random: systemRandom, node: name, policy: POLICY,
    actions: { endSessions: async () => 0, revokeApiTokens: (id) => env.store.revokeApiTokensOf(id, clock.now().toISOString()) },
    events: async (e) => {
      events.push(`${e.kind}:${e.reason ?? ''}`);
    },
    sealNote: async (_kind, _id, text) => Buffer.from(text),
  });

  beforeAll(async () => {
    env = await createStoreEnv(backend, clock);
    const t = tenantRow({ kind: 'lab' });
    await env.store.insertTenant(t);
    tenant = t.id;
  }, 60_000);
  afterAll(() => env.cleanup());

  /** A principal as authentication hands it to the vault: read from the store, not contained. */
  const analyst = async (): Promise<AccessContext> => {
    const row = principalRow({ role: 'analyst', kind: 'service', tenants: [tenant] });
    await env.store.insertPrincipal(row);
    const principal = principalFromRow((await env.store.getPrincipal(row.id))!, 'lease-test');
    expect(principal.contained).toBe(false);
    return { principal, tenant, ip: '192.0.2.7', userAgent: 'lease-test' } as AccessContext;
  };
  const patient = () => `p${randomId(systemRandom)}`;
  const release = (patients: string[]): Release => ({
    operation: 'read', type: 'Patient', patients, lastChanged: patients.map(() => null), inProgress: patients.map(() => false),
    records: patients.length, bytes: 1_000 * patients.length, query: null,
  });
  /** The principal's patients in the last ten minutes as the store has them (an empty release counts nothing). */
  const storedTotals = async (ctx: AccessContext) => {
    const out = await env.store.sentinel.recordRelease({
      principalId: ctx.principal.id, role: 'analyst', tenant, pseudonyms: [], records: 0, bytes: 0, at: clock.now().toISOString(),
    }, [new Date(clock.now().getTime() - 600_000).toISOString()]);
    return out.totals[0]!;
  };
  const stored = async (ctx: AccessContext): Promise<number> => (await storedTotals(ctx)).patients;
  const refused = (made: Promise<void>) => expect(made).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' });

  it('lets reads that fit the lease pass on the node and counts them in the store when the lease ends', async () => {
    const a = node('node-a');
    const [ctx, other] = [await analyst(), await analyst()];
    const first = patient();
    await a.release(ctx, release([first]));
    await a.release(other, release([patient()]));
    expect(await stored(ctx)).toBe(1); // the first read went to the store and took a lease: floor((20 - 1) / 4) = 4
    const more = [patient(), patient(), patient(), patient()];
    for (const p of more) {
      clock.advance(100);
      await a.release(ctx, release([p, first])); // a patient the lease has seen counts once
      await a.release(other, release([patient()]));
    }
    expect(await stored(ctx)).toBe(1);
    expect(await stored(other)).toBe(1);
    clock.advance(5_000);
    // Two flushes at once (the app's timer and a request) write each lease once.
    await Promise.all([a.flushLeases(), a.flushLeases()]);
    expect(await storedTotals(ctx)).toMatchObject({ patients: 5, records: 9, bytes: 9_000 });
    expect(await storedTotals(other)).toMatchObject({ patients: 5, records: 5, bytes: 5_000 });
    await a.flushLeases(true);
    expect(await storedTotals(ctx)).toMatchObject({ patients: 5, records: 9, bytes: 9_000 });
  });

  it(`contains at patient ${LIMIT + 1} exactly, the crossing response refused, as without leases`, async () => {
    clock.advance(60_000);
    const a = node('node-a');
    const ctx = await analyst();
    for (let i = 0; i < LIMIT; i++) {
      clock.advance(50);
      await a.release(ctx, release([patient()]));
    }
    await refused(a.release(ctx, release([patient()])));
    expect((await env.store.sentinel.liveContainment(ctx.principal.id))?.reason).toBe('patients-600s');
    // Every released patient, and the refused one, counted: nothing left in a lease.
    await a.flushLeases(true);
    const day = clock.now().toISOString().slice(0, 10);
    const daily = (await env.store.sentinel.dailyPatients('analyst', day)).find((r) => r.principalId === ctx.principal.id);
    expect(daily?.patients).toBe(LIMIT + 1);
    expect(events).toContain('sentinel-contained:patients-600s');
  });

  it('shares one budget between two nodes: the crossing is judged on both nodes\' releases, waiting for the other node\'s lease', async () => {
    clock.advance(60_000);
    const [a, b] = [node('node-a'), node('node-b')];
    const ctx = await analyst();
    // Node A: one read through the store (a lease of floor(19 / 4) = 4), four within the lease.
    for (let i = 0; i < 5; i++) {
      clock.advance(50);
      await a.release(ctx, release([patient()]));
    }
    expect(await stored(ctx)).toBe(1);
    // Node B: fifteen more make 20, all within the budget with A's four; A's lease shrinks B's.
    for (let i = 0; i < LIMIT - 5; i++) {
      clock.advance(50);
      await b.release(ctx, release([patient()]));
    }
    // The 21st: the store has 17, A's lease may hold 4 more. B waits until A has written them.
    let settled = false;
    const crossing = b.release(ctx, release([patient()])).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    // A's lease has ended but A has not written it yet: B still waits.
    clock.advance(5_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled).toBe(false);
    await a.flushLeases();
    await refused(crossing);
    expect((await env.store.sentinel.liveContainment(ctx.principal.id))?.reason).toBe('patients-600s');
    await refused(a.release(ctx, release([patient()])));
  });

  it('refuses a contained principal\'s writes as authentication read it, or from the store for one made in process', async () => {
    const a = node('node-a');
    const ctx = await analyst();
    await a.admit(ctx); // authenticated, not contained: no store call needed, and it passes
    await env.store.sentinel.insertContainment({
      id: randomId(systemRandom), principalId: ctx.principal.id, reason: 'burst', alertId: null, createdAt: clock.now().toISOString(), liftedAt: null, liftedBy: null, liftNote: null,
    });
    const again = principalFromRow((await env.store.getPrincipal(ctx.principal.id))!, 'lease-test');
    expect(again.contained).toBe(true);
    await refused(a.admit({ ...ctx, principal: again }));
    const made = { ...ctx, principal: principalFromRow(principalRow({ id: ctx.principal.id, role: 'analyst', kind: 'service', tenants: [tenant] }), 'lease-test') };
    expect(made.principal.contained).toBeUndefined();
    await refused(a.admit(made));
    await refused(a.release(made, release([patient()])));
  });

  it('takes no lease for a principal not read from the store, nor past a canary', async () => {
    clock.advance(60_000);
    const a = node('node-a');
    const row = principalRow({ role: 'analyst', kind: 'service', tenants: [tenant] });
    await env.store.insertPrincipal(row);
    const made = { principal: principalFromRow(row, 'lease-test'), tenant, ip: '192.0.2.7', userAgent: 'lease-test' } as AccessContext;
    expect(made.principal.contained).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      clock.advance(50);
      await a.release(made, release([patient()]));
    }
    expect(await stored(made)).toBe(3); // each read counted at once
    // A canary seeded elsewhere (another process): the node's list is read again within
    // canariesSeconds, while the lease (5 s) would still let the read pass.
    const ctx = await analyst();
    await a.release(ctx, release([patient()]));
    const canary = patient();
    await env.store.sentinel.addCanaries([{ tenant, pseudonym: canary, createdAt: clock.now().toISOString(), createdBy: 'lease-test' }]);
    clock.advance(1_500);
    await refused(a.release(ctx, release([canary])));
    expect((await env.store.sentinel.liveContainment(ctx.principal.id))?.reason).toBe('canary');

    // Touched before the node read its list again: the lease passes it, and writing the lease
    // finds it and contains the principal then.
    const late = await analyst();
    await a.release(late, release([patient()]));
    const fresh = patient();
    await env.store.sentinel.addCanaries([{ tenant, pseudonym: fresh, createdAt: clock.now().toISOString(), createdBy: 'lease-test' }]);
    clock.advance(200);
    await a.release(late, release([fresh]));
    expect(await env.store.sentinel.liveContainment(late.principal.id)).toBeNull();
    clock.advance(5_000);
    await a.flushLeases();
    expect((await env.store.sentinel.liveContainment(late.principal.id))?.reason).toBe('canary');
    await refused(a.release(late, release([patient()])));

    // The same at a minute's end (every lease ends with its minute).
    clock.advance(60_000 - (clock.now().getTime() % 60_000) - 2_000); // two seconds before a minute ends
    const edge = await analyst();
    await a.release(edge, release([patient()]));
    const another = patient();
    await env.store.sentinel.addCanaries([{ tenant, pseudonym: another, createdAt: clock.now().toISOString(), createdBy: 'lease-test' }]);
    clock.advance(200);
    await a.release(edge, release([another]));
    clock.advance(2_000);
    await refused(a.release(edge, release([patient()])));
    expect((await env.store.sentinel.liveContainment(edge.principal.id))?.reason).toBe('canary');
  });
});
