/**
 * The export's parts without a vault: the age recipient check, the request body, the
 * watermark (its identifier and its order, and what a wrong candidate gets), and on
 * PostgreSQL the core role's grants on the export tables.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import type { DataKeys } from '../../src/crypto/index.js';
import { parseExportRequest } from '../../src/export/export-input.js';
import { parseRecipientKey } from '../../src/export/recipient.js';
import { parseMark, Watermarks, WATERMARK_SYSTEM } from '../../src/export/watermark.js';
import { isLabkluisError } from '../../src/kernel/index.js';
import { createPostgresStore, type Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase, asPartRole } from '../support/postgres.js';

const refusal = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (isLabkluisError(e, 'ERR_INVALID_INPUT')) return e.issues[0]?.expression;
    throw e;
  }
  return undefined;
};

describe('the recipient', () => {
  it('is an age X25519 public key, in lowercase; anything else names recipient.key', async () => {
    const key = await identityToRecipient(await generateX25519Identity());
    expect(parseRecipientKey(key)).toBe(key);
    expect(parseRecipientKey(` ${key.toUpperCase()} `)).toBe(key);
    const flipped = `${key.slice(0, -1)}${key.endsWith('q') ? 'p' : 'q'}`;
    const hybrid = await identityToRecipient(await generateHybridIdentity());
    for (const bad of [flipped, hybrid, `${key}q`, 'age1', 'AGE-SECRET-KEY-1QQQ', 42, null, `ssh-ed25519 ${key}`]) {
      expect(refusal(() => parseRecipientKey(bad))).toBe('recipient.key');
    }
  });
});

describe('the request body', () => {
  const recipient = 'age1xu5ukw52rsns6zq8yuafff0sp2yq7mt5mtsnra3u63p8kedydcsqg8pnrs';
  const base = { recipient: { key: recipient, label: 'Register' }, purpose: { reason: 'Synthetic test reason' } };

  it('defaults to the whole tenant, every type of the view, identity included', () => {
    expect(parseExportRequest(base, 'released')).toEqual({
      tenant: null, recipient, recipientLabel: 'Register', purposeOfUse: null, reason: 'Synthetic test reason',
      scope: { from: null, to: null, types: ['Patient', 'ServiceRequest', 'Observation', 'DiagnosticReport'], identity: true },
    });
    expect(parseExportRequest(base, 'full').scope.types).toContain('Specimen');
  });

  it('reads a period of dates as midnight in the Netherlands, half-open', () => {
    const { scope } = parseExportRequest({ ...base, scope: { from: '2026-01-01', to: '2026-07-01', types: ['Patient', 'Patient'], identity: false } }, 'released');
    expect(scope).toEqual({ from: '2025-12-31T23:00:00.000Z', to: '2026-06-30T22:00:00.000Z', types: ['Patient'], identity: false });
  });

  it('names the element of each problem and never echoes a value', () => {
    const cases: [unknown, string][] = [
      [null, 'the request'],
      [{ ...base, recipient: undefined }, 'recipient'],
      [{ ...base, recipient: { key: recipient, label: 'two\nlines' } }, 'recipient.label'],
      [{ ...base, purpose: { reason: 'x'.repeat(1001) } }, 'purpose.reason'],
      [{ ...base, scope: { types: [] } }, 'scope.types'],
      [{ ...base, scope: { types: ['AuditEvent'] } }, 'scope.types[0]'],
      [{ ...base, scope: { from: '2026-13-01' } }, 'scope.from'],
      [{ ...base, scope: { from: '2026-02-01', to: '2026-02-01' } }, 'scope.to'],
      [{ ...base, scope: { period: 'q1' } }, 'scope'],
    ];
    for (const [body, expression] of cases) expect(refusal(() => parseExportRequest(body, 'released'))).toBe(expression);
  });
});

describe('the watermark', () => {
  const key = { version: 3, key: Buffer.alloc(32, 7) };
  const keys = { current: async () => key, version: async (_t: string, _p: string, v: number) => (v === 3 ? key : Promise.reject(new Error('no key'))) } as unknown as DataKeys;
  const marks = new Watermarks({ keys });
  const job = 'abcdefghijklmnopqrstuvwxyz';
  const [alice, bob] = ['age1xu5ukw52rsns6zq8yuafff0sp2yq7mt5mtsnra3u63p8kedydcsqg8pnrs', 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'];
  const refs = Array.from({ length: 30 }, (_, i) => `Observation/obs${String(i).padStart(3, '0')}`);
  const bundleFor = async (recipient: string) => {
    const m = await marks.mark(job, recipient);
    const sorted = [...refs].sort((a, b) => (m.order(a) < m.order(b) ? -1 : 1));
    return {
      resourceType: 'Bundle', identifier: { system: WATERMARK_SYSTEM, value: m.value },
      entry: sorted.map((r) => ({ resource: { resourceType: r.split('/')[0], id: r.split('/')[1] } })),
    };
  };

  it('is deterministic per job and recipient, and names the job and key version', async () => {
    const a = await marks.mark(job, alice);
    expect((await marks.mark(job, alice)).value).toBe(a.value);
    expect((await marks.mark(job, bob)).value).not.toBe(a.value);
    expect((await marks.mark('bcdefghijklmnopqrstuvwxyza', alice)).value).not.toBe(a.value);
    expect(parseMark(a.value)).toEqual({ jobId: job, keyVersion: 3 });
    expect(parseMark('lkwm1.x.3.y')).toBeNull();
  });

  it("verifies for its recipient; another recipient's candidate fails the identifier and the order", async () => {
    const forAlice = await bundleFor(alice);
    expect(await marks.check(forAlice, { jobId: job, recipient: alice, keyVersion: 3 })).toEqual({ identifier: true, pairs: 29, inOrder: 29 });
    const asBob = await marks.check(forAlice, { jobId: job, recipient: bob, keyVersion: 3 });
    expect(asBob.identifier).toBe(false);
    expect(asBob.inOrder).toBeLessThan(25); // about half of 29 by chance
    // A piece of the file, re-serialised without its identifier, keeps Alice's order.
    const piece = { entry: forAlice.entry.filter((_, i) => i % 3 === 0) };
    expect(await marks.check(piece, { jobId: job, recipient: alice, keyVersion: 3 })).toEqual({ identifier: false, pairs: 9, inOrder: 9 });
    // Re-sorted by id: the order is gone (the documented limit).
    const resorted = { entry: [...forAlice.entry].sort((a, b) => (a.resource.id! < b.resource.id! ? -1 : 1)) };
    expect((await marks.check(resorted, { jobId: job, recipient: alice, keyVersion: 3 })).inOrder).toBeLessThan(25);
  });
});

describe('export tables on PostgreSQL', () => {
  let db: TestDatabase;
  let store: Store;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = createPostgresStore({ connectionString: db.connectionString });
    await store.migrate();
    client = new pg.Client({ connectionString: db.connectionString });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await store.close();
    await db.drop();
  });

  const asRole = (part: string, sql: string): Promise<string> => asPartRole(client, db, part, sql);

  it('the core role changes only a job\'s state columns and never deletes a job; other parts cannot read them', async () => {
    expect(await asRole('core', "UPDATE core.export_jobs SET status = 'ready', closed_by = 'x', sha256 = 'y', watermark = 'z'")).toBe('ok');
    expect(await asRole('core', "UPDATE core.export_jobs SET recipient = 'age1x'")).toBe('42501');
    expect(await asRole('core', "UPDATE core.export_jobs SET requested_by = 'x'")).toBe('42501');
    expect(await asRole('core', "UPDATE core.export_jobs SET reason = '\\x00'")).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.export_jobs')).toBe('42501');
    expect(await asRole('core', 'DELETE FROM core.export_chunks')).toBe('ok');
    expect(await asRole('core', "UPDATE core.export_chunks SET data = '\\x00'")).toBe('42501');
    for (const part of ['clinical', 'identity', 'audit']) expect(await asRole(part, 'SELECT * FROM core.export_jobs')).toBe('42501');
    expect(await asRole('core', 'SELECT * FROM identity.persons')).toBe('42501');
  });
});
