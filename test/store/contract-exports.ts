/**
 * Contract cases for the exports part: a job round-trips; it is decided once, only while
 * requested and not expired; its run is claimed once and only the claiming run finishes it;
 * chunks are stored once per seq and deleted when the job ends (downloaded ones only when
 * dropped or left over); expiry ends requested, ready and stalled jobs; a tenant's people list
 * in pages. Cases share the store through fresh ids and tenants; expiry, which sees the whole
 * store, gets a store of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportJobRow, ExportResult, ExportStore } from '../../src/store/index.js';
import { created, personRow, rid, updated } from '../support/store-fixtures.js';
import { testSealer } from '../support/test-sealer.js';
import type { ContractContext, MadeStore } from './contract.js';
import { expectCode } from './expect-code.js';

const at = (time: string, day = '2026-05-04'): string => new Date(`${day}T${time}:00Z`).toISOString();

function job(overrides: Partial<ExportJobRow> = {}): ExportJobRow {
  return {
    id: rid('exp'), tenant: rid('org'), status: 'requested', view: 'released',
    scope: { from: at('00:00', '2026-01-01'), to: at('00:00', '2026-04-01'), types: ['Patient', 'DiagnosticReport'], identity: true },
    recipient: 'age1xu5ukw52rsns6zq8yuafff0sp2yq7mt5mtsnra3u63p8kedydcsqg8pnrs', recipientLabel: 'Screening organisation (synthetic)',
    purposeOfUse: 'PUBHLTH', reason: Buffer.from('sealed-reason-bytes'), requestedBy: rid('prn'), requestedRole: 'requester',
    requestedAt: at('09:00'), expiresAt: at('09:00', '2026-05-07'), decidedBy: null, decidedAt: null, runStartedAt: null, result: null,
    closedBy: null, closedAt: null, failure: null, ...overrides,
  };
}

function result(overrides: Partial<ExportResult> = {}): ExportResult {
  return {
    records: 12, patients: 3, bytes: 4096, sha256: 'ab'.repeat(32), watermark: `lkwm1.${rid('exp')}.1.tag`,
    readyAt: at('10:00'), downloadExpiresAt: at('10:00', '2026-05-05'), ...overrides,
  };
}

/** A job taken to 'ready' with `chunks` chunks stored. */
async function readyJob(x: ExportStore, chunks = 2, overrides: Partial<ExportResult> = {}): Promise<ExportJobRow> {
  const j = job();
  await x.insertJob(j);
  expect(await x.decideJob(j.id, 'approved', rid('prn'), at('09:30'))).toBe(true);
  expect(await x.claimRun(j.id, at('09:31'))).toBe(true);
  for (let i = 0; i < chunks; i++) await x.putChunk(j.id, i, Buffer.from(`chunk-${i}`));
  expect(await x.finishJob(j.id, at('09:31'), result(overrides))).toBe(true);
  return (await x.getJob(j.id))!;
}

