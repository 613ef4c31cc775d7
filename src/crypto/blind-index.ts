import { createHmac } from 'node:crypto';

/**
 * Keyed blind index: equality search over values the store never sees in plain text
 * (BSN, barcode, codes). The key is per tenant, so equal values in two tenants give
 * unrelated tokens. 128 bits of HMAC-SHA256 keeps collisions out of reach.
 */
export function blindToken(indexKey: Buffer, param: string, system: string | undefined, value: string): string {
  return createHmac('sha256', indexKey)
    .update(`${param}\x1f${system ?? ''}\x1f${value}`, 'utf8')
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}
