/**
 * What a restore drill asks of the production server (issue 5): a signed checkpoint of the
 * audit log's current head, an RFC 6962 consistency proof between two sizes (both requests
 * signed with the drill key), and where the signed report goes. Production's answers are read
 * with a size cap, and its words reach the report shortened and as plain text only.
 */
import type { NoteSigner } from '../../audit/index.js';
import { LabkluisError, type Clock } from '../../kernel/index.js';
import { DRILL_REQUEST_HEADER, signDrillRequest } from './drill-report.js';

export interface ProductionLog {
  readonly name: string;
  /** A signed checkpoint (C2SP note) of the production audit log's current head. */
  checkpoint(): Promise<string>;
  /** The consistency proof from the tree of `first` entries to the tree of `second`. */
  consistency(first: number, second: number): Promise<Buffer[]>;
  /** Hands production the signed drill report. */
  submit(report: string): Promise<void>;
}

const B64_HASH = /^[A-Za-z0-9+/]{43}=$/;
/** A checkpoint is a few hundred bytes; a proof of a log of 2^40 entries about 2 KiB. */
const MAX_ANSWER = 64 * 1024;
const SUBMIT_TRIES = 4;

/**
 * The production server at its public URL: https, or http on the loopback only (a test, or a
 * tunnel), so no one on the way can drop the report or answer for production.
 */
export function httpProductionLog(baseUrl: string, signer: NoteSigner, clock: Clock, fetchImpl: typeof fetch = fetch): ProductionLog {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new LabkluisError('ERR_INVALID_INPUT', "the production server's URL is https://host[:port]");
  }
  const loopback = u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw new LabkluisError('ERR_INVALID_INPUT', "the production server's URL is https (http only on the loopback)");
  }
  const base = u.origin;
  const call = async (path: string, init: RequestInit = {}): Promise<string> => {
    const headers = new Headers(init.headers);
    if ((init.method ?? 'GET') === 'GET') headers.set(DRILL_REQUEST_HEADER, await signDrillRequest(signer, 'GET', path, clock.now().toISOString()));
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}`, { ...init, headers, redirect: 'error', signal: AbortSignal.timeout(120_000) });
    } catch {
      throw new LabkluisError('ERR_STORE', `the production server at ${base} did not answer`);
    }
    const text = await capped(res);
    if (!res.ok) {
      const retryAfter = Number(res.headers.get('retry-after'));
      throw Object.assign(new LabkluisError(res.status === 400 || res.status === 422 ? 'ERR_INVALID_INPUT' : 'ERR_STORE',
        `the production server refused ${path.split('?')[0]}: HTTP ${res.status}${diagnostics(text)}`), { status: res.status, retryAfter });
    }
    return text;
  };
  return {
    name: base,
    checkpoint: () => call('/audit/checkpoint'),
    consistency: async (first, second) => {
      let body: { proof?: unknown } | null = null;
      try {
        body = JSON.parse(await call(`/audit/consistency?first=${first}&second=${second}`)) as { proof?: unknown };
      } catch (e) {
        if (e instanceof LabkluisError) throw e;
      }
      const proof = body?.proof;
      if (!Array.isArray(proof) || proof.length > 64 || !proof.every((h) => typeof h === 'string' && B64_HASH.test(h))) {
        throw new LabkluisError('ERR_INTEGRITY', 'the production server sent a malformed consistency proof');
      }
      return proof.map((h: string) => Buffer.from(h, 'base64'));
    },
    submit: async (report) => {
      // A busy budget (429) is waited out, a few times: a report lost there would hide a failed drill.
      for (let attempt = 1; ; attempt++) {
        try {
          await call('/backup/drills', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ report }) });
          return;
        } catch (e) {
          const { status, retryAfter } = e as { status?: number; retryAfter?: number };
          if (status !== 429 || attempt >= SUBMIT_TRIES) throw e;
          await new Promise((r) => setTimeout(r, Math.min(60, Number.isFinite(retryAfter) && retryAfter! > 0 ? retryAfter! : 5) * 1000));
        }
      }
    },
  };
}

async function capped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER) {
      await reader.cancel().catch(() => {});
      throw new LabkluisError('ERR_INTEGRITY', 'the production server sent more than a drill asks for');
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Production's own words from an OperationOutcome, shortened and printable only. */
function diagnostics(text: string): string {
  try {
    const d = (JSON.parse(text) as { issue?: { diagnostics?: unknown }[] }).issue?.[0]?.diagnostics;
    return typeof d === 'string' ? `: ${d.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