export function describeExportContract(ctx: ContractContext): void {
  const ex = (): ExportStore => ctx.store().exports;

  describe('export jobs', () => {
    it('round-trips a requested job; a reused id is a conflict; only a fresh request inserts', async () => {
      const j = job({ scope: { from: null, to: null, types: ['Patient', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport'], identity: false }, view: 'full' });
      await ex().insertJob(j);
      expect(await ex().getJob(j.id)).toEqual(j);
      expect(await ex().getJob(rid('exp'))).toBeNull();
      await expectCode(ex().insertJob(job({ id: j.id })), 'ERR_CONFLICT', [j.id]);
      await expect(ex().insertJob(job({ status: 'approved' }))).rejects.toBeInstanceOf(TypeError);
      await expect(ex().insertJob(job({ decidedBy: rid('prn') }))).rejects.toBeInstanceOf(TypeError);
    });

    it('lists newest first, by tenant or all; the limit is checked', async () => {
      const t = rid('org');
      const older = job({ tenant: t, requestedAt: at('08:00', '2030-01-01') });
      const newer = job({ tenant: t, requestedAt: at('08:00', '2030-01-02') });
      const elsewhere = job({ requestedAt: at('08:00', '2030-01-03') });
      for (const j of [older, newer, elsewhere]) await ex().insertJob(j);
      expect((await ex().listJobs({ tenants: [t], limit: 10 })).map((r) => r.id)).toEqual([newer.id, older.id]);
      expect((await ex().listJobs({ tenants: [t, elsewhere.tenant], limit: 10 })).map((r) => r.id)).toEqual([elsewhere.id, newer.id, older.id]);
      expect((await ex().listJobs({ tenants: [rid('org')], limit: 10 }))).toEqual([]);
      const all = await ex().listJobs({ tenants: null, limit: 1000 });
      expect(all.map((r) => r.id).slice(0, 3)).toEqual([elsewhere.id, newer.id, older.id]);
      await expect(ex().listJobs({ tenants: null, limit: 0 })).rejects.toBeInstanceOf(TypeError);
      await expect(ex().listJobs({ tenants: null, limit: 1001 })).rejects.toBeInstanceOf(TypeError);
    });

    it('decides a job once, only while requested and before it expires', async () => {
      const j = job();
      await ex().insertJob(j);
      const approver = rid('prn');
      expect(await ex().decideJob(j.id, 'approved', approver, j.expiresAt)).toBe(false); // at the deadline: expired
      expect((await ex().getJob(j.id))?.status).toBe('requested');
      expect(await ex().decideJob(j.id, 'approved', approver, at('09:30'))).toBe(true);
      expect(await ex().decideJob(j.id, 'rejected', rid('prn'), at('09:31'))).toBe(false);
      expect(await ex().getJob(j.id)).toMatchObject({ status: 'approved', decidedBy: approver, decidedAt: at('09:30') });
      expect(await ex().decideJob(rid('exp'), 'approved', approver, at('09:30'))).toBe(false);

      const r = job();
      await ex().insertJob(r);
      const [a, b] = await Promise.all([ex().decideJob(r.id, 'rejected', approver, at('09:30')), ex().decideJob(r.id, 'cancelled', r.requestedBy, at('09:30'))]);
      expect([a, b].filter(Boolean)).toHaveLength(1);
      expect(['rejected', 'cancelled']).toContain((await ex().getJob(r.id))?.status);
      await expect(ex().decideJob(r.id, 'ready' as 'approved', approver, at('09:30'))).rejects.toBeInstanceOf(TypeError);
    });

    it('claims a run once, and only that run finishes the job; nothing else finishes', async () => {
      const j = job();
      await ex().insertJob(j);
      expect(await ex().claimRun(j.id, at('09:31'))).toBe(false); // not approved yet
      await ex().decideJob(j.id, 'approved', rid('prn'), at('09:30'));
      const claims = await Promise.all([ex().claimRun(j.id, at('09:31')), ex().claimRun(j.id, at('09:32'))]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      const claimedAt = (await ex().getJob(j.id))!.runStartedAt!;
      const other = claimedAt === at('09:31') ? at('09:32') : at('09:31');
      expect(await ex().finishJob(j.id, other, result())).toBe(false);
      const r = result();
      expect(await ex().finishJob(j.id, claimedAt, r)).toBe(true);
      expect(await ex().finishJob(j.id, claimedAt, r)).toBe(false);
      expect(await ex().getJob(j.id)).toMatchObject({ status: 'ready', result: r });
      await expect(ex().finishJob(j.id, claimedAt, result({ sha256: 'xyz' }))).rejects.toBeInstanceOf(TypeError);
      await expect(ex().finishJob(j.id, claimedAt, result({ records: -1 }))).rejects.toBeInstanceOf(TypeError);
    });

    it('stores each chunk once and reads it back; bad chunks are misuse', async () => {
      const j = job();
      await ex().insertJob(j);
      const data = Buffer.from([0, 1, 2, 250, 255]);
      await ex().putChunk(j.id, 0, data);
      expect(await ex().readChunk(j.id, 0)).toEqual(data);
      expect(await ex().readChunk(j.id, 1)).toBeNull();
      await expectCode(ex().putChunk(j.id, 0, Buffer.from('again')), 'ERR_CONFLICT');
      await expect(ex().putChunk(j.id, -1, data)).rejects.toBeInstanceOf(TypeError);
      await expect(ex().putChunk(j.id, 1, Buffer.alloc(0))).rejects.toBeInstanceOf(TypeError);
      expect(await ex().dropChunks(j.id)).toBe(1);
      expect(await ex().readChunk(j.id, 0)).toBeNull();
    });

    it('a download ends a ready job once and keeps its chunks until dropped; a cancel deletes them', async () => {
      const x = ex();
      const d = await readyJob(x);
      const by = rid('prn');
      const [first, second] = await Promise.all([x.closeJob(d.id, 'downloaded', by, at('11:00')), x.closeJob(d.id, 'downloaded', by, at('11:00'))]);
      expect([first, second].filter(Boolean)).toHaveLength(1);
      expect(await x.getJob(d.id)).toMatchObject({ status: 'downloaded', closedBy: by, closedAt: at('11:00') });
      expect(await x.readChunk(d.id, 1)).toEqual(Buffer.from('chunk-1'));
      expect(await x.closeJob(d.id, 'cancelled', by, at('11:01'))).toBe(false);
      expect(await x.dropChunks(d.id)).toBe(2);

      const c = await readyJob(x);
      expect(await x.closeJob(c.id, 'cancelled', by, at('11:00'))).toBe(true);
      expect(await x.getJob(c.id)).toMatchObject({ status: 'cancelled', closedBy: by });
      expect(await x.readChunk(c.id, 0)).toBeNull();

      const late = await readyJob(x);
      expect(await x.closeJob(late.id, 'downloaded', by, late.result!.downloadExpiresAt)).toBe(false); // expired
      expect((await x.getJob(late.id))?.status).toBe('ready');
      await expect(x.closeJob(late.id, 'expired' as 'cancelled', by, at('11:00'))).rejects.toBeInstanceOf(TypeError);
    });

    it('a failed run deletes its chunks; only an approved job fails', async () => {
      const j = job();
      await ex().insertJob(j);
      expect(await ex().failJob(j.id, 'ERR_STORE', at('09:40'))).toBe(false);
      await ex().decideJob(j.id, 'approved', rid('prn'), at('09:30'));
      await ex().claimRun(j.id, at('09:31'));
      await ex().putChunk(j.id, 0, Buffer.from('partial'));
      expect(await ex().failJob(j.id, 'ERR_STORE', at('09:40'))).toBe(true);
      expect(await ex().getJob(j.id)).toMatchObject({ status: 'failed', failure: 'ERR_STORE', closedAt: at('09:40') });
      expect(await ex().readChunk(j.id, 0)).toBeNull();
      expect(await ex().failJob(j.id, 'ERR_STORE', at('09:41'))).toBe(false);
    });
  });

  describe('export expiry', () => {
    let made: MadeStore | null = null;
    const x = (): ExportStore => {
      if (made === null) throw new Error('store not ready');
      return made.store.exports;
    };
    beforeAll(async () => {
      made = await ctx.fresh();
    });
    afterAll(async () => {
      await made?.cleanup();
    });

    it('ends requested and ready jobs past their deadlines and stalled runs, and deletes what they leave', async () => {
      const requested = job({ expiresAt: at('12:00') });
      const waiting = job({ expiresAt: at('18:00') });
      for (const j of [requested, waiting]) await x().insertJob(j);
      const ready = await readyJob(x(), 1, { downloadExpiresAt: at('12:00') });
      const fresh = await readyJob(x(), 1, { downloadExpiresAt: at('18:00') });
      const downloaded = await readyJob(x(), 1, { downloadExpiresAt: at('18:00') });
      await x().closeJob(downloaded.id, 'downloaded', rid('prn'), at('11:00'));
      const stalled = job();
      await x().insertJob(stalled);
      await x().decideJob(stalled.id, 'approved', rid('prn'), at('09:30'));
      await x().claimRun(stalled.id, at('09:31'));
      await x().putChunk(stalled.id, 0, Buffer.from('half'));
      const orphan = job(); // approved, but its node stopped before it claimed the run
      await x().insertJob(orphan);
      await x().decideJob(orphan.id, 'approved', rid('prn'), at('09:30'));

      // At noon, with runs and downloads older than 10:00 counted as stalled: nothing yet.
      expect(await x().expireJobs(at('11:59'), at('09:00'))).toBe(0);
      expect(await x().expireJobs(at('12:00'), at('10:00'))).toBe(4);
      expect(await x().getJob(orphan.id)).toMatchObject({ status: 'failed', failure: 'interrupted' });
      expect(await x().getJob(requested.id)).toMatchObject({ status: 'expired', closedAt: at('12:00') });
      expect(await x().getJob(ready.id)).toMatchObject({ status: 'expired', closedAt: at('12:00') });
      expect(await x().readChunk(ready.id, 0)).toBeNull();
      expect(await x().getJob(stalled.id)).toMatchObject({ status: 'failed', failure: 'interrupted' });
      expect(await x().readChunk(stalled.id, 0)).toBeNull();
      expect((await x().getJob(waiting.id))?.status).toBe('requested');
      expect((await x().getJob(fresh.id))?.status).toBe('ready');
      expect(await x().readChunk(fresh.id, 0)).not.toBeNull();
      // The download ended at 11:00: its chunks stay while it may still be streaming.
      expect(await x().readChunk(downloaded.id, 0)).not.toBeNull();
      expect(await x().expireJobs(at('12:05'), at('11:30'))).toBe(0);
      expect(await x().readChunk(downloaded.id, 0)).toBeNull();
      expect((await x().getJob(downloaded.id))?.status).toBe('downloaded');
    });
  });

  describe('export people listing', () => {
    it("lists a tenant's current people by pseudonym, in pages, and no other tenant's", async () => {
      const store = ctx.store();
      const t = rid('org');
      const rows = Array.from({ length: 5 }, () => personRow(t));
      const other = personRow(rid('org'));
      await store.commit({ persons: [...rows, other].map(created), resources: [] }, testSealer([{ time: at('08:00'), tenant: t }]));
      const changed = rows[2]!;
      await store.commit({ persons: [updated(changed)], resources: [] }, testSealer([{ time: at('08:01'), tenant: t }]));
      const sorted = rows.map((r) => r.pseudonym).sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
      const first = await ex().listPersons(t, null, 3);
      expect(first.map((r) => r.pseudonym)).toEqual(sorted.slice(0, 3));
      const rest = await ex().listPersons(t, first[2]!.pseudonym, 3);
      expect(rest.map((r) => r.pseudonym)).toEqual(sorted.slice(3));
      const listed = [...first, ...rest].find((r) => r.pseudonym === changed.pseudonym)!;
      expect(listed.version).toBe(2); // the current version only, once
      expect(await ex().listPersons(rid('org'), null, 10)).toEqual([]);
      await expect(ex().listPersons(t, null, 0)).rejects.toBeInstanceOf(TypeError);
    });
  });
}
