/**
 * SQLite's column decoding (JSON text for arrays, 0/1 for booleans, the frontier as JSON of
 * base64 hashes) for the shared row mappers.
 */
import { rowMappers, type DbRow } from '../row-mapping.js';
import type { AuditHead } from '../types.js';

/** A row as better-sqlite3 returns it: column name to value. */
export type Raw = DbRow;

const strings = (v: unknown): string[] => JSON.parse(v as string) as string[];

export const {
  toTenant, toPrincipal, toApiToken, toDataKey, toPerson, toResource, toAudit, toCheckpoint, toHead,
} = rowMappers({
  strings,
  flag: (v) => v === 1,
  frontier: (v) => strings(v).map((h) => Buffer.from(h, 'base64')),
});

export const frontierText = (head: AuditHead): string =>
  JSON.stringify(head.frontier.map((h) => Buffer.from(h).toString('base64')));
