import { invalidInput } from '../kernel/index.js';
import { ID_PATTERN } from '../domain/index.js';
import type { AccessContext } from './context.js';

/** Paging cursors are positions, not secrets: every page is authorised and tenant-scoped again. */
export function encodeCursor(pos: number): string {
  return Buffer.from(`p${pos}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const m = /^p(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw invalidInput('_cursor is not a cursor this server gave out', [{ expression: '_cursor', diagnostics: 'malformed' }]);
  return Number(m[1]);
}

/** Clinical operations always name one concrete tenant. */
export function assertClinicalTenant(ctx: AccessContext): void {
  if (!ID_PATTERN.test(ctx.tenant)) throw invalidInput('name one tenant for this request');
}
