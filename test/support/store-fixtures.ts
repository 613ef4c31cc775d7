/**
 * Row builders for store tests. Every id, token and pseudonym is random and prefixed, every
 * body is random bytes: nothing here looks like a person or a result. Tests isolate by
 * tenant (a fresh one each), so they share one store without truncating tables.
 */
import { randomBytes } from 'node:crypto';
import type {
  ApiTokenRow, DataKeyRow, PersonRow, PrincipalRow, ResourceRow, TenantRow, Versioned,
} from '../../src/store/index.js';

export const rid = (prefix: string): string => `${prefix}-${randomBytes(6).toString('hex')}`;
export const body = (): Buffer => randomBytes(40);
export const T0 = '2026-01-01T00:00:00.000Z';

export function tenantRow(overrides: Partial<TenantRow> = {}): TenantRow {
  return { id: rid('org'), name: rid('name'), kind: 'lab', createdAt: T0, ...overrides };
}

export function principalRow(overrides: Partial<PrincipalRow> = {}): PrincipalRow {
  return {
    id: rid('prn'), kind: 'human', role: 'analyst', tenants: [rid('org')], instrument: null,
    displayName: rid('analyst'), disabled: false, createdAt: T0, ...overrides,
  };
}

export function apiTokenRow(principalId: string, overrides: Partial<ApiTokenRow> = {}): ApiTokenRow {
  return {
    id: rid('tok'), principalId, secretHash: randomBytes(32), createdAt: T0, expiresAt: null, revokedAt: null, jkt: null,
    ...overrides,
  };
}

export function dataKeyRow(tenant: string, overrides: Partial<DataKeyRow> = {}): DataKeyRow {
  return {
    tenant, purpose: 'clinical', version: 1, kekId: rid('kek'), wrapped: randomBytes(60), createdAt: T0,
    ...overrides,
  };
}

export function personRow(tenant: string, overrides: Partial<PersonRow> = {}): PersonRow {
  return {
    tenant, pseudonym: rid('psn'), version: 1, bsnToken: rid('bsnidx'), body: body(), enteredBy: rid('prn'),
    lastUpdated: T0, ...overrides,
  };
}

export function resourceRow(tenant: string, overrides: Partial<ResourceRow> = {}): ResourceRow {
  return {
    tenant, type: 'Observation', id: rid('res'), version: 1, pseudonym: rid('psn'), status: 'final',
    date: '2026-01-10', tokens: [rid('idx')], uniqueTokens: [], body: body(), enteredBy: rid('prn'),
    lastUpdated: T0, ...overrides,
  };
}

/** A create: the row must not exist yet. */
export const created = <T>(row: T): Versioned<T> => ({ row, expectedVersion: null });

/** The next version of a stored row, with changes; expects the stored version to be row.version. */
export function updated<T extends { version: number }>(row: T, changes: Partial<T> = {}): Versioned<T> {
  const { pos: _pos, ...rest } = row as T & { pos?: number };
  return { row: { ...(rest as T), body: body(), ...changes, version: row.version + 1 }, expectedVersion: row.version };
}

/** Strips the store-assigned cursor so written and read rows compare equal. */
export function withoutPos<T extends { pos?: number }>(row: T | null): Omit<T, 'pos'> | null {
  if (row === null) return null;
  const { pos: _pos, ...rest } = row;
  return rest;
}
