/**
 * Deterministic JSON for audit leaves: one byte string per value, so the RFC 6962 leaf hash of
 * an entry is reproducible by any verifier. Object keys are sorted by UTF-16 code units and no
 * whitespace is written, which matches RFC 8785 (JCS) for the values we allow: strings, finite
 * numbers, booleans, null, arrays and plain objects. Anything else (undefined, NaN, Infinity,
 * bigint, functions, symbols, Dates, Buffers, Maps, class instances, cycles, lone surrogates)
 * is refused rather than silently coerced, because a coerced value would not round-trip.
 */
import { LabkluisError } from '../kernel/index.js';

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

// A lone surrogate has no UTF-8 encoding; TextEncoder would replace it with U+FFFD and the
// bytes would no longer say what the caller meant.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function fail(path: string, what: string): never {
  throw new TypeError(`canonical JSON: ${what} at ${path}`);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function write(value: unknown, path: string, stack: Set<object>, out: string[]): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) fail(path, 'lone surrogate in string');
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, 'non-finite number');
      // ECMAScript Number::toString is the JCS number form (RFC 8785 §3.2.2.3); -0 becomes 0.
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      fail(path, `unsupported ${typeof value}`);
  }
  const obj = value as object;
  if (stack.has(obj)) fail(path, 'cycle');
  stack.add(obj);
  if (Array.isArray(obj)) {
    out.push('[');
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) fail(`${path}[${i}]`, 'hole in array');
      if (i > 0) out.push(',');
      write(obj[i], `${path}[${i}]`, stack, out);
    }
    out.push(']');
  } else {
    if (!isPlainObject(obj)) fail(path, 'not a plain object');
    if (Object.getOwnPropertySymbols(obj).length > 0) fail(path, 'symbol key');
    const record = obj as Record<string, unknown>;
    // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record).sort();
    out.push('{');
    keys.forEach((key, i) => {
      if (LONE_SURROGATE.test(key)) fail(path, 'lone surrogate in key');
      if (i > 0) out.push(',');
      out.push(JSON.stringify(key), ':');
      write(record[key], `${path}.${key}`, stack, out);
    });
    out.push('}');
  }
  stack.delete(obj);
}

/** The canonical text of a JSON value. Throws TypeError for anything that is not JSON. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, '$', new Set(), out);
  return out.join('');
}

/** The canonical UTF-8 bytes of a JSON value: what an audit leaf is made of. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses bytes that must already be canonical: valid UTF-8, valid JSON, and byte-for-byte what
 * canonicalBytes would write for the parsed value. Anything else is ERR_INTEGRITY, because a
 * stored leaf that is not canonical was not written by the sealer.
 */
export function parseCanonical(bytes: Uint8Array): JsonValue {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch (cause) {
    throw new LabkluisError('ERR_INTEGRITY', 'leaf is not JSON', { cause });
  }
  let again: Buffer;
  try {
    again = canonicalBytes(value);
  } catch (cause) {
    throw new LabkluisError('ERR_INTEGRITY', 'leaf is not canonical JSON', { cause });
  }
  if (!again.equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
    throw new LabkluisError('ERR_INTEGRITY', 'leaf is not canonical JSON');
  }
  return value as JsonValue;
}
