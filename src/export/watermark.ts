import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DataKeys } from '../crypto/index.js';

/**
 * The per-recipient watermark of an export. Two marks, both keyed with the lab's 'export-mac'
 * data key (tenant '*', wrapped by the keyring like every data key; never in the file):
 *
 * 1. Visible: Bundle.identifier (system WATERMARK_SYSTEM) and a Bundle.meta.tag carry
 *    'lkwm1.<job>.<key version>.<tag>', tag = HMAC-SHA256(key, "lkwm/1" ‖ job ‖ recipient)
 *    cut to 128 bits. Anyone can read it; only the lab can compute it, so a file that carries a
 *    valid one for (job, recipient) is, or was cut from, what that job produced for that key.
 * 2. Less visible: the order of the entries. A collection Bundle's order means nothing
 *    clinically, so each entry sits where HMAC(order key, 'Type/id') sorts it, the order key
 *    itself an HMAC of job and recipient. The file made for another recipient (or job) has
 *    another order. A copy that lost its identifier (re-serialised, turned into NDJSON, cut
 *    into pieces) still keeps the relative order of what it kept: for m entries in the
 *    recipient's order, a wrong candidate matches every adjacent pair with chance about 1/m!.
 *
 * What it proves: which job and which recipient key a leaked copy came from, to the lab (and to
 * whoever trusts the lab's key, since a MAC cannot be checked without it). What it does not:
 * which person at the recipient leaked it; and it does not survive a leaker who re-sorts the
 * entries and drops the identifier, nor one who copies values into another system. It is
 * attribution after the fact, not prevention: encryption to the recipient and four eyes are.
 */
export const WATERMARK_SYSTEM = 'urn:labkluis:export-watermark';
const VERSION = 'lkwm1';
const MARK = /^lkwm1\.([a-z2-7]{26})\.(\d{1,6})\.([A-Za-z0-9_-]{22})$/;

export interface Mark {
  /** 'lkwm1.<job>.<key version>.<tag>' */
  readonly value: string;
  readonly keyVersion: number;
  /** The sort key of 'Type/id' in this job's order for this recipient. */
  readonly order: (ref: string) => string;
}

export interface MarkCheck {
  /** The identifier is present and valid for this job and recipient. */
  readonly identifier: boolean;
  /** Adjacent entry pairs, and how many of them are in this job's order for this recipient. */
  readonly pairs: number;
  readonly inOrder: number;
}

export class Watermarks {
  readonly #keys: DataKeys;

  constructor(deps: { keys: DataKeys }) {
    this.#keys = deps.keys;
  }

  /** The mark for a new export, under the current key. */
  async mark(jobId: string, recipient: string): Promise<Mark> {
    const key = await this.#keys.current('*', 'export-mac');
    return markWith(key.key, key.version, jobId, recipient);
  }

  /**
   * Checks a (leaked) Bundle against a candidate job and recipient: its identifier, and how
   * many adjacent pairs of its entries (by 'Type/id') are in the order that job made for that
   * recipient. `keyVersion` is the one in the job's stored watermark.
   */
  async check(bundle: unknown, candidate: { jobId: string; recipient: string; keyVersion: number }): Promise<MarkCheck> {
    const key = await this.#keys.version('*', 'export-mac', candidate.keyVersion);
    const mark = markWith(key.key, key.version, candidate.jobId, candidate.recipient);
    const b = (typeof bundle === 'object' && bundle !== null ? bundle : {}) as { identifier?: { system?: unknown; value?: unknown }; entry?: unknown };
    const shown = b.identifier?.system === WATERMARK_SYSTEM && typeof b.identifier.value === 'string' ? b.identifier.value : '';
    const identifier = shown.length === mark.value.length && timingSafeEqual(Buffer.from(shown), Buffer.from(mark.value));
    const refs = (Array.isArray(b.entry) ? b.entry : []).flatMap((e: { resource?: { resourceType?: unknown; id?: unknown } }) =>
      typeof e?.resource?.resourceType === 'string' && typeof e.resource.id === 'string' ? [`${e.resource.resourceType}/${e.resource.id}`] : []);
    const keys = refs.map(mark.order);
    let inOrder = 0;
    for (let i = 1; i < keys.length; i++) if (keys[i - 1]! < keys[i]!) inOrder += 1;
    return { identifier, pairs: Math.max(0, keys.length - 1), inOrder };
  }
}

/** The job and key version a watermark names, or null if it is not one. */
export function parseMark(value: string): { jobId: string; keyVersion: number } | null {
  const m = MARK.exec(value);
  return m ? { jobId: m[1]!, keyVersion: Number(m[2]) } : null;
}

function markWith(key: Buffer, version: number, jobId: string, recipient: string): Mark {
  const tag = createHmac('sha256', key).update(`lkwm/1\x1f${jobId}\x1f${recipient}`).digest().subarray(0, 16).toString('base64url');
  const orderKey = createHmac('sha256', key).update(`lkwm-order/1\x1f${jobId}\x1f${recipient}`).digest();
  return Object.freeze({
    value: `${VERSION}.${jobId}.${version}.${tag}`,
    keyVersion: version,
    order: (ref: string) => createHmac('sha256', orderKey).update(ref).digest('hex').slice(0, 32),
  });
}
