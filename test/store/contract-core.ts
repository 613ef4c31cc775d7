/** Contract cases for the core part: tenants, principals, API tokens, data keys, lifecycle. */
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  apiTokenRow, created, dataKeyRow, principalRow, resourceRow, rid, T0, tenantRow,
} from '../support/store-fixtures.js';
import { testSealer } from '../support/test-sealer.js';
import type { ContractContext } from './contract.js';
import { expectCode } from './expect-code.js';

export function describeCoreContract(ctx: ContractContext): void {
  describe('lifecycle', () => {
    it('migrate() is idempotent', async () => {
      await ctx.store().migrate();
      await ctx.store().migrate();
      expect(await ctx.store().auditHead()).toHaveProperty('size');
    });
    it('a closed store fails with ERR_STORE, not a driver error', async () => {
      const { store, cleanup } = await ctx.fresh();
      await store.close();
      await expectCode(store.getTenant('org-x'), 'ERR_STORE');
      await cleanup();
    });
  });

  describe('tenants', () => {
    it('round-trips and lists', async () => {
      const a = tenantRow({ kind: 'gp-practice' });
      const b = tenantRow({ kind: 'screening' });
      await ctx.store().insertTenant(a);
      await ctx.store().insertTenant(b);
      expect(await ctx.store().getTenant(a.id)).toEqual(a);
      expect(await ctx.store().getTenant(rid('org'))).toBeNull();
      const all = await ctx.store().listTenants();
      expect(all).toContainEqual(a);
      expect(all).toContainEqual(b);
    });
    it('creates tenants in a commit, atomically with the rest of the batch', async () => {
      const t = tenantRow();
      await ctx.store().commit({ tenants: [t], persons: [], resources: [created(resourceRow(t.id))] }, testSealer([]));
      expect(await ctx.store().getTenant(t.id)).toEqual(t);
      const u = tenantRow();
      const clash = resourceRow(t.id);
      await ctx.store().commit({ persons: [], resources: [created(clash)] }, testSealer([]));
      // The tenant is new but a resource in the batch conflicts: neither is written.
      await expectCode(ctx.store().commit({ tenants: [u], persons: [], resources: [created(clash)] }, testSealer([])), 'ERR_CONFLICT');
      expect(await ctx.store().getTenant(u.id)).toBeNull();
      await expectCode(ctx.store().commit({ tenants: [t], persons: [], resources: [] }, testSealer([])), 'ERR_CONFLICT');
    });
    it('refuses a duplicate id with ERR_CONFLICT', async () => {
      const a = tenantRow();
      await ctx.store().insertTenant(a);
      await expectCode(ctx.store().insertTenant({ ...a, name: rid('other') }), 'ERR_CONFLICT', [a.id]);
    });
  });

  describe('principals and API tokens', () => {
    it('round-trips a principal and toggles disabled', async () => {
      const p = principalRow({ role: 'instrument', kind: 'service', instrument: rid('dev'), tenants: [rid('org'), rid('org')] });
      await ctx.store().insertPrincipal(p);
      expect(await ctx.store().getPrincipal(p.id)).toEqual({ ...p, contained: false });
      await ctx.store().setPrincipalDisabled(p.id, true);
      expect((await ctx.store().getPrincipal(p.id))?.disabled).toBe(true);
      await ctx.store().setPrincipalDisabled(p.id, false);
      expect((await ctx.store().getPrincipal(p.id))?.disabled).toBe(false);
      expect(await ctx.store().getPrincipal(rid('prn'))).toBeNull();
    });
    it('refuses a duplicate principal and reports unknown ids', async () => {
      const p = principalRow();
      await ctx.store().insertPrincipal(p);
      await expectCode(ctx.store().insertPrincipal(p), 'ERR_CONFLICT');
      await expectCode(ctx.store().setPrincipalDisabled(rid('prn'), true), 'ERR_NOT_FOUND');
    });
    it('round-trips a token; the first revocation time stands', async () => {
      const p = principalRow();
      await ctx.store().insertPrincipal(p);
      const t = apiTokenRow(p.id, { expiresAt: '2026-02-01T00:00:00.000Z' });
      await ctx.store().insertApiToken(t);
      expect(await ctx.store().getApiToken(t.id)).toEqual(t);
      await ctx.store().revokeApiToken(t.id, '2026-01-05T00:00:00.000Z');
      await ctx.store().revokeApiToken(t.id, '2026-01-09T00:00:00.000Z');
      expect((await ctx.store().getApiToken(t.id))?.revokedAt).toBe('2026-01-05T00:00:00.000Z');
      await expectCode(ctx.store().insertApiToken(t), 'ERR_CONFLICT');
      await expectCode(ctx.store().revokeApiToken(rid('tok'), T0), 'ERR_NOT_FOUND');
      expect(await ctx.store().getApiToken(rid('tok'))).toBeNull();
    });
    it('says whether the sentinel holds a live containment of the principal', async () => {
      const p = principalRow();
      await ctx.store().insertPrincipal(p);
      const id = rid('cnt');
      await ctx.store().sentinel.insertContainment({
        id, principalId: p.id, reason: 'burst', alertId: null, createdAt: T0, liftedAt: null, liftedBy: null, liftNote: null,
      });
      expect((await ctx.store().getPrincipal(p.id))?.contained).toBe(true);
      expect(await ctx.store().sentinel.liftContainment(id, rid('prn'), Buffer.from('sealed'), T0)).toBe(true);
      expect((await ctx.store().getPrincipal(p.id))?.contained).toBe(false);
    });
    it('revokes every live token of one principal at once, keeping earlier revocation times', async () => {
      const [p, other] = [principalRow(), principalRow()];
      await ctx.store().insertPrincipal(p);
      await ctx.store().insertPrincipal(other);
      const [a, b, old, theirs] = [apiTokenRow(p.id), apiTokenRow(p.id), apiTokenRow(p.id), apiTokenRow(other.id)];
      for (const t of [a, b, old, theirs]) await ctx.store().insertApiToken(t);
      await ctx.store().revokeApiToken(old.id, '2026-01-02T00:00:00.000Z');
      expect(await ctx.store().revokeApiTokensOf(p.id, '2026-01-05T00:00:00.000Z')).toBe(2);
      expect((await ctx.store().getApiToken(a.id))?.revokedAt).toBe('2026-01-05T00:00:00.000Z');
      expect((await ctx.store().getApiToken(b.id))?.revokedAt).toBe('2026-01-05T00:00:00.000Z');
      expect((await ctx.store().getApiToken(old.id))?.revokedAt).toBe('2026-01-02T00:00:00.000Z');
      expect((await ctx.store().getApiToken(theirs.id))?.revokedAt).toBeNull();
      expect(await ctx.store().revokeApiTokensOf(p.id, '2026-01-06T00:00:00.000Z')).toBe(0);
      expect(await ctx.store().revokeApiTokensOf(rid('prn'), T0)).toBe(0);
    });
    it('refuses a token for an unknown principal', async () => {
      await expectCode(ctx.store().insertApiToken(apiTokenRow(rid('prn'))), 'ERR_CONFLICT');
    });
  });

  describe('data keys', () => {
    it('first writer wins: a second insert returns the stored row', async () => {
      const tenant = rid('org');
      const first = dataKeyRow(tenant);
      expect(await ctx.store().insertDataKey(first)).toEqual(first);
      const second = dataKeyRow(tenant); // same (tenant, purpose, version), other bytes
      expect(await ctx.store().insertDataKey(second)).toEqual(first);
      expect(await ctx.store().getDataKeys(tenant, 'clinical')).toEqual([first]);
    });
    it('first writer wins under concurrency: every racer gets the same row', async () => {
      const tenant = rid('org');
      const racers = Array.from({ length: 6 }, () => dataKeyRow(tenant, { purpose: 'index' }));
      const results = await Promise.all(racers.map((k) => ctx.store().insertDataKey(k)));
      const winner = results[0];
      for (const r of results) expect(r).toEqual(winner);
      expect(racers.some((k) => k.wrapped.equals(winner?.wrapped ?? Buffer.alloc(0)))).toBe(true);
    });
    it('lists versions in order, per tenant and purpose; tenant * holds global keys', async () => {
      const tenant = rid('org');
      const v2 = dataKeyRow(tenant, { version: 2 });
      const v1 = dataKeyRow(tenant, { version: 1 });
      await ctx.store().insertDataKey(v2);
      await ctx.store().insertDataKey(v1);
      await ctx.store().insertDataKey(dataKeyRow(tenant, { purpose: 'identity' }));
      await ctx.store().insertDataKey(dataKeyRow(rid('org')));
      expect(await ctx.store().getDataKeys(tenant, 'clinical')).toEqual([v1, v2]);
      const global = dataKeyRow('*', { purpose: 'audit-mac', version: randomInt(1, 2 ** 31 - 1) });
      const stored = await ctx.store().insertDataKey(global);
      expect(await ctx.store().getDataKeys('*', 'audit-mac')).toContainEqual(stored);
    });
  });
}
