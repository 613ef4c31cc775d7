import type { Random } from '../kernel/index.js';

/** Naming system of the Dutch citizen service number (Burgerservicenummer). */
export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';

const WEIGHTS = [9, 8, 7, 6, 5, 4, 3, 2, -1] as const;

/** The weighted sum of the "11-proef"; undefined unless `value` is exactly nine ASCII digits. */
function weightedSum(value: string): number | undefined {
  if (!/^[0-9]{9}$/.test(value)) return undefined;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += WEIGHTS[i]! * (value.charCodeAt(i) - 48);
  return sum;
}

/**
 * The BSN 11-check: exactly 9 digits and 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11).
 * A weighted sum of zero passes the arithmetic but is refused ('000000000', '000000012' …):
 * such numbers are never issued.
 */
export function isValidBsn(value: string): boolean {
  const sum = weightedSum(value);
  return sum !== undefined && sum !== 0 && sum % 11 === 0;
}

/**
 * Prefix of every synthetic BSN. The Dutch BRP test environment issues its test BSNs in the
 * 9999xxxxx range; '999' keeps demo numbers in that neighbourhood while leaving room for
 * tens of thousands of distinct valid numbers (the 9999 range alone holds only ~9,000).
 */
export const SYNTHETIC_BSN_PREFIX = '999';

/**
 * A valid (11-checked) BSN for demo and test data, drawn from `random`. Deterministic for a
 * deterministic `random`. Never use for real people.
 */
export function syntheticBsn(random: Random): string {
  for (;;) {
    const draw = random.bytes(4).readUInt32BE(0) % 100_000;
    const head = SYNTHETIC_BSN_PREFIX + String(draw).padStart(5, '0');
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += WEIGHTS[i]! * (head.charCodeAt(i) - 48);
    // 9·d1 … 2·d8 − d9 ≡ 0  ⇔  d9 ≡ sum (mod 11); a remainder of 10 cannot be a digit.
    const check = sum % 11;
    if (check === 10) continue;
    const bsn = head + String(check);
    if (isValidBsn(bsn)) return bsn;
  }
}
