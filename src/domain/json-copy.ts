/**
 * A deep copy of parsed JSON (objects, arrays, strings, numbers, booleans, null): what
 * structuredClone does for such values, at a fraction of its per-call cost. Anything else
 * (a Date, a class instance) is kept by reference; the schemas refuse such values anyway.
 * A key named "__proto__" stays an own property, as JSON.parse made it.
 */
export function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = copyJson((value as Record<string, unknown>)[key]);
    if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    else out[key] = item;
  }
  return out as T;
}
