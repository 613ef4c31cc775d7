import { Encrypter } from 'age-encryption';
import { invalidInput } from '../kernel/index.js';

/**
 * An age X25519 recipient (https://age-encryption.org/v1): 'age1' and 58 bech32 characters
 * holding a 32-byte Curve25519 public key. Only this kind: a post-quantum hybrid ('age1pq1…')
 * or a plugin recipient may be fine for age, but `age -d` on the recipient's side and this
 * check must agree on exactly one format. Bech32 is case-insensitive but age writes lowercase;
 * so do we, so that one key has one spelling (the watermark is keyed on it).
 */
const X25519_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

export function parseRecipientKey(value: unknown, expression = 'recipient.key'): string {
  const key = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (!X25519_RECIPIENT.test(key) || !decodes(key)) {
    throw invalidInput('the recipient is an age X25519 public key (age1…, as age-keygen prints it)', [
      { expression, diagnostics: 'not an age X25519 recipient' },
    ]);
  }
  return key;
}

/** The checksum and the key length, as the age library reads them when it encrypts. */
function decodes(key: string): boolean {
  try {
    new Encrypter().addRecipient(key);
    return true;
  } catch {
    return false;
  }
}
