/**
 * Splitting FHIR search values (R4 §3.1.1.5.7 "Escaping Search Parameters"): ',' separates
 * alternatives and '|' separates system from code, unless escaped with a backslash.
 *
 * Split on ',' first: that keeps every other escape intact for the second split on '|',
 * which removes the remaining escapes ('\|' → '|', '\\' → '\', '\$' → '$').
 */
export function splitEscaped(value: string, separator: ',' | '|'): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    const next = value[i + 1];
    if (ch === '\\' && next !== undefined && ',|$\\'.includes(next)) {
      current += separator === '|' || next === ',' ? next : `\\${next}`;
      i++;
    } else if (ch === separator) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out;
}
