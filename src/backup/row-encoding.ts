/**
 * How a snapshot table's rows become the byte stream a backup chunks, and back. The types of
 * the values come from the table's spec (store/snapshot-tables.ts), so the bytes carry none:
 *
 *   row    := u32le length, then the row's values (length bytes)
 *   value  := 0x00 (null) | 0x01 payload
 *   text   := u32le length, UTF-8          int := float64le (a safe integer)
 *   bool   := 0x00 | 0x01                  bytes := u32le length, the bytes
 *   texts, ints, bytesList := u32le count, then each element as above
 *
 * The same rows always give the same bytes, so unchanged tables chunk to unchanged chunks.
 * Decoding checks every length against what is left and every value against its column: a
 * damaged or forged stream is refused, never half-read. (Snapshots before session 8 wrote one
 * JSON array per row and line, a third larger and slower to write; their manifests, format
 * labkluis-backup/1, are not read by this version.)
 */
import { LabkluisError } from '../kernel/index.js';
import type { SnapshotColumnType, SnapshotRow, SnapshotTableSpec, SnapshotValue } from '../store/index.js';

/** The encoding a snapshot index names (the only one this version writes and reads). */
export type RowEncoding = 'rows/2';
export const ROW_ENCODING: RowEncoding = 'rows/2';

/** Bytes handed on at once (to the chunker): the stream's pieces are about this size. */
const PIECE = 1024 * 1024;
/** No row is larger (a FHIR resource's ciphertext is far smaller): a length above it is damage. */
const MAX_ROW = 256 * 1024 * 1024;

const damaged = (spec: SnapshotTableSpec, what: string): LabkluisError => new LabkluisError('ERR_INTEGRITY', `snapshot table ${spec.name}: ${what}`);

/** Writes rows into pieces of about PIECE bytes. */
export class RowEncoder {
  readonly #types: readonly SnapshotColumnType[];
  readonly #table: string;
  #buf = Buffer.allocUnsafe(2 * PIECE);
  #at = 0;

  constructor(spec: SnapshotTableSpec) {
    this.#types = spec.columns.map((c) => c.type);
    this.#table = spec.name;
  }

  /** Adds rows; returns a piece when one is full (else null). */
  push(rows: readonly SnapshotRow[]): Buffer | null {
    for (const row of rows) this.#row(row);
    return this.#at >= PIECE ? this.#take() : null;
  }

  /** What is left (null: nothing). */
  end(): Buffer | null {
    return this.#at > 0 ? this.#take() : null;
  }

  #take(): Buffer {
    // The piece keeps the working buffer; the next rows go to a fresh one (not copied, not reused).
    const piece = this.#buf.subarray(0, this.#at);
    this.#buf = Buffer.allocUnsafe(Math.max(2 * PIECE, this.#buf.length));
    this.#at = 0;
    return piece;
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.#buf.length, this.#at + n));
    this.#buf.copy(bigger, 0, 0, this.#at);
    this.#buf = bigger;
  }

  #row(row: SnapshotRow): void {
    const types = this.#types;
    if (row.length !== types.length) throw new TypeError('a snapshot row has the wrong number of columns');
    this.#room(4);
    const start = this.#at;
    this.#at += 4;
    for (let i = 0; i < types.length; i++) {
      const v = row[i];
      this.#room(1);
      if (v === null || v === undefined) {
        this.#buf[this.#at++] = 0;
        continue;
      }
      this.#buf[this.#at++] = 1;
      switch (types[i]) {
        case 'text': this.#text(v as string); break;
        case 'int': this.#int(v as number); break;
        case 'bool': this.#room(1); this.#buf[this.#at++] = v === true ? 1 : 0; break;
        case 'bytes': this.#bytes(v as Buffer); break;
        case 'texts': this.#list(v as readonly string[], (x) => this.#text(x)); break;
        case 'ints': this.#list(v as readonly number[], (x) => this.#int(x)); break;
        case 'bytesList': this.#list(v as readonly Buffer[], (x) => this.#bytes(x)); break;
      }
    }
    const length = this.#at - start - 4;
    // What a restore would refuse is refused now: the backup fails, not the restore years later.
    if (length > MAX_ROW) throw new LabkluisError('ERR_STORE', `a row of ${this.#table} is larger than a snapshot row may be`);
    this.#buf.writeUInt32LE(length, start);
  }

  #text(s: string): void {
    this.#room(4 + 3 * s.length); // UTF-8 takes at most 3 bytes per UTF-16 unit
    const buf = this.#buf;
    const start = this.#at + 4;
    let n = -1;
    if (s.length < 64) {
      // Most values are short ASCII (ids, dates, tokens): written byte by byte, no call into C++.
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === s.length) n = i;
    }
    if (n < 0) n = buf.write(s, start, 'utf8');
    buf.writeUInt32LE(n, this.#at);
    this.#at = start + n;
  }

  #int(n: number): void {
    if (!Number.isSafeInteger(n)) throw new LabkluisError('ERR_STORE', `an int value of ${this.#table} is not a whole number a restore can read`);
    this.#room(8);
    this.#buf.writeDoubleLE(n, this.#at);
    this.#at += 8;
  }

  #bytes(b: Uint8Array): void {
    this.#room(4 + b.length);
    this.#buf.writeUInt32LE(b.length, this.#at);
    this.#buf.set(b, this.#at + 4);
    this.#at += 4 + b.length;
  }

  #list<T>(xs: readonly T[], each: (x: T) => void): void {
    this.#room(4);
    this.#buf.writeUInt32LE(xs.length, this.#at);
    this.#at += 4;
    for (const x of xs) each(x);
  }
}

