/**
 * A store snapshot (store/snapshot-tables.ts) as the byte streams a backup chunks: one stream
 * per table, one JSON array per row and line, bytes as {"$b": base64} (lists of bytes as lists
 * of those). The same rows always give the same bytes, so unchanged tables chunk to unchanged
 * chunks. Decoding checks each row against the table's columns.
 */
import { StringDecoder } from 'node:string_decoder';
import { frontierRoot } from '../audit/index.js';
import { LabkluisError } from '../kernel/index.js';
import type { SnapshotTableRows, SnapshotTableSpec, SnapshotValue, Store } from '../store/index.js';
import type { SnapshotSource } from './writer.js';

/** Rows per piece handed to the chunker. */
const ROWS_PER_PIECE = 256;

export function encodeValue(v: SnapshotValue): unknown {
  if (Buffer.isBuffer(v)) return { $b: v.toString('base64') };
  if (Array.isArray(v)) return v.map((x: unknown) => (Buffer.isBuffer(x) ? { $b: x.toString('base64') } : x));
  return v;
}

export function decodeValue(v: unknown, type: SnapshotTableSpec['columns'][number]['type']): SnapshotValue {
  const bytes = (x: unknown): Buffer => {
    const b = (x as { $b?: unknown } | null)?.$b;
    if (typeof b !== 'string') throw new LabkluisError('ERR_INTEGRITY', 'snapshot row: bytes expected');
    return Buffer.from(b, 'base64');
  };
  if (v === null) return null;
  switch (type) {
    case 'text': if (typeof v === 'string') return v; break;
    case 'int': if (Number.isSafeInteger(v)) return v as number; break;
    case 'bool': if (typeof v === 'boolean') return v; break;
    case 'bytes': return bytes(v);
    case 'texts': if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]; break;
    case 'ints': if (Array.isArray(v) && v.every((x) => Number.isSafeInteger(x))) return v as number[]; break;
    case 'bytesList': if (Array.isArray(v)) return v.map(bytes); break;
  }
  throw new LabkluisError('ERR_INTEGRITY', `snapshot row: a ${type} value expected`);
}

async function* encodeRows(rows: AsyncIterable<readonly SnapshotValue[]>, count: { n: number }): AsyncIterable<Uint8Array> {
  let lines: string[] = [];
  for await (const row of rows) {
    lines.push(`${JSON.stringify(row.map(encodeValue))}\n`);
    count.n += 1;
    if (lines.length >= ROWS_PER_PIECE) {
      yield Buffer.from(lines.join(''), 'utf8');
      lines = [];
    }
  }
  if (lines.length > 0) yield Buffer.from(lines.join(''), 'utf8');
}

/**
 * A backup source over a store snapshot: each table encoded as it is read, and the audit log's
 * size and root from the snapshot's head row. Close the snapshot when the backup is done.
 */
export async function storeSource(store: Store): Promise<{ source: SnapshotSource; close: () => Promise<void> }> {
  const snap = await store.snapshot();
  let audit: { size: number; root: string } | null = null;
  async function* tables() {
    for await (const t of snap.tables) {
      const count = { n: 0 };
      const rows = t.spec.name !== 'audit_head' ? t.rows : (async function* () {
        for await (const row of t.rows) {
          const [size, frontier] = row as [number, Buffer[]];
          audit = { size, root: frontierRoot(frontier, size).toString('hex') };
          yield row;
        }
      })();
      yield { table: t.spec.name, data: encodeRows(rows, count), rows: () => count.n };
    }
  }
  return {
    source: {
      backend: store.backend,
      tables: tables(),
      audit: () => {
        if (audit === null) throw new LabkluisError('ERR_STORE', 'the snapshot had no audit head');
        return audit;
      },
    },
    close: () => snap.close(),
  };
}

/** Table streams (as restored from a backup) as snapshot rows for Store.restoreSnapshot. */
export async function* decodeTables(
  tables: AsyncIterable<{ spec: SnapshotTableSpec; data: AsyncIterable<Uint8Array> }>,
): AsyncIterable<SnapshotTableRows> {
  for await (const t of tables) {
    const spec = t.spec;
    yield {
      spec,
      rows: (async function* () {
        let rest = '';
        const utf8 = new StringDecoder('utf8'); // a chunk may end inside a character
        for await (const piece of t.data) {
          rest += utf8.write(Buffer.from(piece));
          const lines = rest.split('\n');
          rest = lines.pop()!;
          for (const line of lines) yield decodeRow(line, spec);
        }
        rest += utf8.end();
        if (rest !== '') throw new LabkluisError('ERR_INTEGRITY', `snapshot table ${spec.name} ends inside a row`);
      })(),
    };
  }
}

function decodeRow(line: string, spec: SnapshotTableSpec): SnapshotValue[] {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new LabkluisError('ERR_INTEGRITY', `snapshot table ${spec.name}: a row is not JSON`);
  }
  if (!Array.isArray(raw) || raw.length !== spec.columns.length) throw new LabkluisError('ERR_INTEGRITY', `snapshot table ${spec.name}: a row has the wrong columns`);
  return spec.columns.map((c, i) => decodeValue(raw[i], c.type));
}
