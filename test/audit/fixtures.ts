/** Shared test fixtures for the audit log: drafts, a counting Random, keys. */
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { Random } from '../../src/kernel/index.js';
import { ed25519NoteSigner, verifierKeyString, type AuditDraft, type NoteSigner } from '../../src/audit/index.js';

/** Deterministic Random: bytes and UUIDs derived from a counter, so runs are repeatable. */
export function countingRandom(seed = 'audit-test'): Random {
  let n = 0;
  const next = (len: number): Buffer => {
    const out = Buffer.alloc(len);
    for (let off = 0; off < len; off += 32) {
      createHash('sha256').update(`${seed}:${n++}`).digest().copy(out, off);
    }
    return out;
  };
  return {
    bytes: next,
    uuid: () => {
      const h = next(16).toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
  };
}

export const MAC_KEY = Buffer.alloc(32, 7);
export const ORIGIN = 'lab.example.nl/labkluis/audit';

export function draft(overrides: Partial<AuditDraft> = {}): AuditDraft {
  return {
    action: 'R',
    operation: 'read',
    principal: { id: 'p-analyst-07', role: 'analyst', handle: 'analyst-07' },
    actingFor: 'lab-rijswijk',
    purposeOfUse: 'TREAT',
    tenant: 'lab-rijswijk',
    patients: ['k3x7q2m4n5p6r7s8t9u2v3w4x5'],
    objects: [{ type: 'Observation', id: 'obs-1', version: 2 }],
    outcome: 'success',
    errorCode: null,
    accessPoint: { ip: '192.0.2.10', userAgent: 'vitest', node: 'node-a' },
    emergency: false,
    ...overrides,
  };
}

export function newSigner(name = 'lab.example.nl/labkluis'): { signer: NoteSigner; vkey: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = ed25519NoteSigner(name, privateKey);
  return { signer, vkey: verifierKeyString(name, signer.publicKey) };
}
