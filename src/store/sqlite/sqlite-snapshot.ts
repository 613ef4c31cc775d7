/**
 * Snapshots of the SQLite backend (snapshot-tables.ts). A snapshot reads through a second,
 * read-only connection in one read transaction: WAL gives it one consistent view while the
 * server goes on writing (it holds back the WAL checkpoint until it ends). A restore writes into
 * an empty, migrated store in one transaction: all or nothing; the search index and the audit
 * entries' patient index are rebuilt at the end.
 */
import Database from 'better-sqlite3';
import { LabkluisError } from '../../kernel/index.js';
import { checkRestorable, REBUILT_TABLES, SNAPSHOT_TABLES, type SnapshotColumnType, type SnapshotRow, type SnapshotTableRows, type SnapshotTableSpec, type SnapshotValue, type StoreSnapshot } from '../snapshot-tables.js';
import { run } from './sqlite-run.js';

/** Tables a restore rebuilds from others (snapshot-tables.ts); they must be empty too. */
const DERIVED = ['clinical_tokens', ...REBUILT_TABLES];

/** Memory for a snapshot's page cache and sorts, KiB. */
const SORT_KIB = 128 * 1024;

/** The most of the database file a snapshot maps into memory. */
const MMAP_BYTES = 2 ** 31;

/** Rows per batch; the event loop turns between two batches. */
const BATCH = 512;

export function sqliteSnapshot(path: string): StoreSnapshot {
  const db = run(() => new Database(path, { readonly: true, fileMustExist: true }));
  // Pages read from the mapped file, not copied in by a read() each: a quarter less time for a
  // backup's full scan (this connection only reads; SQLite keeps WAL frames out of the map).
  run(() => db.pragma(`mmap_size = ${MMAP_BYTES}`));
  // A table read in an order without an index (persons, by change) is sorted in this much memory before spilling to disk.
  run(() => db.pragma(`cache_size = -${SORT_KIB}`));
  let open = true;
  run(() => db.prepare('BEGIN').run());
  // The read transaction takes its snapshot at its first read: now, not when the stream is consumed.
  run(() => db.prepare('SELECT count(*) FROM audit_head').get());
  const close = async (): Promise<void> => {
    if (!open) return;
    open = false;
    if (db.inTransaction) db.prepare('COMMIT').run();
    db.close();
  };
  async function* tables(): AsyncIterable<SnapshotTableRows> {
    for (const spec of SNAPSHOT_TABLES) yield { spec, batches: batchesOf(spec) };
  }
  async function* batchesOf(spec: SnapshotTableSpec): AsyncIterable<readonly SnapshotRow[]> {
    const cols = spec.columns.map((c) => c.name);
    // Text, integers and blobs come from better-sqlite3 as they are snapshot values (the tables
    // are STRICT); only booleans and JSON lists are converted.
    const convert = spec.columns.flatMap((c, i) => (converted(c.type) ? [[i, c.type] as const] : []));
    const stmt = db.prepare(`SELECT ${cols.join(', ')} FROM ${spec.name} ORDER BY ${spec.order.join(', ')}`).raw();
    let batch: SnapshotRow[] = [];
    for (const raw of stmt.iterate() as Iterable<unknown[]>) {
      for (const [i, type] of convert) raw[i] = fromSqlite(raw[i], type);
      batch.push(raw as SnapshotValue[]);
      if (batch.length === BATCH) {
        yield batch;
        batch = [];
        await new Promise((r) => setImmediate(r));
      }
    }
    if (batch.length > 0) yield batch;
  }
  return { tables: tables(), close };
}

/**
 * Restores a snapshot into `db`, which must be migrated and empty (no row in any snapshot
 * table, an empty audit log). Returns the rows written per table.
 */
export async function sqliteRestore(db: Database.Database, source: AsyncIterable<SnapshotTableRows>): Promise<Record<string, number>> {
  for (const name of [...SNAPSHOT_TABLES.map((s) => s.name), ...DERIVED]) {
    const { n } = db.prepare(`SELECT count(*) AS n FROM ${name}${name === 'audit_head' ? ' WHERE size > 0' : ''}`).get() as { n: number };
    if (n > 0) throw new LabkluisError('ERR_CONFLICT', `restore needs an empty store: ${name} has rows`);
  }
  const counts: Record<string, number> = {};
  db.prepare('BEGIN IMMEDIATE').run();
  try {
    for await (const { spec, batches } of source) {
      checkRestorable(spec);
      const cols = spec.columns.map((c) => c.name);
      const insert = spec.name === 'audit_head'
        ? db.prepare(`UPDATE audit_head SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE id = 1`)
        : db.prepare(`INSERT INTO ${spec.name} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
      let n = 0;
      for await (const batch of batches) {
        for (const row of batch) insert.run(...spec.columns.map((c, i) => toSqlite(row[i] ?? null, c.type)));
        n += batch.length;
      }
      counts[spec.name] = n;
    }
    // The search index: every token of every current resource (as writes keep it).
    db.prepare(`INSERT INTO clinical_tokens (tenant, token, pos)
      SELECT r.tenant, j.value, r.pos FROM clinical_resources r, json_each(r.tokens) j WHERE r.is_current = 1`).run();
    // The unique claims (barcodes): each current version's distinct unique tokens (as writes keep them).
    db.prepare(`INSERT INTO clinical_unique_tokens (tenant, token, type, id)
      SELECT DISTINCT r.tenant, j.value, r.type, r.id FROM clinical_resources r, json_each(r.unique_tokens) j WHERE r.is_current = 1`).run();
    // Which entries name which patient: each entry's distinct patients (as appends write them).
    db.prepare(`INSERT INTO audit_entry_patients (pseudonym, seq)
      SELECT DISTINCT j.value, e.seq FROM audit_entries e, json_each(e.patients) j`).run();
    db.prepare('COMMIT').run();
  } catch (e) {
    if (db.inTransaction) db.prepare('ROLLBACK').run();
    throw e;
  }
  return counts;
}

/** The column types whose SQLite value is not already the snapshot value. */
type Converted = Exclude<SnapshotColumnType, 'text' | 'int' | 'bytes'>;
const converted = (t: SnapshotColumnType): t is Converted => t !== 'text' && t !== 'int' && t !== 'bytes';

function fromSqlite(v: unknown, type: Converted): SnapshotValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'bool': return v === 1 || v === 1n;
    case 'texts': return JSON.parse(String(v)) as string[]; // written as JSON lists of strings (toSqlite), read as such
    case 'ints': return (JSON.parse(String(v)) as unknown[]).map(Number);
    case 'bytesList': return (JSON.parse(String(v)) as string[]).map((h) => Buffer.from(h, 'base64'));
  }
}

function toSqlite(v: SnapshotValue, type: SnapshotColumnType): unknown {
  if (v === null) return null;
  switch (type) {
    case 'bool': return v === true ? 1 : 0;
    case 'texts':
    case 'ints': return JSON.stringify(v);
    case 'bytesList': return JSON.stringify((v as readonly Buffer[]).map((b) => Buffer.from(b).toString('base64')));
    default: return v;
  }
}