/** Reads one row's values from `b` (exactly the row's bytes). */
function decodeRow(b: Buffer, spec: SnapshotTableSpec): SnapshotValue[] {
  let at = 0;
  const need = (n: number): void => {
    if (at + n > b.length) throw damaged(spec, 'a row ends inside a value');
  };
  const u32 = (): number => {
    need(4);
    const n = b.readUInt32LE(at);
    at += 4;
    return n;
  };
  const text = (): string => {
    const n = u32();
    need(n);
    const s = b.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const int = (): number => {
    need(8);
    const n = b.readDoubleLE(at);
    at += 8;
    if (!Number.isSafeInteger(n)) throw damaged(spec, 'an int value is not a whole number');
    return n;
  };
  const bytes = (): Buffer => {
    const n = u32();
    need(n);
    const out = Buffer.from(b.subarray(at, at + n)); // its own memory: the row's buffer is not kept alive by it
    at += n;
    return out;
  };
  const list = <T>(each: () => T): T[] => {
    const n = u32();
    if (n > b.length - at) throw damaged(spec, 'a list is longer than its row');
    const out: T[] = [];
    for (let k = 0; k < n; k++) out.push(each());
    return out;
  };
  const out: SnapshotValue[] = [];
  for (const c of spec.columns) {
    need(1);
    const tag = b[at++];
    if (tag === 0) {
      out.push(null);
      continue;
    }
    if (tag !== 1) throw damaged(spec, 'a value has an unknown tag');
    switch (c.type) {
      case 'text': out.push(text()); break;
      case 'int': out.push(int()); break;
      case 'bool': {
        need(1);
        const v = b[at++];
        if (v !== 0 && v !== 1) throw damaged(spec, 'a bool value is neither 0 nor 1');
        out.push(v === 1);
        break;
      }
      case 'bytes': out.push(bytes()); break;
      case 'texts': out.push(list(text)); break;
      case 'ints': out.push(list(int)); break;
      case 'bytesList': out.push(list(bytes)); break;
    }
  }
  if (at !== b.length) throw damaged(spec, 'a row is longer than its columns');
  return out;
}

/** A table's byte stream (in pieces cut anywhere) as batches of rows. */
export async function* decodeRows(data: AsyncIterable<Uint8Array>, spec: SnapshotTableSpec): AsyncIterable<SnapshotRow[]> {
  // Pieces are joined only once the row they end in is whole: a row longer than many pieces is
  // copied once, not once per piece.
  let parts: Buffer[] = [];
  let have = 0;
  let need = 4;
  for await (const piece of data) {
    parts.push(Buffer.from(piece.buffer, piece.byteOffset, piece.length));
    have += piece.length;
    if (have < need) continue;
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    const batch: SnapshotRow[] = [];
    let at = 0;
    while (buf.length - at >= 4) {
      const n = buf.readUInt32LE(at);
      if (n > MAX_ROW) throw damaged(spec, 'a row is longer than any row can be');
      if (buf.length - at - 4 < n) break;
      batch.push(decodeRow(buf.subarray(at + 4, at + 4 + n), spec));
      at += 4 + n;
    }
    const rest = Buffer.from(buf.subarray(at)); // a copy: the piece is not kept alive by a few bytes of it
    [parts, have] = [rest.length > 0 ? [rest] : [], rest.length];
    need = rest.length >= 4 ? 4 + rest.readUInt32LE(0) : 4;
    if (batch.length > 0) yield batch;
  }
  if (have > 0) throw damaged(spec, 'the stream ends inside a row');
}
