/**
 * What a restore drill asks of the production server (issue 5), over its public routes: a
 * signed checkpoint of the audit log's current head, an RFC 6962 consistency proof between two
 * sizes, and where the signed report goes. None of it needs a credential: checkpoints and
 * proofs are hashes, and a report is taken only when the drill key's signature verifies.
 */
import { LabkluisError } from '../../kernel/index.js';

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

/** The production server at an http(s) base URL (its public URL). */
export function httpProductionLog(baseUrl: string, fetchImpl: typeof fetch = fetch): ProductionLog {
  const base = baseUrl.replace(/\/+$/, '');
  const call = async (path: string, init?: RequestInit): Promise<Response> => {
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}`, { ...init, signal: AbortSignal.timeout(60_000) });
    } catch {
      throw new LabkluisError('ERR_STORE', `the production server at ${base} did not answer`);
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { issue?: { diagnostics?: string }[] } | null;
      const why = body?.issue?.[0]?.diagnostics ?? `HTTP ${res.status}`;
      throw new LabkluisError(res.status === 400 || res.status === 422 ? 'ERR_INVALID_INPUT' : 'ERR_STORE', `the production server refused ${path.split('?')[0]}: ${why}`);
    }
    return res;
  };
  return {
    name: base,
    checkpoint: async () => (await call('/audit/checkpoint')).text(),
    consistency: async (first, second) => {
      const body = (await (await call(`/audit/consistency?first=${first}&second=${second}`)).json().catch(() => null)) as { proof?: unknown } | null;
      const proof = body?.proof;
      if (!Array.isArray(proof) || !proof.every((h) => typeof h === 'string' && B64_HASH.test(h))) {
        throw new LabkluisError('ERR_INTEGRITY', 'the production server sent a malformed consistency proof');
      }
      return proof.map((h: string) => Buffer.from(h, 'base64'));
    },
    submit: async (report) => {
      await call('/backup/drills', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ report }) });
    },
  };
}
