import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalJson, parseCanonical } from '../../src/audit/index.js';
import { isLabkluisError } from '../../src/kernel/index.js';

describe('canonical JSON', () => {
  it('sorts keys by UTF-16 code units and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], A: { z: -0, y: 1.5e-7 } }))
      .toBe('{"A":{"y":1.5e-7,"z":0},"a":[true,null,"x"],"b":1}');
    // RFC 8785 §3.2.3: U+20AC sorts before U+1F600 (surrogates D83D..) by code unit.
    expect(canonicalJson({ '\u{1F600}': 1, '\u20AC': 2, '\r': 3 })).toBe('{"\\r":3,"\u20AC":2,"\u{1F600}":1}');
  });

  it('gives UTF-8 bytes', () => {
    expect(canonicalBytes({ n: 'é' })).toEqual(Buffer.from('{"n":"é"}', 'utf8'));
  });

  it.each([
    ['undefined', { a: undefined }],
    ['NaN', [Number.NaN]],
    ['Infinity', { a: Infinity }],
    ['bigint', { a: 1n }],
    ['function', [() => 1]],
    ['symbol', [Symbol('s')]],
    ['Date', { d: new Date(0) }],
    ['Buffer', { b: Buffer.from('x') }],
    ['Map', new Map()],
    ['class instance', new (class X { a = 1; })()],
    ['lone surrogate', ['\uD800']],
    ['sparse array', [1, , 3]],
  ])('refuses %s', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });

  it('refuses cycles but allows shared (acyclic) references', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
  });

  it('parses canonical bytes and refuses anything else as ERR_INTEGRITY', () => {
    expect(parseCanonical(Buffer.from('{"a":1,"b":[2]}'))).toEqual({ a: 1, b: [2] });
    for (const bad of ['{"b":1,"a":2}', '{"a": 1}', '{"a":1.0}', 'nope', '{"a":"\\u0041"}']) {
      let err: unknown;
      try { parseCanonical(Buffer.from(bad)); } catch (e) { err = e; }
      expect(isLabkluisError(err, 'ERR_INTEGRITY'), bad).toBe(true);
    }
    expect(() => parseCanonical(Buffer.from([0x22, 0xff, 0x22]))).toThrow(/not JSON/);
  });
});
