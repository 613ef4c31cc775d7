/**
 * A vault backed up and restored end to end, on the real backends: the store's snapshot is
 * chunked, sealed to an offline age recipient and written to a dir: target with a signed
 * manifest; a second backup after a small change writes little; with the offline identity the
 * snapshot restores into an empty store of the other backend with every row and an audit log
 * that matches the manifest's checkpoint and verifies. A wrong identity restores nothing.
 * The vault holds the tests' synthetic data only.
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontierRoot, verifierKeyString, verifyAuditLog } from '../../src/audit/index.js';
import { DirTarget, ObjectSealer, packStore, reusable, verifyTarget, writePacked, writeSnapshot, writeStoreSnapshot, type OpenedManifest } from '../../src/backup/index.js';
import { restoreFromTarget } from '../../src/backup/restore.js';
import { storeSource } from '../../src/backup/snapshot-codec.js';
import { DataKeys } from '../../src/crypto/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { snapshotTo } from '../support/backup.js';
import { dumpStore } from '../support/store-dump.js';
import { episode } from '../support/api.js';
import { createStoreEnv, type StoreEnv } from '../support/store-env.js';
import { createTempDir, type TempDir } from '../support/tmp.js';
import { BACKENDS, createVaultFixture, type Backend, type VaultFixture } from '../support/vault-fixture.js';


describe.each(BACKENDS)('backup and restore of a %s vault', (from: Backend) => {
  const to: Backend = from === 'sqlite' ? 'postgres' : 'sqlite';
  let f: VaultFixture;
  let tmp: TempDir;
  let target: DirTarget;
  let identity: string;
  let recipient: string;
  const opened: OpenedManifest[] = [];
  const macKey = Buffer.alloc(32, 3);
  const backup = async () => {
    const { summary, opened: m } = await snapshotTo(f.app.store, { target, recipients: [recipient], macKey, signer: f.kms.auditSigner, previous: opened.at(-1) ?? null });
    opened.push(m);
    return summary;
  };

  beforeAll(async () => {
    f = await createVaultFixture(from);
    for (let i = 0; i < 4; i++) await episode(f, i % 2 === 0 ? f.tenants.a : f.tenants.b);
    await f.app.audit.checkpoint();
    tmp = await createTempDir('labkluis-backup-e2e-');
    target = new DirTarget(join(tmp.path, 'backups'));
    identity = await generateX25519Identity();
    recipient = await identityToRecipient(identity);
  }, 120_000);
  afterAll(async () => {
    await tmp?.cleanup();
    await f?.cleanup();
  });

  it('backs up, then after a small change writes little, and both verify without the key', async () => {
    const full = await backup();
    expect(full.manifest.counts.clinical_resources).toBeGreaterThan(10);
    await episode(f, f.tenants.a);
    const next = await backup();
    expect(next.chunksReused).toBeGreaterThan(0);
    expect(next.bytesWritten).toBeLessThan(full.bytesWritten / 2);
    const report = await verifyTarget(target, verifierKeyString(f.kms.auditSigner.name, f.kms.auditSigner.publicKey), { readData: 1, random: systemRandom });
    expect(report.ok).toBe(true);
  });

  it(`restores into an empty ${to} store: every row, and the audit log of the manifest, verifying`, async () => {
    const env: StoreEnv = await createStoreEnv(to, systemClock);
    try {
      const m = opened.at(-1)!.manifest;
      const summary = await restoreFromTarget(target, m, [identity], env.store);
      expect(summary.audit).toEqual(m.audit);
      const [restored, source] = [await dumpStore(env.store), await dumpStore(f.app.store)];
      // The source went on (the audit log grows with every request); the restore is the snapshot.
      expect(restored.clinical_resources).toEqual(source.clinical_resources);
      expect(restored.identity_persons).toEqual(source.identity_persons);
      expect(restored.audit_entries!.length).toBe(m.audit.size);
      const keys = new DataKeys({ store: env.store, kms: f.kms, clock: systemClock, random: systemRandom });
      const verified = await verifyAuditLog({
        store: env.store, macKey: (await keys.current('*', 'audit-mac')).key,
        verifierKey: verifierKeyString(f.kms.auditSigner.name, f.kms.auditSigner.publicKey), origin: f.origin,
      });
      expect(verified).toMatchObject({ ok: true, size: m.audit.size });
    } finally {
      await env.cleanup();
    }
  });

  it('restores nothing when the rows do not add up to what the signed manifest says', async () => {
    const env: StoreEnv = await createStoreEnv(to, systemClock);
    try {
      const m = opened.at(-1)!.manifest;
      const lying = { ...m, counts: { ...m.counts, clinical_resources: m.counts.clinical_resources! + 1 } };
      await expect(restoreFromTarget(target, lying, [identity], env.store)).rejects.toMatchObject({ code: 'ERR_INTEGRITY', message: expect.stringMatching(/clinical_resources/) });
      const wrongRoot = { ...m, audit: { ...m.audit, root: 'ee'.repeat(32) } };
      await expect(restoreFromTarget(target, wrongRoot, [identity], env.store)).rejects.toMatchObject({ code: 'ERR_INTEGRITY', message: expect.stringMatching(/audit log/) });
      // A chunk placed past the end of its pack, and one the manifest does not place at all.
      const beyond = { ...m, chunks: m.chunks.map((c, i) => (i === 0 ? { ...c, offset: c.offset + 64 * 1024 * 1024 } : c)) };
      await expect(restoreFromTarget(target, beyond, [identity], env.store)).rejects.toMatchObject({ code: 'ERR_INTEGRITY', message: expect.stringMatching(/shorter than its manifest says/) });
      // An index that is not what the writer seals (sealed to the right recipient, named by a manifest).
      const bogus = await new ObjectSealer([recipient], macKey).seal(Buffer.from(JSON.stringify({ snapshot: m.snapshot, encoding: 'rows/2', tables: null })));
      await target.putObject(bogus.id, bogus.bytes);
      const badIndex = { ...m, index: bogus.id, objects: [...m.objects, { id: bogus.id, size: bogus.bytes.length }] };
      await expect(restoreFromTarget(target, badIndex, [identity], env.store)).rejects.toMatchObject({ code: 'ERR_INTEGRITY', message: expect.stringMatching(/index is not readable/) });
      const unplaced = { ...m, chunks: m.chunks.slice(1) };
      await expect(restoreFromTarget(target, unplaced, [identity], env.store)).rejects.toMatchObject({ code: 'ERR_INTEGRITY', message: expect.stringMatching(/does not place/) });
      expect((await dumpStore(env.store)).clinical_resources).toEqual([]);
      expect((await env.store.auditHead()).size).toBe(0);
    } finally {
      await env.cleanup();
    }
  });

  it('restores nothing with an identity the backup was not sealed to', async () => {
    const env: StoreEnv = await createStoreEnv(to, systemClock);
    try {
      await expect(restoreFromTarget(target, opened.at(-1)!.manifest, [await generateX25519Identity()], env.store)).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
      expect((await dumpStore(env.store)).clinical_resources).toEqual([]);
      expect((await env.store.auditHead()).size).toBe(0);
    } finally {
      await env.cleanup();
    }
  });

  it('restores a snapshot from before session 7 that still holds the tables a restore now rebuilds', async () => {
    // Such a snapshot: the store's tables, and after them the derived ones as they were stored then.
    const { source, close } = await storeSource(f.app.store);
    const legacy = {
      ...source,
      tables: (async function* () {
        yield* source.tables;
        const rows = ['["psn-synthetic-a",0]\n', '["psn-synthetic-b",1]\n'];
        yield { table: 'audit_entry_patients', data: (async function* () { yield Buffer.from(rows.join('')); })(), rows: () => rows.length };
        yield { table: 'clinical_unique_tokens', data: (async function* () { yield Buffer.from('["t","tok","Specimen","x"]\n'); })(), rows: () => 1 };
      })(),
    };
    const legacyTarget = new DirTarget(join(tmp.path, 'legacy'));
    let written;
    try {
      written = await writeSnapshot(legacy, {
        target: legacyTarget, recipients: [recipient], macKey, signer: f.kms.auditSigner, previous: null, clock: systemClock, random: systemRandom,
        sizes: { min: 512, avg: 2048, max: 8192 },
      });
    } finally {
      await close();
    }
    expect(written.manifest.counts.audit_entry_patients).toBe(2);
    const env: StoreEnv = await createStoreEnv(to, systemClock);
    try {
      const summary = await restoreFromTarget(legacyTarget, written.manifest, [identity], env.store);
      expect(summary.rows.audit_entry_patients).toBeUndefined(); // rebuilt from the entries, not read
      expect(summary.audit).toEqual(written.manifest.audit);
      expect((await dumpStore(env.store)).clinical_resources!.length).toBe(written.manifest.counts.clinical_resources);
    } finally {
      await env.cleanup();
    }
  });

  it('takes the snapshot when the backup starts: what is written while it runs is not in it', async () => {
    const dir = new DirTarget(join(tmp.path, 'while-running'));
    const o = { target: dir, recipients: [recipient], macKey, signer: f.kms.auditSigner, previous: null, clock: systemClock, random: systemRandom, packSize: 32 * 1024 };
    const reuse = await reusable(o);
    const packed = await packStore(f.app.store, { ...o, known: [] });
    const [head, rows] = [await f.app.store.auditHead(), (await dumpStore(f.app.store)).clinical_resources!.length];
    await episode(f, f.tenants.b); // records and audit entries after the snapshot was taken
    const s = await writePacked(packed, reuse, o);
    expect(s.manifest.counts.clinical_resources).toBe(rows);
    expect((await dumpStore(f.app.store)).clinical_resources!.length).toBeGreaterThan(rows);
    expect(s.manifest.audit.size).toBe(head.size);
    expect(s.manifest.audit.root).toBe(frontierRoot([...head.frontier], head.size).toString('hex'));
  });

  it('fails whole when a backup thread fails (the reading thread cannot open the store; the packing thread cannot start): nothing written', async () => {
    const dir = new DirTarget(join(tmp.path, 'threads-fail'));
    const o = { target: dir, recipients: [recipient], macKey, signer: f.kms.auditSigner, previous: null, clock: systemClock, random: systemRandom };
    await expect(writeStoreSnapshot(f.app.store, { ...o, packSize: 0 })).rejects.toThrow(/pack size/);
    // A SQLite store whose file was moved away after it opened: the reading thread opens the file by its path.
    const env: StoreEnv = await createStoreEnv('sqlite', systemClock);
    const address = await env.store.snapshotAddress();
    if (address.kind !== 'sqlite') throw new Error('a SQLite store has a file');
    renameSync(address.path, `${address.path}.moved`);
    try {
      await expect(writeStoreSnapshot(env.store, o)).rejects.toMatchObject({ code: 'ERR_STORE' });
    } finally {
      renameSync(`${address.path}.moved`, address.path);
      await env.cleanup();
    }
    expect(await dir.listManifests()).toEqual([]);
    expect(await dir.listObjects()).toEqual([]);
  });

});
