import { createCipheriv, createDecipheriv } from 'node:crypto';
import { LabkluisError } from '../kernel/index.js';

/** AES-256-GCM with a 96-bit random nonce (NIST SP 800-38D §8.2.2). Output: nonce || ct || tag. */
export function sealAesGcm(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([nonce, head, tail, cipher.getAuthTag()]);
}

export function openAesGcm(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < 12 + 16) throw decryptionFailed();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
  } catch {
    throw decryptionFailed();
  }
}

// Crypto failures say nothing about why (STYLE.md §4).
export const decryptionFailed = (): LabkluisError => new LabkluisError('ERR_DECRYPTION_FAILED', 'decryption failed');
