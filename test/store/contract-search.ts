/**
 * Contract cases for searchResources: each filter alone, their combination, keyset paging,
 * current versions only, and tenant isolation (the same ids in two tenants never mix).
 */
import { describe, expect, it } from 'vitest';
import type { ResourceRow, Store } from '../../src/store/index.js';
import { created, personRow, resourceRow, rid, updated } from '../support/store-fixtures.js';
import { testSealer } from '../support/test-sealer.js';
import type { ContractContext } from './contract.js';

const noAudit = () => testSealer([]);

async function put(store: Store, rows: ResourceRow[]): Promise<void> {
  await store.commit({ persons: [], resources: rows.map(created) }, noAudit());
}

const ids = (rows: readonly ResourceRow[]): string[] => rows.map((r) => r.id);

export function describeSearchContract(ctx: ContractContext): void {
  describe('searchResources', () => {
    it('filters by tenant and type and orders by pos', async () => {
      const tenant = rid('org');
      const obs = [resourceRow(tenant), resourceRow(tenant), resourceRow(tenant)];
      await put(ctx.store(), [...obs, resourceRow(tenant, { type: 'Specimen' }), resourceRow(rid('org'))]);
      const found = await ctx.store().searchResources({ tenant, type: 'Observation', limit: 10 });
      expect(ids(found)).toEqual(ids(obs));
      expect(found.map((r) => r.pos)).toEqual([...found.map((r) => r.pos)].sort((a, b) => (a ?? 0) - (b ?? 0)));
    });

    it('returns current versions only, matched on their current tokens', async () => {
      const tenant = rid('org');
      const oldToken = rid('idx');
      const v1 = resourceRow(tenant, { tokens: [oldToken], status: 'preliminary' });
      await put(ctx.store(), [v1]);
      const v2 = updated(v1, { tokens: [rid('idx')], status: 'final' });
      await ctx.store().commit({ persons: [], resources: [v2] }, noAudit());
      const all = await ctx.store().searchResources({ tenant, type: 'Observation', limit: 10 });
      expect(all.map((r) => r.version)).toEqual([2]);
      expect(await ctx.store().searchResources({ tenant, type: 'Observation', tokens: [[oldToken]], limit: 10 })).toEqual([]);
      expect(await ctx.store().searchResources({ tenant, type: 'Observation', statuses: ['preliminary'], limit: 10 }))
        .toEqual([]);
    });

    it('matches any of the pseudonyms; an empty list matches nothing', async () => {
      const tenant = rid('org');
      const [a, b, c] = [resourceRow(tenant), resourceRow(tenant), resourceRow(tenant, { pseudonym: null })];
      await put(ctx.store(), [a, b, c]);
      const q = { tenant, type: 'Observation' as const, limit: 10 };
      expect(ids(await ctx.store().searchResources({ ...q, pseudonyms: [a.pseudonym as string, rid('psn')] }))).toEqual([a.id]);
      expect(ids(await ctx.store().searchResources({ ...q, pseudonyms: [b.pseudonym as string, a.pseudonym as string] })))
        .toEqual([a.id, b.id]);
      expect(await ctx.store().searchResources({ ...q, pseudonyms: [] })).toEqual([]);
    });

    it('ANDs token groups and ORs tokens within a group', async () => {
      const tenant = rid('org');
      const [code1, code2, device] = [rid('code'), rid('code'), rid('dev')];
      const a = resourceRow(tenant, { tokens: [code1, device] });
      const b = resourceRow(tenant, { tokens: [code2, device] });
      const c = resourceRow(tenant, { tokens: [code1] });
      await put(ctx.store(), [a, b, c]);
      const q = { tenant, type: 'Observation' as const, limit: 10 };
      expect(ids(await ctx.store().searchResources({ ...q, tokens: [[code1]] }))).toEqual([a.id, c.id]);
      expect(ids(await ctx.store().searchResources({ ...q, tokens: [[code1, code2]] }))).toEqual([a.id, b.id, c.id]);
      expect(ids(await ctx.store().searchResources({ ...q, tokens: [[code1, code2], [device]] }))).toEqual([a.id, b.id]);
      expect(ids(await ctx.store().searchResources({ ...q, tokens: [[code1], [device]] }))).toEqual([a.id]);
      expect(await ctx.store().searchResources({ ...q, tokens: [[code2], [rid('dev')]] })).toEqual([]);
      expect(await ctx.store().searchResources({ ...q, tokens: [[]] })).toEqual([]);
      expect(await ctx.store().searchResources({ ...q, tokens: [] })).toHaveLength(3);
    });

    it('matches any of the statuses and a half-open date range', async () => {
      const tenant = rid('org');
      const rows = [
        resourceRow(tenant, { status: 'final', date: '2026-01-01' }),
        resourceRow(tenant, { status: 'amended', date: '2026-01-15' }),
        resourceRow(tenant, { status: 'preliminary', date: '2026-02-01' }),
        resourceRow(tenant, { status: null, date: null }),
      ];
      await put(ctx.store(), rows);
      const [jan1, jan15, feb1] = rows;
      const q = { tenant, type: 'Observation' as const, limit: 10 };
      expect(ids(await ctx.store().searchResources({ ...q, statuses: ['final', 'amended'] }))).toEqual([jan1?.id, jan15?.id]);
      expect(await ctx.store().searchResources({ ...q, statuses: [] })).toEqual([]);
      expect(ids(await ctx.store().searchResources({ ...q, dateFrom: '2026-01-01', dateTo: '2026-02-01' })))
        .toEqual([jan1?.id, jan15?.id]);
      expect(ids(await ctx.store().searchResources({ ...q, dateFrom: '2026-01-02' }))).toEqual([jan15?.id, feb1?.id]);
      expect(ids(await ctx.store().searchResources({ ...q, dateTo: '2026-01-15' }))).toEqual([jan1?.id]);
      expect(ids(await ctx.store().searchResources({ ...q, statuses: ['preliminary', 'final'], dateFrom: '2026-01-10' })))
        .toEqual([feb1?.id]);
    });

    it('pages with afterPos and limit through every row exactly once', async () => {
      const tenant = rid('org');
      const rows = Array.from({ length: 7 }, () => resourceRow(tenant, { type: 'DiagnosticReport' }));
      await put(ctx.store(), rows);
      const seen: string[] = [];
      let afterPos: number | undefined;
      for (let page = 0; page < 10; page++) {
        const got = await ctx.store().searchResources({ tenant, type: 'DiagnosticReport', limit: 3, afterPos });
        if (got.length === 0) break;
        expect(got.length).toBeLessThanOrEqual(3);
        seen.push(...ids(got));
        afterPos = got[got.length - 1]?.pos;
      }
      expect(seen).toEqual(ids(rows));
      expect(await ctx.store().searchResources({ tenant, type: 'DiagnosticReport', limit: 0 })).toEqual([]);
    });

    it('rejects a negative or fractional limit as misuse', async () => {
      await expect(ctx.store().searchResources({ tenant: rid('org'), type: 'Observation', limit: -1 })).rejects.toThrow(TypeError);
      await expect(ctx.store().searchResources({ tenant: rid('org'), type: 'Observation', limit: 1.5 })).rejects.toThrow(TypeError);
    });
  });

  describe('tenant isolation', () => {
    it('the same ids, pseudonyms and tokens in two tenants never mix', async () => {
      const [t1, t2] = [rid('org'), rid('org')];
      const shared = { id: rid('res'), pseudonym: rid('psn'), tokens: [rid('idx')], uniqueTokens: [rid('bc')] };
      const r1 = resourceRow(t1, shared);
      const r2 = resourceRow(t2, shared);
      const p1 = personRow(t1, { pseudonym: shared.pseudonym });
      const p2 = personRow(t2, { pseudonym: shared.pseudonym, bsnToken: p1.bsnToken });
      await ctx.store().commit({ persons: [created(p1), created(p2)], resources: [created(r1), created(r2)] }, noAudit());
      expect((await ctx.store().getResource(t1, 'Observation', shared.id))?.body).toEqual(r1.body);
      expect((await ctx.store().getResource(t2, 'Observation', shared.id))?.body).toEqual(r2.body);
      expect(await ctx.store().getPerson(t2, shared.pseudonym)).toEqual(p2);
      expect(await ctx.store().findPersonsByBsn(t1, p1.bsnToken as string)).toEqual([p1]);
      const q = { type: 'Observation' as const, pseudonyms: [shared.pseudonym], tokens: [shared.tokens], limit: 10 };
      const found1 = await ctx.store().searchResources({ ...q, tenant: t1 });
      expect(found1.map((r) => [r.tenant, r.body])).toEqual([[t1, r1.body]]);
      // Updating one tenant's copy leaves the other's untouched.
      await ctx.store().commit({ persons: [], resources: [updated(r1, { tokens: [] })] }, noAudit());
      expect((await ctx.store().getResource(t2, 'Observation', shared.id))?.version).toBe(1);
      expect(ids(await ctx.store().searchResources({ ...q, tenant: t2 }))).toEqual([shared.id]);
    });
  });
}
