/** The store contract on SQLite, plus checks that only make sense for an embedded file. */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore, type Store } from '../../src/store/index.js';
import { createTempDir, type TempDir } from '../support/tmp.js';
import { testSealer } from '../support/test-sealer.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('sqlite', async () => {
  const dir = await createTempDir('labkluis-sqlite-');
  const store = createSqliteStore({ path: dir.file('store.db') });
  return { store, cleanup: async () => { await store.close(); await dir.cleanup(); } };
});

describe('sqlite store file', () => {
  let dir: TempDir;
  let store: Store;
  beforeAll(async () => {
    dir = await createTempDir('labkluis-sqlite-');
    store = createSqliteStore({ path: dir.file('store.db') });
    await store.migrate();
    await store.appendAudit(testSealer([{ time: '2026-01-10T09:00:00.000Z' }]));
  });
  afterAll(async () => {
    await store.close();
    await dir.cleanup();
  });

  it('is in WAL mode', () => {
    const raw = new Database(dir.file('store.db'), { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('refuses UPDATE and DELETE of audit entries even through a raw connection', () => {
    const raw = new Database(dir.file('store.db'));
    try {
      expect(() => raw.prepare('UPDATE audit_entries SET time = ? WHERE seq = 0').run('x')).toThrow(/append-only/);
      expect(() => raw.prepare('DELETE FROM audit_entries').run()).toThrow(/append-only/);
    } finally {
      raw.close();
    }
  });

  it('two store instances on one file keep one contiguous log', async () => {
    const second = createSqliteStore({ path: dir.file('store.db') });
    await second.migrate();
    const before = await store.auditHead();
    const rows = await Promise.all([0, 1, 2, 3].map((i) =>
      (i % 2 === 0 ? store : second).appendAudit(testSealer([{ time: '2026-01-10T09:00:00.000Z' }]))));
    await second.close();
    expect(rows.flat().map((r) => r.seq).sort((a, b) => a - b)).toEqual([0, 1, 2, 3].map((i) => before.size + i));
  });
});
