/**
 * Transactions with a part role. Every statement the store runs goes through PgTx, which
 * issues SET LOCAL ROLE before the first statement for a part and again whenever the part
 * changes, so each statement has only its part's privileges. The role switch rides in the
 * same round trip as BEGIN or as a parameterless statement where one follows.
 */
import pg from 'pg';
import { isLabkluisError, LabkluisError } from '../../kernel/index.js';
import { conflictError, storeError } from '../batch-check.js';
import { quoteRoles, type Part, type RoleNames } from './postgres-schema.js';

export type Row = Record<string, unknown>;

/**
 * Session settings for a pool that runs one hot statement (sessionConfig).
 * asyncCommit: a commit returns before its WAL is flushed; a server crash may lose the last
 * moments of such statements but never leaves them half applied. Only for state that is
 * rebuilt by use (the sentinel's counters), never for records or the audit log.
 * genericPlan: reuse one plan for a named statement instead of planning each call, for a
 * statement whose plan does not depend on its values.
 */
export interface TxSettings {
  readonly asyncCommit?: boolean;
  readonly genericPlan?: boolean;
}

/** A fixed statement: named so each pooled connection parses and plans it once. */
export interface Named {
  readonly name: string;
  readonly text: string;
}

export class PgTx {
  readonly #client: pg.PoolClient;
  readonly #roles: RoleNames; // quoted
  #part: Part | null = null;

  constructor(client: pg.PoolClient, quotedRoles: RoleNames) {
    this.#client = client;
    this.#roles = quotedRoles;
  }

  /**
   * Switches to `part`'s role (if not already in it) and runs `then`, a statement without
   * parameters, in the same round trip. Returns the rows of `then`.
   */
  async as(part: Part, then?: string): Promise<Row[]> {
    const parts: string[] = [];
    if (this.#part !== part) parts.push(`SET LOCAL ROLE ${this.#roles[part]}`);
    if (then !== undefined) parts.push(then);
    this.#part = part;
    if (parts.length === 0) return [];
    const res = await driver(() => this.#client.query(parts.join('; ')));
    const results = Array.isArray(res) ? res : [res];
    return then === undefined ? [] : (results[results.length - 1]?.rows ?? []);
  }

  /** `BEGIN` and the first role switch in one round trip. */
  async begin(part: Part, readOnly: boolean): Promise<void> {
    await driver(() => this.#client.query(`BEGIN${readOnly ? ' READ ONLY' : ''}; SET LOCAL ROLE ${this.#roles[part]}`));
    this.#part = part;
  }

  async query(statement: Named | string, values: unknown[]): Promise<Row[]> {
    const config = typeof statement === 'string' ? { text: statement, values } : { ...statement, values };
    const res = await driver(() => this.#client.query<Row>(config));
    return res.rows;
  }

  async end(commit: boolean): Promise<void> {
    await driver(() => this.#client.query(commit ? 'COMMIT' : 'ROLLBACK'));
  }
}

export class PgRunner {
  readonly #pool: pg.Pool;
  readonly #quoted: RoleNames;
  readonly roles: RoleNames;

  constructor(pool: pg.Pool, roles: RoleNames) {
    this.#pool = pool;
    this.roles = roles;
    this.#quoted = quoteRoles(roles);
  }

  /** Runs `work` in one transaction that starts in `first`'s role; rolls back on any error. */
  async run<T>(first: Part, work: (tx: PgTx) => Promise<T>, readOnly = false): Promise<T> {
    const client = await driver(() => this.#pool.connect());
    const tx = new PgTx(client, this.#quoted);
    let broken = false;
    try {
      await tx.begin(first, readOnly);
      const out = await work(tx);
      await tx.end(true);
      return out;
    } catch (e) {
      // A connection that cannot even roll back is discarded, not returned to the pool.
      await tx.end(false).catch(() => { broken = true; });
      throw e;
    } finally {
      client.release(broken);
    }
  }

  /** A read in one part's role. */
  async read(part: Part, statement: Named | string, values: unknown[]): Promise<Row[]> {
    return this.run(part, (tx) => tx.query(statement, values), true);
  }
}

/**
 * Connection settings for a pool whose sessions begin in one part's role, with `settings` as
 * session defaults (`-c name=value` startup options: no SET round trip, and even RESET ROLE
 * returns to that role; a role the user may not take fails the connection). Only for a pool
 * that runs one fixed statement, in autocommit (a single statement is its own transaction):
 * the sentinel's per-response release (postgres-store.ts).
 */
export function sessionConfig(connectionString: string, role: string, settings: TxSettings): { connectionString: string; options: string } {
  const value = (v: string): string => v.replace(/[\\ ]/g, (c) => `\\${c}`); // the server splits options at unescaped spaces
  const options = [`-c role=${value(role)}`];
  if (settings.asyncCommit === true) options.push('-c synchronous_commit=off');
  if (settings.genericPlan === true) options.push('-c plan_cache_mode=force_generic_plan');
  // pg lets an options parameter in the connection string replace the config's: keep both,
  // ours last (the last -c of a setting wins), or refuse a string we cannot take apart.
  if (!/[?&]options=/i.test(connectionString)) return { connectionString, options: options.join(' ') };
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new LabkluisError('ERR_CONFIG', 'postgres: options in a connection string need the postgres://host/db?options=... form');
  }
  const given = url.searchParams.get('options') ?? '';
  url.searchParams.delete('options');
  return { connectionString: url.toString(), options: [given, ...options].join(' ').trim() };
}

/** One statement per call, in autocommit, on a pool made with sessionConfig (one round trip). */
export class PgAutocommit {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async query(statement: Named, values: unknown[]): Promise<Row[]> {
    return (await driver(() => this.#pool.query<Row>({ ...statement, values }))).rows;
  }
}

/** The first row, mapped, or null. */
export function firstRow<T>(rows: Row[], map: (r: Row) => T): T | null {
  const row = rows[0];
  return row === undefined ? null : map(row);
}

/** One statement in its own transaction in the core part's role (the sign-in parts of the store). */
export async function coreWrite(runner: () => Promise<PgRunner>, statement: Named, values: unknown[]): Promise<Row[]> {
  return (await runner()).run('core', (tx) => tx.query(statement, values));
}

/** One read-only statement in the core part's role. */
export async function coreRead(runner: () => Promise<PgRunner>, statement: Named, values: unknown[]): Promise<Row[]> {
  return (await runner()).read('core', statement, values);
}

/** SQLSTATEs that mean "the stored state forbids this write". */
const CONFLICT_STATES = new Set([
  '23505', // unique_violation: duplicate id, version, bsnToken or unique token
  '23503', // foreign_key_violation: e.g. a token for an unknown principal
  '40001', // serialization_failure: a concurrent writer won; retrying may succeed
  '40P01', // deadlock_detected: two batches touched the same rows in opposite order
]);

/**
 * Calls the driver and translates its errors. PostgreSQL error messages and details can
 * quote key values, so only the SQLSTATE (or the socket error code) survives.
 */
export async function driver<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (isLabkluisError(e)) throw e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONFLICT_STATES.has(code)) throw conflictError('a record with this key already exists');
    throw storeError('postgres', code);
  }
}
