/**
 * Contract cases for the clinical part and for commit() as a whole: versions and history,
 * unique tokens, and all-or-nothing batches (data and audit rows together).
 */
import { describe, expect, it } from 'vitest';
import {
  created, personRow, resourceRow, rid, updated, withoutPos,
} from '../support/store-fixtures.js';
import { testSealer } from '../support/test-sealer.js';
import type { ContractContext } from './contract.js';
import { expectCode } from './expect-code.js';

const noAudit = () => testSealer([]);
const entry = (tenant: string) => ({ time: '2026-01-10T09:00:00.000Z', action: 'C' as const, tenant });

export function describeResourceContract(ctx: ContractContext): void {
  describe('resources', () => {
    it('round-trips every field and assigns a numeric pos', async () => {
      const tenant = rid('org');
      const r = resourceRow(tenant, {
        type: 'Specimen', status: null, date: null, pseudonym: null, tokens: [rid('idx'), rid('idx')], uniqueTokens: [rid('bc')],
      });
      await ctx.store().commit({ persons: [], resources: [created(r)] }, noAudit());
      const got = await ctx.store().getResource(tenant, 'Specimen', r.id);
      expect(withoutPos(got)).toEqual(r);
      expect(Number.isSafeInteger(got?.pos)).toBe(true);
      expect(await ctx.store().getResource(tenant, 'Observation', r.id)).toBeNull();
      expect(await ctx.store().getResource(tenant, 'Specimen', rid('res'))).toBeNull();
    });

    it('keeps every version readable; a new version gets a larger pos', async () => {
      const tenant = rid('org');
      const v1 = resourceRow(tenant, { status: 'preliminary' });
      await ctx.store().commit({ persons: [], resources: [created(v1)] }, noAudit());
      const v2 = updated(v1, { status: 'final', tokens: [rid('idx')] });
      await ctx.store().commit({ persons: [], resources: [v2] }, noAudit());
      const v3 = updated(v2.row, { status: 'amended' });
      await ctx.store().commit({ persons: [], resources: [v3] }, noAudit());
      const s = ctx.store();
      const [h1, h2, h3] = await Promise.all([1, 2, 3].map((v) => s.getResource(tenant, v1.type, v1.id, v)));
      expect(withoutPos(h1 ?? null)).toEqual(v1);
      expect(withoutPos(h2 ?? null)).toEqual(v2.row);
      expect(withoutPos(h3 ?? null)).toEqual(v3.row);
      expect(withoutPos(await s.getResource(tenant, v1.type, v1.id))).toEqual(v3.row);
      expect(await s.getResource(tenant, v1.type, v1.id, 4)).toBeNull();
      expect(h1?.pos).toBeLessThan(h2?.pos as number);
      expect(h2?.pos).toBeLessThan(h3?.pos as number);
    });

    it('refuses a second create, a stale expectedVersion and an update of nothing', async () => {
      const tenant = rid('org');
      const r = resourceRow(tenant);
      await ctx.store().commit({ persons: [], resources: [created(r)] }, noAudit());
      await expectCode(ctx.store().commit({ persons: [], resources: [created(r)] }, noAudit()), 'ERR_CONFLICT', [r.id]);
      const v2 = updated(r);
      await ctx.store().commit({ persons: [], resources: [v2] }, noAudit());
      await expectCode(ctx.store().commit({ persons: [], resources: [updated(r)] }, noAudit()), 'ERR_CONFLICT');
      await expectCode(ctx.store().commit({ persons: [], resources: [updated(resourceRow(tenant))] }, noAudit()),
        'ERR_CONFLICT');
      expect(withoutPos(await ctx.store().getResource(tenant, r.type, r.id))).toEqual(v2.row);
    });

    it('two writers updating the same version: exactly one wins', async () => {
      const tenant = rid('org');
      const r = resourceRow(tenant);
      await ctx.store().commit({ persons: [], resources: [created(r)] }, noAudit());
      const results = await Promise.allSettled([updated(r), updated(r)].map((u) =>
        ctx.store().commit({ persons: [], resources: [u] }, testSealer([entry(tenant)]))));
      expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((x) => x.status === 'rejected');
      expect((lost as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_CONFLICT' });
      expect((await ctx.store().getResource(tenant, r.type, r.id))?.version).toBe(2);
      expect(await ctx.store().searchAudit({ tenant, limit: 10 })).toHaveLength(1);
    });

    it('refuses one resource twice in one batch', async () => {
      const tenant = rid('org');
      const r = resourceRow(tenant);
      await expectCode(ctx.store().commit({ persons: [], resources: [created(r), updated(r)] }, noAudit()), 'ERR_CONFLICT');
      expect(await ctx.store().getResource(tenant, r.type, r.id)).toBeNull();
    });
  });

  describe('unique tokens', () => {
    it('refuses a unique token held by another resource of the tenant', async () => {
      const tenant = rid('org');
      const barcode = rid('bc');
      const a = resourceRow(tenant, { type: 'Specimen', uniqueTokens: [barcode] });
      await ctx.store().commit({ persons: [], resources: [created(a)] }, noAudit());
      const b = resourceRow(tenant, { type: 'Specimen', uniqueTokens: [rid('bc'), barcode] });
      await expectCode(ctx.store().commit({ persons: [], resources: [created(b)] }, noAudit()), 'ERR_CONFLICT', [barcode]);
      // Another tenant may use the same barcode.
      const c = resourceRow(rid('org'), { type: 'Specimen', uniqueTokens: [barcode] });
      await ctx.store().commit({ persons: [], resources: [created(c)] }, noAudit());
    });

    it('lets the holder keep its token across versions and release it', async () => {
      const tenant = rid('org');
      const barcode = rid('bc');
      const a = resourceRow(tenant, { type: 'Specimen', uniqueTokens: [barcode] });
      await ctx.store().commit({ persons: [], resources: [created(a)] }, noAudit());
      const a2 = updated(a);
      await ctx.store().commit({ persons: [], resources: [a2] }, noAudit());
      const a3 = updated(a2.row, { uniqueTokens: [] });
      await ctx.store().commit({ persons: [], resources: [a3] }, noAudit());
      const b = resourceRow(tenant, { type: 'Specimen', uniqueTokens: [barcode] });
      await ctx.store().commit({ persons: [], resources: [created(b)] }, noAudit());
      expect((await ctx.store().getResource(tenant, 'Specimen', a.id, 1))?.uniqueTokens).toEqual([barcode]);
    });

    it('refuses two resources claiming one token in the same batch', async () => {
      const tenant = rid('org');
      const barcode = rid('bc');
      const a = resourceRow(tenant, { uniqueTokens: [barcode] });
      const b = resourceRow(tenant, { uniqueTokens: [barcode] });
      await expectCode(ctx.store().commit({ persons: [], resources: [created(a), created(b)] }, noAudit()), 'ERR_CONFLICT');
      expect(await ctx.store().getResource(tenant, a.type, a.id)).toBeNull();
    });
  });

  describe('commit is all or nothing', () => {
    it('a batch whose last item conflicts writes nothing, audit rows included', async () => {
      const tenant = rid('org');
      const existing = resourceRow(tenant);
      await ctx.store().commit({ persons: [], resources: [created(existing)] }, noAudit());
      const before = await ctx.store().auditHead();
      const person = personRow(tenant);
      const fresh = [resourceRow(tenant), resourceRow(tenant)];
      const sealer = testSealer([entry(tenant), entry(tenant)]);
      await expectCode(ctx.store().commit({
        persons: [created(person)],
        resources: [...fresh.map(created), created(existing)],
      }, sealer), 'ERR_CONFLICT');
      expect(await ctx.store().getPerson(tenant, person.pseudonym)).toBeNull();
      for (const r of fresh) expect(await ctx.store().getResource(tenant, r.type, r.id)).toBeNull();
      expect((await ctx.store().auditHead()).size).toBe(before.size);
      expect(await ctx.store().searchAudit({ tenant, limit: 10 })).toEqual([]);
    });

    it('a person conflict undoes the resources of the same batch', async () => {
      const tenant = rid('org');
      const p = personRow(tenant);
      await ctx.store().commit({ persons: [created(p)], resources: [] }, noAudit());
      const r = resourceRow(tenant, { uniqueTokens: [rid('bc')] });
      await expectCode(ctx.store().commit({ persons: [created(personRow(tenant, { bsnToken: p.bsnToken }))],
        resources: [created(r)] }, testSealer([entry(tenant)])), 'ERR_CONFLICT');
      expect(await ctx.store().getResource(tenant, r.type, r.id)).toBeNull();
      // The unique token was not left claimed.
      await ctx.store().commit({ persons: [], resources: [created(resourceRow(tenant, { uniqueTokens: r.uniqueTokens }))] },
        noAudit());
    });

    it('writes data and its audit rows together and returns the rows', async () => {
      const tenant = rid('org');
      const psn = rid('psn');
      const r = resourceRow(tenant, { pseudonym: psn });
      const rows = await ctx.store().commit({ persons: [created(personRow(tenant, { pseudonym: psn }))],
        resources: [created(r)] }, testSealer([{ ...entry(tenant), patients: [psn] }]));
      expect(rows).toHaveLength(1);
      expect(await ctx.store().readAudit(rows[0]?.seq as number, 1)).toEqual(rows);
      expect(await ctx.store().searchAudit({ patient: psn, limit: 5 })).toEqual(rows);
    });

    it('an empty batch only appends its audit rows', async () => {
      const before = await ctx.store().auditHead();
      const rows = await ctx.store().commit({ persons: [], resources: [] }, testSealer([entry(rid('org'))]));
      expect(rows.map((r) => r.seq)).toEqual([before.size]);
    });
  });
}
