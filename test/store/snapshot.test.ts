/**
 * Store snapshots for backups (issue 5), on the real backends: a vault with records, audit
 * entries, checkpoints, accounts' principals and tokens, sentinel state, is read as one
 * consistent snapshot and restored into an empty store of the other backend (SQLite to
 * PostgreSQL and back); the restored store holds exactly the same rows, its audit log verifies
 * with the original keyring, and the vault reads the restored records. A restore into a store
 * that holds anything is refused and changes nothing. All data is the tests' synthetic data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifierKeyString, verifyAuditLog } from '../../src/audit/index.js';
import { DataKeys } from '../../src/crypto/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import type { SnapshotTableRows, Store } from '../../src/store/index.js';
import { dumpStore } from '../support/store-dump.js';
import { episode, type Episode } from '../support/api.js';
import { createStoreEnv, type StoreEnv } from '../support/store-env.js';
import { created, resourceRow } from '../support/store-fixtures.js';
import { testSealer } from '../support/test-sealer.js';
import { BACKENDS, createVaultFixture, type Backend, type VaultFixture } from '../support/vault-fixture.js';


/** A dump as the rows of a snapshot again (the form a restore reads). */
async function* replay(store: Store): AsyncIterable<SnapshotTableRows> {
  const snap = await store.snapshot();
  try {
    for await (const t of snap.tables) yield t;
  } finally {
    await snap.close();
  }
}

describe.each(BACKENDS)('store snapshots from %s', (from: Backend) => {
  const to: Backend = from === 'sqlite' ? 'postgres' : 'sqlite';
  let f: VaultFixture;
  let target: StoreEnv;
  let episodes: Episode[];

  beforeAll(async () => {
    f = await createVaultFixture(from);
    episodes = [await episode(f, f.tenants.a), await episode(f, f.tenants.b), await episode(f, f.tenants.a)];
    await f.app.store.sentinel.addCanaries([{ tenant: f.tenants.a, pseudonym: 'synthetic-canary', createdAt: new Date().toISOString(), createdBy: 'test' }]);
    await f.app.audit.checkpoint();
    target = await createStoreEnv(to, systemClock);
  }, 120_000);
  afterAll(async () => {
    await target?.cleanup();
    await f?.cleanup();
  });

  it(`restores into an empty ${to} store with exactly the same rows, and its audit log verifies`, async () => {
    const before = await dumpStore(f.app.store);
    expect(before.clinical_resources!.length).toBeGreaterThan(10);
    expect(before.audit_entries!.length).toBeGreaterThan(10);
    expect(before.identity_persons!.length).toBe(3);
    expect(before.audit_head).toHaveLength(1);
    const counts = await target.store.restoreSnapshot(replay(f.app.store));
    expect(counts.clinical_resources).toBe(before.clinical_resources!.length);
    expect(await dumpStore(target.store)).toEqual(before);
    // The restored audit log: every entry, MAC chain and checkpoint, with the original keyring.
    const keys = new DataKeys({ store: target.store, kms: f.kms, clock: systemClock, random: systemRandom });
    const result = await verifyAuditLog({
      store: target.store, macKey: (await keys.current('*', 'audit-mac')).key,
      verifierKey: verifierKeyString(f.kms.auditSigner.name, f.kms.auditSigner.publicKey), origin: f.origin,
    });
    expect(result).toMatchObject({ ok: true, size: before.audit_entries!.length });
    // The restored records read back as stored.
    const [, tenant, type, id, version] = before.clinical_resources![0]! as [number, string, string, string, number];
    expect((await target.store.getResource(tenant, type as never, id))?.version).toBe(version);
    const person = before.identity_persons![0]! as [string, string];
    expect((await target.store.getPerson(person[0], person[1]))?.pseudonym).toBe(person[1]);
    // Found again by a token search (SQLite's search index is rebuilt from the resources' tokens).
    const current = before.clinical_resources!.filter((r) => r[13] === true && (r[8] as string[]).length > 0);
    const probe = current[current.length - 1]! as [number, string, string, string, number, string, string, string, string[]];
    const hits = await target.store.searchResources({ tenant: probe[1], type: probe[2] as never, tokens: [[probe[8][0]!]], limit: 1000 });
    expect(hits.map((h) => h.id)).toContain(probe[3]);
    expect(episodes).toHaveLength(3);
    // Found again by patient in the audit log (the entries' patient index is rebuilt, not copied).
    const audited = await f.app.store.searchAudit({ patient: person[1], limit: 1000 });
    expect(audited.length).toBeGreaterThan(0);
    expect((await target.store.searchAudit({ patient: person[1], limit: 1000 })).map((e) => e.seq)).toEqual(audited.map((e) => e.seq));
    // The barcode claims are rebuilt, not copied: a new resource claiming a restored current
    // version's barcode is refused, as it was before the restore.
    const claimed = before.clinical_resources!.find((r) => r[13] === true && (r[9] as string[]).length > 0)! as [number, string, string, string, number, string, string, string, string[], string[]];
    const duplicate = resourceRow(claimed[1], { type: claimed[2] as never, uniqueTokens: [claimed[9][0]!] });
    await expect(f.app.store.commit({ persons: [], resources: [created(duplicate)] }, testSealer([]))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    await expect(target.store.commit({ persons: [], resources: [created(duplicate)] }, testSealer([]))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    // New writes go on after the restored ones (PostgreSQL's position sequence moved past them).
    const next = resourceRow(f.tenants.a);
    await target.store.commit({ persons: [], resources: [created(next)] }, testSealer([]));
    const after = (await dumpStore(target.store)).clinical_resources!;
    expect(after).toHaveLength(before.clinical_resources!.length + 1);
    expect(after[after.length - 1]![3]).toBe(next.id);
    expect(after[after.length - 1]![0] as number).toBeGreaterThan(before.clinical_resources![before.clinical_resources!.length - 1]![0] as number);
  });

  it('refuses a restore into a store that holds anything, and changes nothing', async () => {
    const before = await dumpStore(target.store);
    await expect(target.store.restoreSnapshot(replay(f.app.store))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    expect(await dumpStore(target.store)).toEqual(before);
  });

  it('is one consistent view: what is written after it starts is not in it', async () => {
    const snap = await f.app.store.snapshot();
    const head = await f.app.store.auditHead();
    await episode(f, f.tenants.b); // more records and audit entries, after the snapshot began
    const rows: Record<string, number> = {};
    try {
      for await (const t of snap.tables) {
        let n = 0;
        for await (const batch of t.batches) n += batch.length;
        rows[t.spec.name] = n;
      }
    } finally {
      await snap.close();
    }
    expect(rows.audit_entries).toBe(head.size);
    expect((await f.app.store.auditHead()).size).toBeGreaterThan(head.size);
  });
});
