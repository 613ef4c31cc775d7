/**
 * Counts PostgreSQL round trips: every Client.query call (a multi-statement string is one
 * round trip) made by the store's pool. Patched on pg's Client prototype in this process
 * only, once, for the benchmark; it changes nothing but a counter.
 */
import pg from 'pg';

export const pgQueries = { count: 0 };

let installed = false;
export function countPgQueries(): void {
  if (installed) return;
  installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function counted(this: unknown, ...args: unknown[]) {
    pgQueries.count += 1;
    return original.apply(this, args);
  };
}
