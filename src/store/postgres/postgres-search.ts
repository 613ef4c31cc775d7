/**
 * Builds the resource and audit search statements for PostgreSQL. Values are always bound;
 * any-of filters bind one array each (= ANY, &&), so the SQL text depends only on which
 * filters are present. An empty any-of array matches nothing, as in the SQLite backend.
 */
import type { AuditQuery, ResourceQuery } from '../types.js';

export interface Built {
  readonly text: string;
  readonly values: unknown[];
}

class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

export function buildResourceSearch(q: ResourceQuery): Built {
  const p = new Params();
  const where = [`r.tenant = ${p.add(q.tenant)}`, `r.type = ${p.add(q.type)}`, 'r.is_current'];
  if (q.pseudonyms) where.push(`r.pseudonym = ANY(${p.add(q.pseudonyms, '::text[]')})`);
  if (q.statuses) where.push(`r.status = ANY(${p.add(q.statuses, '::text[]')})`);
  // && (overlap) is "any of this group"; one predicate per group ANDs the groups. The GIN
  // index on current tokens serves it.
  for (const group of q.tokens ?? []) where.push(`r.tokens && ${p.add(group, '::text[]')}`);
  if (q.dateFrom !== undefined) where.push(`r.date >= ${p.add(q.dateFrom)}`);
  if (q.dateTo !== undefined) where.push(`r.date < ${p.add(q.dateTo)}`);
  if (q.afterPos !== undefined) where.push(`r.pos > ${p.add(q.afterPos, '::bigint')}`);
  const limit = p.add(q.limit, '::int');
  return {
    text: `SELECT r.* FROM clinical.resources r WHERE ${where.join(' AND ')} ORDER BY r.pos LIMIT ${limit}`,
    values: p.values,
  };
}

export function buildAuditSearch(q: AuditQuery): Built {
  const p = new Params();
  const where: string[] = [];
  if (q.patient !== undefined) {
    where.push(`e.seq IN (SELECT ep.seq FROM audit.entry_patients ep WHERE ep.pseudonym = ${p.add(q.patient)})`);
  }
  if (q.principalId !== undefined) where.push(`e.principal_id = ${p.add(q.principalId)}`);
  if (q.tenant !== undefined) where.push(`e.tenant = ${p.add(q.tenant)}`);
  if (q.from !== undefined) where.push(`e.time >= ${p.add(q.from)}`);
  if (q.to !== undefined) where.push(`e.time < ${p.add(q.to)}`);
  if (q.afterSeq !== undefined) where.push(`e.seq > ${p.add(q.afterSeq, '::bigint')}`);
  const limit = p.add(q.limit, '::int');
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return { text: `SELECT e.* FROM audit.entries e ${filter} ORDER BY e.seq LIMIT ${limit}`, values: p.values };
}
