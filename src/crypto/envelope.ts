import type { Random } from '../kernel/index.js';
import { openAesGcm, sealAesGcm, decryptionFailed } from './aead.js';

/**
 * Record encryption. Every identity record and clinical body is sealed with the tenant's data
 * key; the associated data binds tenant, type, id and version, so a ciphertext moved to another
 * record, tenant or version fails to open (DESIGN.md invariant 2).
 *
 * Format: 0x01 | key version (u32 BE) | nonce (12) | ciphertext | tag (16).
 */
export interface RecordAddress {
  readonly tenant: string;
  readonly type: string;
  readonly id: string;
  readonly version: number;
}

export interface DataKey {
  readonly version: number;
  readonly key: Buffer;
}

export interface RecordCipher {
  readonly name: string;
  seal(key: DataKey, address: RecordAddress, plaintext: Buffer): Buffer;
  /** Returns the key version a blob was sealed with, so the caller can pick the key. */
  keyVersionOf(blob: Buffer): number;
  open(key: DataKey, address: RecordAddress, blob: Buffer): Buffer;
}

const FORMAT_AES_GCM = 0x01;
const FORMAT_NULL = 0x00;

export function aadOf(a: RecordAddress): Buffer {
  // Unit separators cannot occur in FHIR ids or tenant ids, so fields cannot run together.
  return Buffer.from(`labkluis/v1\x1f${a.tenant}\x1f${a.type}\x1f${a.id}\x1f${a.version}`, 'utf8');
}

export function aesGcmCipher(random: Random): RecordCipher {
  return Object.freeze({
    name: 'aes-256-gcm',
    seal(key: DataKey, address: RecordAddress, plaintext: Buffer): Buffer {
      const header = Buffer.alloc(5);
      header[0] = FORMAT_AES_GCM;
      header.writeUInt32BE(key.version, 1);
      return Buffer.concat([header, sealAesGcm(key.key, random.bytes(12), plaintext, aadOf(address))]);
    },
    keyVersionOf(blob: Buffer): number {
      if (blob.length < 5 || blob[0] !== FORMAT_AES_GCM) throw decryptionFailed();
      return blob.readUInt32BE(1);
    },
    open(key: DataKey, address: RecordAddress, blob: Buffer): Buffer {
      if (blob.length < 5 || blob[0] !== FORMAT_AES_GCM || blob.readUInt32BE(1) !== key.version) throw decryptionFailed();
      return openAesGcm(key.key, blob.subarray(5), aadOf(address));
    },
  });
}

/**
 * No encryption at all. Exists only so the benchmark can measure the cost of encryption in one
 * run; the composition root refuses it unless explicitly asked for by the benchmark.
 */
export function nullCipherForBenchmarkOnly(): RecordCipher {
  return Object.freeze({
    name: 'null',
    seal: (key: DataKey, _a: RecordAddress, plaintext: Buffer) => {
      const header = Buffer.alloc(5);
      header[0] = FORMAT_NULL;
      header.writeUInt32BE(key.version, 1);
      return Buffer.concat([header, plaintext]);
    },
    keyVersionOf: (blob: Buffer) => blob.readUInt32BE(1),
    open: (_k: DataKey, _a: RecordAddress, blob: Buffer) => {
      if (blob[0] !== FORMAT_NULL) throw decryptionFailed();
      return blob.subarray(5);
    },
  });
}
