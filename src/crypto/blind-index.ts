import { createHmac } from 'node:crypto';

/**
 * Keyed blind index: equality search over values the store never sees in plain text
 * (BSN, barcode, codes). The key is per tenant, so equal values in two tenants give
 * unrelated tokens. 128 bits of HMAC-SHA256 keeps collisions out of reach.
 */
export function blindToken(indexKey: Buffer, param: string, system: string | undefined, value: string): string {
  return createHmac('sha256', indexKey).update(blindTokenInput(param, system, value)).digest().subarray(0, 16).toString('base64url');
}

/**
 * The MAC input: each field length-prefixed (4 bytes, big-endian, UTF-8 byte length), so no
 * choice of system or value can run into the next field. Built as one buffer: one native
 * call per token instead of six (ingest computes several tokens per resource).
 */
function blindTokenInput(param: string, system: string | undefined, value: string): Buffer {
  const fields = [param, system ?? '', value];
  let size = 0;
  for (const f of fields) size += 4 + Buffer.byteLength(f, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const f of fields) {
    const length = out.write(f, at + 4, 'utf8');
    out.writeUInt32BE(length, at);
    at += 4 + length;
  }
  return out;
}
