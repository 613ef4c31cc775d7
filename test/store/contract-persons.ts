/** Contract cases for the identity part: persons, versions, the BSN blind index. */
import { describe, expect, it } from 'vitest';
import { created, personRow, rid, updated } from '../support/store-fixtures.js';
import { testSealer } from '../support/test-sealer.js';
import type { ContractContext } from './contract.js';
import { expectCode } from './expect-code.js';

const noAudit = () => testSealer([]);

export function describePersonContract(ctx: ContractContext): void {
  describe('persons', () => {
    it('round-trips a person and finds it by BSN token', async () => {
      const tenant = rid('org');
      const p = personRow(tenant);
      await ctx.store().commit({ persons: [created(p)], resources: [] }, noAudit());
      expect(await ctx.store().getPerson(tenant, p.pseudonym)).toEqual(p);
      expect(await ctx.store().findPersonsByBsn(tenant, p.bsnToken as string)).toEqual([p]);
      expect(await ctx.store().getPerson(tenant, rid('psn'))).toBeNull();
      expect(await ctx.store().findPersonsByBsn(tenant, rid('bsnidx'))).toEqual([]);
    });

    it('updates to a new current version; the BSN index follows the current version', async () => {
      const tenant = rid('org');
      const v1 = personRow(tenant);
      await ctx.store().commit({ persons: [created(v1)], resources: [] }, noAudit());
      const v2 = updated(v1, { bsnToken: rid('bsnidx') });
      await ctx.store().commit({ persons: [v2], resources: [] }, noAudit());
      expect(await ctx.store().getPerson(tenant, v1.pseudonym)).toEqual(v2.row);
      expect(await ctx.store().findPersonsByBsn(tenant, v1.bsnToken as string)).toEqual([]);
      expect(await ctx.store().findPersonsByBsn(tenant, v2.row.bsnToken as string)).toEqual([v2.row]);
      // The released token can now be taken by another person.
      const other = personRow(tenant, { bsnToken: v1.bsnToken });
      await ctx.store().commit({ persons: [created(other)], resources: [] }, noAudit());
      expect(await ctx.store().findPersonsByBsn(tenant, v1.bsnToken as string)).toEqual([other]);
    });

    it('keeps the BSN token across versions without conflicting with itself', async () => {
      const tenant = rid('org');
      const v1 = personRow(tenant);
      await ctx.store().commit({ persons: [created(v1)], resources: [] }, noAudit());
      const v2 = updated(v1);
      await ctx.store().commit({ persons: [v2], resources: [] }, noAudit());
      const v3 = updated(v2.row);
      await ctx.store().commit({ persons: [v3], resources: [] }, noAudit());
      expect(await ctx.store().findPersonsByBsn(tenant, v1.bsnToken as string)).toEqual([v3.row]);
    });

    it('refuses a second create, a stale version and an update of nothing', async () => {
      const tenant = rid('org');
      const p = personRow(tenant);
      await ctx.store().commit({ persons: [created(p)], resources: [] }, noAudit());
      await expectCode(ctx.store().commit({ persons: [created({ ...p, bsnToken: null })], resources: [] }, noAudit()),
        'ERR_CONFLICT', [p.pseudonym]);
      const v2 = updated(p);
      await ctx.store().commit({ persons: [v2], resources: [] }, noAudit());
      await expectCode(ctx.store().commit({ persons: [updated(p)], resources: [] }, noAudit()), 'ERR_CONFLICT');
      await expectCode(ctx.store().commit({ persons: [updated(personRow(tenant))], resources: [] }, noAudit()),
        'ERR_CONFLICT');
      expect(await ctx.store().getPerson(tenant, p.pseudonym)).toEqual(v2.row);
    });

    it('refuses a duplicate (tenant, bsnToken) and allows many persons without one', async () => {
      const tenant = rid('org');
      const p = personRow(tenant);
      await ctx.store().commit({ persons: [created(p)], resources: [] }, noAudit());
      const twin = personRow(tenant, { bsnToken: p.bsnToken });
      await expectCode(ctx.store().commit({ persons: [created(twin)], resources: [] }, noAudit()),
        'ERR_CONFLICT', [p.bsnToken as string]);
      expect(await ctx.store().getPerson(tenant, twin.pseudonym)).toBeNull();
      const anonymous = [personRow(tenant, { bsnToken: null }), personRow(tenant, { bsnToken: null })];
      await ctx.store().commit({ persons: anonymous.map(created), resources: [] }, noAudit());
      expect(await ctx.store().getPerson(tenant, anonymous[1]?.pseudonym as string)).toEqual(anonymous[1]);
      // The same token in another tenant is another person.
      const elsewhere = personRow(rid('org'), { bsnToken: p.bsnToken });
      await ctx.store().commit({ persons: [created(elsewhere)], resources: [] }, noAudit());
    });

    it('rejects a version that does not follow expectedVersion as misuse', async () => {
      const tenant = rid('org');
      const p = personRow(tenant);
      await expect(ctx.store().commit({ persons: [created({ ...p, version: 2 })], resources: [] }, noAudit()))
        .rejects.toThrow(TypeError);
      await expect(ctx.store().commit({ persons: [{ row: { ...p, version: 3 }, expectedVersion: 1 }], resources: [] },
        noAudit())).rejects.toThrow(TypeError);
    });
  });
}
