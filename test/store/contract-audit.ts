/**
 * Contract cases for the audit log: contiguous appends under the head lock, a head that
 * extends the RFC 6962 tree, searchAudit filters, checkpoints, and sealers that fail.
 */
import { describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/store/index.js';
import { created, resourceRow, rid } from '../support/store-fixtures.js';
import {
  chainMac, frontierRoot, merkleRoot, skippingSealer, testSealer, throwingSealer,
} from '../support/test-sealer.js';
import type { ContractContext } from './contract.js';
import { expectCode } from './expect-code.js';

const at = (minute: number): string => `2026-01-10T09:${String(minute).padStart(2, '0')}:00.000Z`;

export function describeAuditContract(ctx: ContractContext): void {
  describe('audit log', () => {
    it('appends contiguously from the head and stores the head the sealer returns', async () => {
      const before = await ctx.store().auditHead();
      const sealer = testSealer([{ time: at(0) }, { time: at(1) }, { time: at(2) }]);
      const rows = await ctx.store().appendAudit(sealer);
      expect(sealer.calls).toBe(1);
      expect(rows.map((r) => r.seq)).toEqual([before.size, before.size + 1, before.size + 2]);
      const head = await ctx.store().auditHead();
      expect(head.size).toBe(before.size + 3);
      expect(head.lastMac).toEqual(rows[2]?.mac);
      expect(frontierRoot(head.frontier)).toEqual(rows[2]?.rootAfter);
      expect(await ctx.store().readAudit(before.size, 10)).toEqual(rows);
    });

    it('keeps a tree and mac chain that verify from the first entry', async () => {
      await ctx.store().appendAudit(testSealer([{ time: at(3) }]));
      const head = await ctx.store().auditHead();
      const all: AuditRow[] = [];
      while (all.length < head.size) all.push(...(await ctx.store().readAudit(all.length, 50)));
      expect(all.map((r) => r.seq)).toEqual(Array.from({ length: head.size }, (_, i) => i));
      let mac: Buffer | null = null;
      all.forEach((row, i) => {
        mac = chainMac(mac, row.leafHash);
        expect(row.mac).toEqual(mac);
        expect(row.rootAfter).toEqual(merkleRoot(all.slice(0, i + 1).map((r) => r.leafHash)));
      });
      expect(frontierRoot(head.frontier)).toEqual(merkleRoot(all.map((r) => r.leafHash)));
    });

    it('concurrent appends on one store stay contiguous', async () => {
      const before = await ctx.store().auditHead();
      const batches = await Promise.all(Array.from({ length: 12 }, (_, i) =>
        ctx.store().appendAudit(testSealer(Array.from({ length: 1 + (i % 3) }, () => ({ time: at(4) }))))));
      const seqs = batches.flat().map((r) => r.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => before.size + i));
      expect((await ctx.store().auditHead()).size).toBe(before.size + seqs.length);
    });

    it('readAudit pages by seq', async () => {
      const rows = await ctx.store().appendAudit(testSealer([{ time: at(5) }, { time: at(5) }, { time: at(5) }]));
      const start = rows[0]?.seq as number;
      expect(await ctx.store().readAudit(start + 1, 1)).toEqual([rows[1]]);
      expect(await ctx.store().readAudit(start + 3, 5)).toEqual([]);
    });

    it('searchAudit filters by patient, principal, tenant, time range and afterSeq', async () => {
      const [tenant, other, psn, prn] = [rid('org'), rid('org'), rid('psn'), rid('prn')];
      const rows = await ctx.store().appendAudit(testSealer([
        { time: at(10), tenant, principalId: prn, patients: [psn, rid('psn')] },
        { time: at(11), tenant, principalId: rid('prn'), patients: [psn, psn] },
        { time: at(12), tenant: other, principalId: prn, patients: [] },
        { time: at(13), tenant, principalId: prn, patients: [rid('psn')], action: 'E' },
      ]));
      const [r0, r1, r2, r3] = rows;
      const s = ctx.store();
      expect(await s.searchAudit({ patient: psn, limit: 10 })).toEqual([r0, r1]);
      expect(await s.searchAudit({ principalId: prn, limit: 10 })).toEqual([r0, r2, r3]);
      expect(await s.searchAudit({ tenant, limit: 10 })).toEqual([r0, r1, r3]);
      expect(await s.searchAudit({ tenant, principalId: prn, from: at(11), to: at(13), limit: 10 })).toEqual([]);
      expect(await s.searchAudit({ principalId: prn, from: at(11), to: at(13), limit: 10 })).toEqual([r2]);
      expect(await s.searchAudit({ principalId: prn, afterSeq: r0?.seq, limit: 1 })).toEqual([r2]);
      expect(await s.searchAudit({ patient: psn, tenant: other, limit: 10 })).toEqual([]);
      expect(await s.searchAudit({ patient: rid('psn'), limit: 10 })).toEqual([]);
      expect(r1?.patients).toEqual([psn, psn]); // stored as given; indexed once
    });

    it('a sealer that throws fails the append and writes nothing', async () => {
      const before = await ctx.store().auditHead();
      await expect(ctx.store().appendAudit(throwingSealer())).rejects.toThrow('sealer unavailable');
      expect(await ctx.store().auditHead()).toEqual(before);
    });

    it('a sealer that throws fails the commit and writes none of its data', async () => {
      const tenant = rid('org');
      const r = resourceRow(tenant, { uniqueTokens: [rid('bc')] });
      const before = await ctx.store().auditHead();
      await expect(ctx.store().commit({ persons: [], resources: [created(r)] }, throwingSealer()))
        .rejects.toThrow('sealer unavailable');
      expect(await ctx.store().getResource(tenant, r.type, r.id)).toBeNull();
      expect(await ctx.store().auditHead()).toEqual(before);
      await ctx.store().commit({ persons: [], resources: [created(r)] }, testSealer([]));
    });

    it('rows that do not continue the head are refused with ERR_INTEGRITY', async () => {
      const before = await ctx.store().auditHead();
      await expectCode(ctx.store().appendAudit(skippingSealer()), 'ERR_INTEGRITY');
      expect(await ctx.store().auditHead()).toEqual(before);
      expect(await ctx.store().readAudit(before.size, 5)).toEqual([]);
    });
  });

  describe('checkpoints', () => {
    it('stores one per size (the first), listed by size', async () => {
      const head = await ctx.store().auditHead();
      const size = head.size + 1000; // above any size other cases reach
      const first = { size: size + 1, root: Buffer.alloc(32, 0xa1), note: 'synthetic-note-1\n', createdAt: at(20) };
      const earlier = { size, root: Buffer.alloc(32, 0xa2), note: 'synthetic-note-0\n', createdAt: at(21) };
      await ctx.store().insertCheckpoint(first);
      await ctx.store().insertCheckpoint(earlier);
      await ctx.store().insertCheckpoint({ ...first, note: 'synthetic-note-again\n' }); // same root again: fine, first kept
      const listed = (await ctx.store().listCheckpoints()).filter((c) => c.size >= size);
      expect(listed).toEqual([earlier, first]);
    });

    it('refuses a second checkpoint for a size with another root: that is a fork', async () => {
      const size = (await ctx.store().auditHead()).size + 2000;
      const cp = { size, root: Buffer.alloc(32, 0xb1), note: 'synthetic-note-b\n', createdAt: at(22) };
      await ctx.store().insertCheckpoint(cp);
      await expectCode(ctx.store().insertCheckpoint({ ...cp, root: Buffer.alloc(32, 0xff) }), 'ERR_INTEGRITY');
      expect((await ctx.store().listCheckpoints()).filter((c) => c.size === size)).toEqual([cp]);
    });
  });
}
