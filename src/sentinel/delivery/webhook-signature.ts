/**
 * The webhook signature, in the style of Stripe and GitHub:
 *
 *   X-Labkluis-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *
 * The timestamp is signed with the body, so a receiver that refuses old timestamps (five
 * minutes by default here) refuses a replayed request as well as a forged one. `v1` names the
 * scheme: a later one can be sent alongside while receivers move over.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../kernel/index.js';

export const SIGNATURE_HEADER = 'X-Labkluis-Signature';
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

export function signWebhook(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${mac(secret, t, body).toString('hex')}`;
}

export interface SignatureCheck {
  readonly header: string | undefined;
  readonly body: string;
  readonly secret: string;
  readonly clock: Clock;
  readonly toleranceSeconds?: number;
}

/** For receivers (and tests): true when a v1 signature matches and the timestamp is recent. */
export function verifyWebhookSignature({ header, body, secret, clock, toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS }: SignatureCheck): boolean {
  if (typeof header !== 'string' || header.length > 1024) return false;
  let t: number | null = null;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const [k, v, ...rest] = part.trim().split('=');
    if (rest.length > 0 || v === undefined) return false;
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) candidates.push(Buffer.from(v, 'hex'));
  }
  if (t === null || candidates.length === 0) return false;
  if (Math.abs(clock.now().getTime() / 1000 - t) > toleranceSeconds) return false;
  const expected = mac(secret, t, body);
  return candidates.some((c) => timingSafeEqual(c, expected));
}

function mac(secret: string, t: number, body: string): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(body, 'utf8').digest();
}
