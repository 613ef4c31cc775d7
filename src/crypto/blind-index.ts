import { createHmac } from 'node:crypto';

/**
 * Keyed blind index: equality search over values the store never sees in plain text
 * (BSN, barcode, codes). The key is per tenant, so equal values in two tenants give
 * unrelated tokens. 128 bits of HMAC-SHA256 keeps collisions out of reach.
 */
export function blindToken(indexKey: Buffer, param: string, system: string | undefined, value: string): string {
  const mac = createHmac('sha256', indexKey);
  // Each field length-prefixed, so no choice of system or value can run into the next field.
  for (const field of [param, system ?? '', value]) {
    const bytes = Buffer.from(field, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    mac.update(len).update(bytes);
  }
  return mac.digest().subarray(0, 16).toString('base64url');
}
