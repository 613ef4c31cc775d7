/**
 * Snapshots of the PostgreSQL backend (snapshot-tables.ts), on a connection of their own as
 * the connecting (owning) user. A snapshot is one REPEATABLE READ, READ ONLY transaction, read
 * table by table through a cursor: one consistent view while the nodes go on writing. A restore
 * writes into an empty, migrated database in one transaction (all or nothing), rebuilds the
 * barcode claims and the audit entries' patient index, then moves the resources' position sequence past the restored rows.
 */
import pg from 'pg';
import { LabkluisError } from '../../kernel/index.js';
import { checkRestorable, REBUILT_TABLES, SNAPSHOT_TABLES, type SnapshotColumnType, type SnapshotRow, type SnapshotTableRows, type SnapshotTableSpec, type SnapshotValue, type StoreSnapshot } from '../snapshot-tables.js';
import { storeError } from '../batch-check.js';

const FETCH = 500;
/** Parameters per INSERT statement stay under PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;

const pgName = (table: string): string => table.replace('_', '.');

async function connect(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    throw storeError('postgres', (e as { code?: unknown }).code ?? 'CONNECT');
  }
  return client;
}

export async function postgresSnapshot(connectionString: string): Promise<StoreSnapshot> {
  const client = await connect(connectionString);
  let open = true;
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await client.query('SELECT 1 FROM audit.head'); // the snapshot is taken here, not when read
  const close = async (): Promise<void> => {
    if (!open) return;
    open = false;
    await client.query('COMMIT').catch(() => {});
    await client.end().catch(() => {});
  };
  async function* batchesOf(spec: SnapshotTableSpec): AsyncIterable<readonly SnapshotRow[]> {
    const cols = spec.columns.map((c) => c.name);
    await client.query(`DECLARE snap NO SCROLL CURSOR FOR SELECT ${cols.join(', ')} FROM ${pgName(spec.name)} ORDER BY ${spec.order.map((k) => `${k}${isText(spec, k) ? ' COLLATE "C"' : ''}`).join(', ')}`);
    try {
      for (;;) {
        const res = await client.query({ text: `FETCH ${FETCH} FROM snap`, rowMode: 'array' });
        if (res.rows.length > 0) yield (res.rows as unknown[][]).map((raw) => spec.columns.map((c, i) => fromPg(raw[i], c.type)));
        if (res.rows.length < FETCH) break;
      }
    } finally {
      await client.query('CLOSE snap');
    }
  }
  async function* tables(): AsyncIterable<SnapshotTableRows> {
    for (const spec of SNAPSHOT_TABLES) yield { spec, batches: batchesOf(spec) };
  }
  return { tables: tables(), close };
}

/**
 * Restores a snapshot into the database at `connectionString`, which must be migrated and
 * empty. Returns the rows written per table.
 */
export async function postgresRestore(connectionString: string, source: AsyncIterable<SnapshotTableRows>): Promise<Record<string, number>> {
  const client = await connect(connectionString);
  const counts: Record<string, number> = {};
  try {
    await client.query('BEGIN');
    for (const name of [...SNAPSHOT_TABLES.map((s) => s.name), ...REBUILT_TABLES]) {
      const where = name === 'audit_head' ? ' WHERE size > 0' : '';
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${pgName(name)}${where}`);
      if (Number(rows[0]?.n) > 0) throw new LabkluisError('ERR_CONFLICT', `restore needs an empty store: ${name} has rows`);
    }
    for await (const { spec, batches } of source) {
      checkRestorable(spec);
      const cols = spec.columns.map((c) => c.name);
      let n = 0;
      if (spec.name === 'audit_head') {
        for await (const batch of batches) {
          for (const row of batch) {
            await client.query(`UPDATE audit.head SET ${cols.map((c, i) => `${c} = $${i + 1}`).join(', ')}`, spec.columns.map((c, i) => toPg(row[i] ?? null, c.type)));
            n += 1;
          }
        }
      } else {
        const perStatement = Math.max(1, Math.floor(MAX_PARAMS / cols.length));
        let batch: unknown[][] = [];
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return;
          const values = batch.map((_, r) => `(${cols.map((__, c) => `$${r * cols.length + c + 1}`).join(', ')})`).join(', ');
          await client.query(`INSERT INTO ${pgName(spec.name)} (${cols.join(', ')}) VALUES ${values}`, batch.flat());
          batch = [];
        };
        for await (const rows of batches) {
          for (const row of rows) {
            batch.push(spec.columns.map((c, i) => toPg(row[i] ?? null, c.type)));
            n += 1;
            if (batch.length >= perStatement) await flush();
          }
        }
        await flush();
      }
      counts[spec.name] = n;
    }
    // Left out of the snapshot, rebuilt: the unique claims (each current version's distinct unique
    // tokens) and which entries name which patient (each entry's distinct patients).
    await client.query(`INSERT INTO clinical.unique_tokens (tenant, token, type, id)
      SELECT DISTINCT r.tenant, t, r.type, r.id FROM clinical.resources r, unnest(r.unique_tokens) t WHERE r.is_current`);
    await client.query('INSERT INTO audit.entry_patients (pseudonym, seq) SELECT DISTINCT p, e.seq FROM audit.entries e, unnest(e.patients) p');
    await client.query(`SELECT setval(pg_get_serial_sequence('clinical.resources', 'pos'), coalesce(max(pos), 0) + 1, false) FROM clinical.resources`);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (e instanceof LabkluisError) throw e;
    throw storeError('postgres', (e as { code?: unknown }).code ?? 'RESTORE');
  } finally {
    await client.end().catch(() => {});
  }
  return counts;
}

function isText(spec: SnapshotTableSpec, column: string): boolean {
  return spec.columns.find((c) => c.name === column)?.type === 'text';
}

function fromPg(v: unknown, type: SnapshotColumnType): SnapshotValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'text': return String(v);
    case 'int': return Number(v);
    case 'bool': return v === true;
    case 'bytes': return Buffer.from(v as Uint8Array);
    case 'texts': return (v as unknown[]).map(String);
    case 'ints': return (v as unknown[]).map(Number);
    case 'bytesList': return (v as Uint8Array[]).map((b) => Buffer.from(b));
  }
}

function toPg(v: SnapshotValue, type: SnapshotColumnType): unknown {
  if (v === null) return null;
  if (type === 'ints') return (v as readonly number[]).map(String);
  return v;
}
