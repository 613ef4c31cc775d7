/**
 * Production's watch over restore drills (issue 5), on both backends, with a clock the test
 * moves: no drill yet, a failed drill and a last pass older than the allowed age each raise an
 * alert for the security officer, once per state (an overdue pass again each day); a drill that
 * passed within the age raises nothing; a server with backups but no drill key alerts too; a
 * server that does not watch drills never alerts. Reports are signed with a test drill key.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ed25519NoteSigner, verifierKeyString } from '../../src/audit/index.js';
import { DRILL_CHECKS, DRILL_FORMAT, DRILL_KEY_NAME, DrillWatch, signDrillReport, type DrillAlert, type DrillPolicy, type DrillReport } from '../../src/backup/index.js';
import { ed25519FromSeed } from '../../src/crypto/index.js';
import { ManualClock, randomId, systemRandom } from '../../src/kernel/index.js';
import { createStoreEnv, type StoreEnv } from '../support/store-env.js';
import { BACKENDS } from '../support/vault-fixture.js';

const ORIGIN = 'test.labkluis.local/audit';
const DAY = 86_400_000;
const signer = ed25519NoteSigner(DRILL_KEY_NAME, ed25519FromSeed(systemRandom.bytes(32)).privateKey);
const KEY = verifierKeyString(DRILL_KEY_NAME, signer.publicKey);
const FACTS = { ip: '127.0.0.1', userAgent: 'test' };

function report(clock: ManualClock, outcome: 'passed' | 'failed', overrides: Partial<DrillReport> = {}): DrillReport {
  const checks = DRILL_CHECKS.map((name) => ({ name, ok: outcome === 'passed' || name !== 'restore', detail: 'synthetic' }));
  return {
    format: DRILL_FORMAT, id: randomId(systemRandom), origin: ORIGIN, target: 'dir:/backups', startedAt: new Date(clock.now().getTime() - 60_000).toISOString(),
    finishedAt: clock.now().toISOString(), outcome,
    snapshot: { sequence: 4, id: randomId(systemRandom), manifest: 'a'.repeat(64), createdAt: new Date(clock.now().getTime() - 3_600_000).toISOString() },
    checks, figures: { rows: 10, bytes: 1000, restoreMs: 5, auditEntries: 3, decrypted: 2, productionSize: 4 }, ...overrides,
  };
}

describe.each(BACKENDS)('the drill watch on %s', (backend) => {
  let env: StoreEnv;
  let clock: ManualClock;
  let raised: DrillAlert[];
  let audited: { outcome: string; reason?: string }[];
  const watch = (policy: DrillPolicy = { key: KEY }) => new DrillWatch({
    store: env.store, clock, origin: ORIGIN, policy,
    // As the app does: the store refuses an alert id it has (raised before), and then nothing is sent.
    raise: async (a) => {
      try {
        await env.store.safeguards.insertAlert({ id: a.id, kind: a.kind, principalId: null, tenant: null, subject: a.subject, createdAt: a.createdAt, acknowledgedAt: null, acknowledgedBy: null });
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_CONFLICT') return;
        throw e;
      }
      raised.push(a);
    },
    received: async (e) => void audited.push({ outcome: e.outcome, ...(e.reason ? { reason: e.reason } : {}) }),
  });

  beforeEach(async () => {
    env = await createStoreEnv(backend, new ManualClock());
    clock = new ManualClock('2026-03-01T08:00:00Z');
    raised = [];
    audited = [];
  });
  afterEach(async () => {
    await env.cleanup();
  });

  it('alerts while no drill has passed, once a day', async () => {
    const w = watch();
    expect((await w.check()).state).toBe('none');
    await w.check();
    expect(raised.map((a) => a.kind)).toEqual(['backup-drill-overdue']);
    expect(raised[0]!.summary).toMatch(/no restore drill has passed yet/);
    clock.advance(DAY);
    await w.check();
    expect(raised).toHaveLength(2);
  });

  it('is quiet after a passed drill until the pass is older than the allowed age, then alerts', async () => {
    const w = watch({ key: KEY, maxAgeDays: 7 });
    const taken = await w.receive(await signDrillReport(report(clock, 'passed'), signer), FACTS);
    expect(taken).toMatchObject({ outcome: 'passed', status: { state: 'passed' } });
    expect(audited).toEqual([{ outcome: 'success', reason: 'passed' }]);
    clock.advance(7 * DAY - 60_000);
    expect((await w.check()).state).toBe('passed');
    expect(raised).toEqual([]);
    clock.advance(2 * 60_000);
    const status = await w.check();
    expect(status.state).toBe('overdue');
    expect(raised.map((a) => a.kind)).toEqual(['backup-drill-overdue']);
    expect(raised[0]!.summary).toMatch(/7 days old \(allowed: 7\)/);
    // A new pass ends it.
    await w.receive(await signDrillReport(report(clock, 'passed'), signer), FACTS);
    expect((await w.check()).state).toBe('passed');
    expect(raised).toHaveLength(1);
  });

  it('alerts once for a failed drill, naming the failed checks, even with an earlier pass', async () => {
    const w = watch();
    await w.receive(await signDrillReport(report(clock, 'passed'), signer), FACTS);
    clock.advance(60_000);
    const failed = report(clock, 'failed');
    const taken = await w.receive(await signDrillReport(failed, signer), FACTS);
    expect(taken.status).toMatchObject({ state: 'failed', last: { id: failed.id, failedChecks: [{ name: 'restore', detail: 'synthetic' }] } });
    await w.check();
    clock.advance(DAY);
    await w.check();
    expect(raised.map((a) => [a.kind, a.subject])).toEqual([['backup-drill-failed', failed.id]]);
    expect(raised[0]!.summary).toMatch(/failed \(restore\)/);
    // Drills stop after the failure: once the last pass is too old, the overdue alert comes too, daily.
    clock.advance(7 * DAY);
    await w.check();
    expect(raised.map((a) => a.kind)).toEqual(['backup-drill-failed', 'backup-drill-overdue']);
    await w.check();
    clock.advance(DAY);
    await w.check();
    expect(raised.map((a) => a.kind)).toEqual(['backup-drill-failed', 'backup-drill-overdue', 'backup-drill-overdue']);
  });

  it("orders drills by when production received them, so a failed report from a host whose clock stepped back still counts", async () => {
    const w = watch();
    await w.receive(await signDrillReport(report(clock, 'passed'), signer), FACTS);
    clock.advance(60_000);
    // Finished (by the drill host's clock) an hour before the pass production already has.
    const behind = new Date(clock.now().getTime() - 3_600_000);
    const failed = report(clock, 'failed', { startedAt: new Date(behind.getTime() - 1000).toISOString(), finishedAt: behind.toISOString() });
    const taken = await w.receive(await signDrillReport(failed, signer), FACTS);
    expect(taken.status.state).toBe('failed');
    expect(raised.map((a) => [a.kind, a.subject])).toEqual([['backup-drill-failed', failed.id]]);
  });

  it('raises each alert once even when other alerts crowd the list, and from two watches on one store (two nodes)', async () => {
    for (let i = 0; i < 250; i++) {
      await env.store.safeguards.insertAlert({ id: `other-${i}`, kind: 'token-replay', principalId: null, tenant: null, subject: null, createdAt: clock.now().toISOString(), acknowledgedAt: null, acknowledgedBy: null });
    }
    const [a, b] = [watch(), watch()];
    await Promise.all([a.check(), b.check(), a.check()]);
    expect(raised.map((x) => x.kind)).toEqual(['backup-drill-overdue']);
  });

  it("refuses another vault's report, one from the future, and any report without a drill key, storing nothing and auditing each", async () => {
    const w = watch();
    await expect(w.receive(await signDrillReport(report(clock, 'passed', { origin: 'other.lab/audit' }), signer), FACTS)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    const ahead = report(clock, 'passed', { finishedAt: new Date(clock.now().getTime() + 10 * 60_000).toISOString() });
    await expect(w.receive(await signDrillReport(ahead, signer), FACTS)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT', message: expect.stringMatching(/future/) });
    const unkeyed = watch({ watch: true });
    await expect(unkeyed.receive(await signDrillReport(report(clock, 'passed'), signer), FACTS)).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' });
    expect(await env.store.safeguards.lastDrills()).toEqual({ last: null, lastPassed: null });
    expect(audited).toEqual([{ outcome: 'denied', reason: 'invalid-input' }, { outcome: 'denied', reason: 'invalid-input' }, { outcome: 'denied', reason: 'forbidden' }]);
  });

  it('alerts on a server with backups but no drill key; never on one that does not watch drills', async () => {
    await watch({ watch: true }).check();
    expect(raised.map((a) => a.kind)).toEqual(['backup-drill-overdue']);
    expect(raised[0]!.summary).toMatch(/no drill key/);
    raised = [];
    clock.advance(DAY);
    const quiet = watch({});
    expect(quiet.watching).toBe(false);
    expect((await quiet.check()).state).toBe('none');
    expect(raised).toEqual([]);
  });

  it('refuses a bad drill key or age in its configuration, and a key that is not a drill key (the backup key pasted in)', () => {
    expect(() => watch({ key: 'not a key' })).toThrow(/backup.drill.key/);
    const backupLike = ed25519NoteSigner(`${ORIGIN}/backup`, ed25519FromSeed(systemRandom.bytes(32)).privateKey);
    expect(() => watch({ key: verifierKeyString(backupLike.name, backupLike.publicKey) })).toThrow(/not a drill key/);
    for (const maxAgeDays of [0, -1, 400, Number.NaN]) expect(() => watch({ key: KEY, maxAgeDays })).toThrow(/maxAgeDays/);
  });
});
