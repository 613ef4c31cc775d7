/** AuditLog against the real SQLite store (WAL file in a private temp dir). */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AuditLog, consistencyProofFor, inclusionProofFor, openCheckpoint, parseCanonical, verifyAuditLog, verifyConsistency,
  verifyInclusion, type AuditLogger, type NoteSigner,
} from '../../src/audit/index.js';
import { isLabkluisError, ManualClock } from '../../src/kernel/index.js';
import { createSqliteStore, type Store } from '../../src/store/index.js';
import { createTempDir, type TempDir } from '../support/tmp.js';
import { countingRandom, draft, MAC_KEY, newSigner, ORIGIN } from './fixtures.js';

interface Logged { fields: Record<string, unknown>; message: string }

describe('AuditLog on the sqlite store', () => {
  let dir: TempDir;
  let store: Store;
  let clock: ManualClock;
  let logged: Logged[];
  let logger: AuditLogger;
  const keys = newSigner();

  beforeEach(async () => {
    dir = await createTempDir('labkluis-audit-');
    store = createSqliteStore({ path: dir.file('vault.db') });
    await store.migrate();
    clock = new ManualClock('2026-03-01T09:00:00Z');
    logged = [];
    logger = { error: (fields, message) => { logged.push({ fields, message }); } };
  });
  afterEach(async () => {
    await store.close();
    await dir.cleanup();
  });

  const newLog = (opts: { signer?: NoteSigner; entries?: number; ms?: number } = {}): AuditLog => new AuditLog({
    store, macKey: MAC_KEY, signer: opts.signer ?? keys.signer, origin: ORIGIN, clock, random: countingRandom(), logger,
    checkpointEvery: { entries: opts.entries ?? 256, ms: opts.ms ?? 60_000 },
  });
  const verify = () => verifyAuditLog({ store, macKey: MAC_KEY, verifierKey: keys.vkey, origin: ORIGIN, pageSize: 4 });
  const objectIds = (rows: readonly { leaf: Buffer }[]) =>
    rows.map((r) => ((parseCanonical(r.leaf) as { objects: { id: string }[] }).objects[0]!.id));

  it('group-commits concurrent callers in one store write and gives each its own rows', async () => {
    const log = newLog();
    const spy = vi.spyOn(store, 'appendAudit');
    const callers = Array.from({ length: 10 }, (_, c) =>
      Array.from({ length: 1 + (c % 3) }, (_, j) => draft({ objects: [{ type: 'Observation', id: `c${c}-${j}` }] })));
    const results = await Promise.all(callers.map((drafts) => log.append(drafts)));
    // The first caller writes at once; the nine that arrive while it is in flight go together.
    expect(spy).toHaveBeenCalledTimes(2);
    results.forEach((rows, c) => expect(objectIds(rows)).toEqual(callers[c]!.map((_, j) => `c${c}-${j}`)));
    const seqs = results.flat().map((r) => r.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    expect(existsSync(`${dir.file('vault.db')}-wal`)).toBe(true);
    await log.close();
    expect(await verify()).toMatchObject({ ok: true, size: seqs.length, lastCheckpointSize: seqs.length });
  });

  it('fails closed: when the store write fails every caller in the group gets ERR_AUDIT_UNAVAILABLE', async () => {
    const log = newLog();
    await log.append([draft()]);
    await store.close(); // a real failure: the database is gone
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => log.append([draft()])));
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      expect(isLabkluisError((o as PromiseRejectedResult).reason, 'ERR_AUDIT_UNAVAILABLE')).toBe(true);
    }
    expect(logged.some((l) => /append failed/.test(l.message))).toBe(true);
  });

  it('fails the whole group and writes nothing when the stored head was tampered with', async () => {
    const log = newLog();
    await log.append([draft(), draft()]);
    const raw = new Database(dir.file('vault.db'));
    raw.prepare('UPDATE audit_head SET size = 3').run();
    raw.close();
    const outcomes = await Promise.allSettled([log.append([draft()]), log.append([draft()]), log.append([draft()])]);
    expect(outcomes.every((o) => o.status === 'rejected' && isLabkluisError(o.reason, 'ERR_AUDIT_UNAVAILABLE'))).toBe(true);
    expect(await store.readAudit(0, 100)).toHaveLength(2);
    expect(await verify()).toMatchObject({ ok: false, seq: 2 });
  });

  it('rejects a bad draft for its caller only, never the group', async () => {
    const log = newLog();
    const outcomes = await Promise.allSettled([
      log.append([draft()]), log.append([draft({ patients: ['123456782'] })]), log.append([draft()]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
  });

  it('checkpoints after N entries and after T ms, signed for the newest size', async () => {
    const log = newLog({ entries: 5, ms: 10_000 });
    await log.append([draft(), draft(), draft(), draft()]);
    expect(await store.listCheckpoints()).toHaveLength(0);
    await log.append([draft()]);
    await vi.waitFor(async () => expect((await store.listCheckpoints()).map((c) => c.size)).toEqual([5]));
    await log.append([draft()]);
    clock.advance(10_000);
    await log.append([draft()]);
    await vi.waitFor(async () => expect((await store.listCheckpoints()).map((c) => c.size)).toEqual([5, 7]));
    expect(await verify()).toMatchObject({ ok: true, size: 7, checkpoints: 2 });
  });

  it('keeps entries and logs loudly when a checkpoint write or signature fails', async () => {
    const raw = new Database(dir.file('vault.db'));
    raw.exec("CREATE TRIGGER no_cp BEFORE INSERT ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'disk says no'); END;");
    const log = newLog({ entries: 2 });
    const rows = await log.append([draft(), draft()]);
    expect(rows).toHaveLength(2);
    await vi.waitFor(() => expect(logged.some((l) => /checkpoint failed/.test(l.message))).toBe(true));
    await expect(log.checkpoint()).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    raw.exec('DROP TRIGGER no_cp');
    raw.close();
    expect(await log.checkpoint()).toMatchObject({ size: 2 });
    expect(await verify()).toMatchObject({ ok: true, size: 2, checkpoints: 1 });

    const kmsDown: NoteSigner = { ...keys.signer, sign: () => Promise.reject(new Error('KMS unavailable')) };
    const second = newLog({ signer: kmsDown, entries: 1 });
    logged.length = 0;
    expect(await second.append([draft()])).toHaveLength(1);
    await vi.waitFor(() => expect(logged.some((l) => /checkpoint failed/.test(l.message))).toBe(true));
    expect(await store.readAudit(0, 10)).toHaveLength(3);
  });

  it('seals writes that go through store.commit and counts them via noteAppended', async () => {
    const log = newLog({ entries: 3 });
    await log.append([draft()]);
    const rows = await store.commit({ persons: [], resources: [] }, log.sealerFor([draft({ action: 'C', operation: 'create' }), draft()]));
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
    log.noteAppended(rows);
    await vi.waitFor(async () => expect((await store.listCheckpoints()).map((c) => c.size)).toEqual([3]));
    expect(await verify()).toMatchObject({ ok: true, size: 3 });
  });

  it('close() flushes queued appends, writes a final checkpoint and refuses new appends', async () => {
    const log = newLog();
    const pending = [log.append([draft()]), log.append([draft()]), log.append([draft()])];
    await log.close();
    expect((await Promise.all(pending)).flat()).toHaveLength(3);
    expect((await store.listCheckpoints()).map((c) => c.size)).toEqual([3]);
    await expect(log.append([draft()])).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    // Another node forcing a checkpoint at the same size changes nothing (first one wins).
    expect(await newLog().checkpoint()).toMatchObject({ size: 3 });
    expect((await store.listCheckpoints()).map((c) => c.size)).toEqual([3]);
  });

  it('proves one entry against a signed checkpoint, and two checkpoints consistent', async () => {
    const log = newLog({ entries: 7 });
    const rows = await log.append(Array.from({ length: 7 }, () => draft()));
    await vi.waitFor(async () => expect(await store.listCheckpoints()).toHaveLength(1));
    await log.append(Array.from({ length: 6 }, () => draft()));
    await log.close();
    const [cp7, cp13] = (await store.listCheckpoints()).map((c) => openCheckpoint(c.note, keys.vkey, ORIGIN));
    expect([cp7!.size, cp13!.size]).toEqual([7, 13]);
    const proof = await inclusionProofFor(store, 3, 13);
    expect(verifyInclusion(3, 13, rows[3]!.leafHash, proof, cp13!.root)).toBe(true);
    expect(verifyInclusion(3, 13, rows[4]!.leafHash, proof, cp13!.root)).toBe(false);
    const consistency = await consistencyProofFor(store, 7, 13);
    expect(verifyConsistency(7, 13, consistency, cp7!.root, cp13!.root)).toBe(true);
    await expect(inclusionProofFor(store, 3, 14)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});
