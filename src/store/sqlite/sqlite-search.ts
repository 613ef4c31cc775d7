/**
 * Builds the resource and audit search statements. Only the shape of the query (which filters,
 * how many values in each) changes the SQL text; values are always bound, and each distinct
 * shape is prepared once and cached.
 *
 * An empty any-of list (pseudonyms: [], statuses: [], a token group []) matches nothing:
 * a caller narrowing to "the patients I may see" with none must get none, not everything.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { AuditQuery, ResourceQuery } from '../types.js';

export interface Built {
  readonly sql: string;
  readonly params: unknown[];
}

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

function anyOf(column: string, values: readonly string[], where: string[], params: unknown[]): void {
  if (values.length === 0) {
    where.push('0');
    return;
  }
  where.push(`${column} IN (${marks(values.length)})`);
  params.push(...values);
}

export function buildResourceSearch(q: ResourceQuery): Built {
  const where = ['r.tenant = ?', 'r.type = ?', 'r.is_current = 1'];
  const params: unknown[] = [q.tenant, q.type];
  if (q.pseudonyms) anyOf('r.pseudonym', q.pseudonyms, where, params);
  if (q.statuses) anyOf('r.status', q.statuses, where, params);
  for (const group of q.tokens ?? []) {
    if (group.length === 0) {
      where.push('0');
      continue;
    }
    // IN (subquery) lets SQLite start from the token index when a token is selective.
    where.push(`r.pos IN (SELECT t.pos FROM clinical_tokens t WHERE t.tenant = ? AND t.token IN (${marks(group.length)}))`);
    params.push(q.tenant, ...group);
  }
  if (q.dateFrom !== undefined) {
    where.push('r.date >= ?');
    params.push(q.dateFrom);
  }
  if (q.dateTo !== undefined) {
    where.push('r.date < ?');
    params.push(q.dateTo);
  }
  if (q.afterPos !== undefined) {
    where.push('r.pos > ?');
    params.push(q.afterPos);
  }
  params.push(q.limit);
  return { sql: `SELECT r.* FROM clinical_resources r WHERE ${where.join(' AND ')} ORDER BY r.pos LIMIT ?`, params };
}

export function buildAuditSearch(q: AuditQuery): Built {
  const where: string[] = [];
  const params: unknown[] = [];
  let from = 'audit_entries e';
  if (q.patient !== undefined) {
    from = 'audit_entry_patients p JOIN audit_entries e ON e.seq = p.seq';
    where.push('p.pseudonym = ?');
    params.push(q.patient);
  }
  const add = (clause: string, value: unknown): void => {
    where.push(clause);
    params.push(value);
  };
  if (q.principalId !== undefined) add('e.principal_id = ?', q.principalId);
  if (q.tenant !== undefined) add('e.tenant = ?', q.tenant);
  if (q.from !== undefined) add('e.time >= ?', q.from);
  if (q.to !== undefined) add('e.time < ?', q.to);
  if (q.afterSeq !== undefined) add('e.seq > ?', q.afterSeq);
  params.push(q.limit);
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT e.* FROM ${from} ${filter} ORDER BY e.seq LIMIT ?`, params };
}

/** Prepared statements keyed by SQL text; the number of shapes is small and bounded. */
export class StatementCache {
  readonly #db: Database;
  readonly #cache = new Map<string, Statement>();
  static readonly MAX = 256;

  constructor(db: Database) {
    this.#db = db;
  }

  get(sql: string): Statement {
    let stmt = this.#cache.get(sql);
    if (stmt === undefined) {
      // Long token lists make many shapes; forget the oldest rather than grow without end.
      if (this.#cache.size >= StatementCache.MAX) {
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
      stmt = this.#db.prepare(sql);
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }
}
