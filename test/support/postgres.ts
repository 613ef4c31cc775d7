/**
 * A throwaway PostgreSQL database per test file. The server (127.0.0.1:5432, user postgres,
 * trust auth) is shared; a random database name keeps parallel workers apart, and the part
 * roles the store creates are named after the database, so drop() removes them as well.
 * LABKLUIS_TEST_PG overrides the admin connection (a URL to the maintenance database).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.LABKLUIS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  readonly connectionString: string;
  drop(): Promise<void>;
}

/** Runs work on a connection to the maintenance database (also used by the benchmark). */
export async function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(prefix = 'labkluis_t_'): Promise<TestDatabase> {
  if (!/^[a-z_]{1,30}$/.test(prefix)) throw new TypeError('a database name prefix is lowercase letters and _');
  // Lowercase hex only: the name is spliced into DDL, so it must need no quoting.
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  await asAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    connectionString: url.toString(),
    drop: () => asAdmin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      // Roles are cluster-wide; with the database gone they own and hold nothing.
      const { rows } = await c.query<{ rolname: string }>(
        "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", [`${name}_`],
      );
      for (const { rolname } of rows) await c.query(`DROP ROLE IF EXISTS "${rolname}"`);
    }),
  };
}

/**
 * Runs one statement as a part role (`<database>_<part>`) in a transaction that is rolled
 * back; resolves to the SQLSTATE it failed with, or 'ok'.
 */
export async function asPartRole(client: pg.Client, db: TestDatabase, part: string, sql: string): Promise<string> {
  await client.query(`BEGIN; SET LOCAL ROLE "${db.name}_${part}"`);
  try {
    await client.query(sql);
    return 'ok';
  } catch (e) {
    return String((e as { code?: string }).code);
  } finally {
    await client.query('ROLLBACK');
  }
}
