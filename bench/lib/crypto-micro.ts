/**
 * The intrinsic cost of record encryption, apart from everything else the vault does: the
 * RecordCipher's seal and open over the JSON of real demo resources, AES-256-GCM against the
 * null cipher, interleaved repetitions, CPU only. Read with the ingest CPU time per resource,
 * it says how much of the end-to-end overhead encryption can possibly explain; the end-to-end
 * figure on a shared 2-core machine carries far more noise than this.
 */
import { randomBytes } from 'node:crypto';
import { aesGcmCipher, nullCipherForBenchmarkOnly, type RecordCipher } from '../../src/crypto/index.js';
import { systemRandom } from '../../src/kernel/index.js';
import { generateDemo } from '../../src/demo/index.js';
import { systemClock } from '../../src/kernel/index.js';
import { round } from './stats.js';

export interface CipherMicro {
  readonly resources: number;
  readonly meanPlaintextBytes: number;
  readonly repetitions: number;
  /** Microseconds per resource, best repetition (least disturbed). */
  readonly sealUs: { readonly aes: number; readonly null: number };
  readonly openUs: { readonly aes: number; readonly null: number };
}

export function cipherMicro(repetitions = 7): CipherMicro {
  const data = generateDemo({ random: systemRandom, clock: systemClock, tenants: 3, patientsPerTenant: 300 });
  const plain: { address: { tenant: string; type: string; id: string; version: number }; bytes: Buffer }[] = [];
  for (const b of data.bundles) {
    for (const e of b.entry ?? []) {
      const r = e.resource as { resourceType: string };
      const id = randomBytes(16).toString('hex');
      plain.push({ address: { tenant: 'tenant-1', type: r.resourceType, id, version: 1 }, bytes: Buffer.from(JSON.stringify({ ...r, id })) });
    }
  }
  const key = { version: 1, key: randomBytes(32) };
  const ciphers: Record<'aes' | 'null', RecordCipher> = { aes: aesGcmCipher(systemRandom), null: nullCipherForBenchmarkOnly() };
  const best = { seal: { aes: Infinity, null: Infinity }, open: { aes: Infinity, null: Infinity } };
  for (let rep = 0; rep < repetitions + 1; rep++) {
    for (const name of rep % 2 === 0 ? (['aes', 'null'] as const) : (['null', 'aes'] as const)) {
      const c = ciphers[name];
      const t0 = performance.now();
      const sealed = plain.map((p) => c.seal(key, p.address, p.bytes));
      const t1 = performance.now();
      for (let i = 0; i < sealed.length; i++) c.open(key, plain[i]!.address, sealed[i]!);
      const t2 = performance.now();
      if (rep === 0) continue; // the first round only warms the JIT
      best.seal[name] = Math.min(best.seal[name], ((t1 - t0) * 1000) / plain.length);
      best.open[name] = Math.min(best.open[name], ((t2 - t1) * 1000) / plain.length);
    }
  }
  const bytes = plain.reduce((n, p) => n + p.bytes.length, 0);
  return {
    resources: plain.length,
    meanPlaintextBytes: Math.round(bytes / plain.length),
    repetitions,
    sealUs: { aes: round(best.seal.aes, 2), null: round(best.seal.null, 2) },
    openUs: { aes: round(best.open.aes, 2), null: round(best.open.null, 2) },
  };
}
