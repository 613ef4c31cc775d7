/**
 * Backup objects: each pack of a snapshot's chunks (packer.ts) encrypted to the offline
 * recipients with age (https://age-encryption.org/v1; X25519, or the post-quantum hybrid ML-KEM-768 + X25519 when
 * an `age1pq1…` recipient is given), so the production server can write backups it cannot read
 * back. An object is named by the SHA-256 of its stored bytes: every target and `backup
 * verify` can check it without any key. A keyed MAC of a chunk's plaintext (the backup's MAC
 * key) finds a chunk already stored by an earlier snapshot, without revealing the chunk to anyone
 * who lacks the key.
 */
import { createHash, createHmac } from 'node:crypto';
import { Decrypter, Encrypter } from 'age-encryption';
import { LabkluisError } from '../kernel/index.js';
import { openX25519, sealX25519, x25519Identity, x25519Recipient, type X25519Identity, type X25519Recipient } from './age-x25519.js';

/** An age recipient labkluis accepts for backups: X25519 (`age1…`) or the hybrid (`age1pq1…`). */
const RECIPIENT = /^age1(pq1)?[02-9ac-hj-np-z]{20,}$/;

export interface SealedObject {
  /** SHA-256 (hex) of `bytes`: the object's name. */
  readonly id: string;
  readonly bytes: Buffer;
}

export function objectId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Checks backup recipients: one or more age public keys, each once, lowercase as age writes them. */
export function checkRecipients(recipients: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const r of recipients) {
    const key = typeof r === 'string' ? r.trim() : '';
    if (!RECIPIENT.test(key) || out.includes(key)) {
      throw new LabkluisError('ERR_CONFIG', 'backup recipients are age public keys (age1… or age1pq1…, as age-keygen prints them), each once');
    }
    try {
      new Encrypter().addRecipient(key);
    } catch {
      throw new LabkluisError('ERR_CONFIG', 'a backup recipient is not a valid age public key (its checksum or length is wrong)');
    }
    out.push(key);
  }
  if (out.length === 0) throw new LabkluisError('ERR_CONFIG', 'a backup needs at least one offline recipient');
  return out;
}

/** Seals chunks to fixed recipients under one MAC key. */
export class ObjectSealer {
  readonly #recipients: readonly string[];
  readonly #macKey: Buffer;
  /** The recipients' X25519 keys when all are X25519: sealed on Node's own crypto (age-x25519.ts). */
  readonly #x25519: X25519Recipient[] | null;

  constructor(recipients: readonly string[], macKey: Buffer) {
    if (macKey.length !== 32) throw new TypeError('the backup MAC key is 32 bytes');
    this.#recipients = checkRecipients(recipients);
    this.#macKey = macKey;
    const keys = this.#recipients.map(x25519Recipient);
    this.#x25519 = keys.every((k) => k !== null) ? (keys as X25519Recipient[]) : null;
  }

  /** HMAC-SHA256 (hex) of a chunk's plaintext under the MAC key: the same chunk, the same MAC. */
  mac(plaintext: Uint8Array): string {
    return createHmac('sha256', this.#macKey).update(plaintext).digest('hex');
  }

  /** Seals a plaintext, or the concatenation of parts (not joined first on the X25519 path). */
  async seal(plaintext: Uint8Array | readonly Uint8Array[]): Promise<SealedObject> {
    let bytes: Buffer;
    if (this.#x25519 !== null) {
      bytes = sealX25519(plaintext, this.#x25519);
    } else {
      const e = new Encrypter();
      for (const r of this.#recipients) e.addRecipient(r);
      bytes = Buffer.from(await e.encrypt(plaintext instanceof Uint8Array ? plaintext : Buffer.concat(plaintext)));
    }
    return { id: objectId(bytes), bytes };
  }
}

/**
 * Opens objects with the offline identities (`AGE-SECRET-KEY-1…`, or the hybrid's): where the
 * backup key's holder restores or drills, never on the production server. The identities are
 * parsed once. An object whose bytes do not hash to `id` is refused before any decryption.
 */
export class ObjectOpener {
  readonly #identities: readonly string[];
  readonly #x25519: X25519Identity[];

  constructor(identities: readonly string[]) {
    this.#identities = identities;
    this.#x25519 = identities.map(x25519Identity).filter((k): k is X25519Identity => k !== null);
  }

  async open(id: string, bytes: Uint8Array): Promise<Buffer> {
    if (objectId(bytes) !== id) throw new LabkluisError('ERR_INTEGRITY', `backup object ${id.slice(0, 16)}… is damaged: its bytes do not hash to its name`);
    const refused = (): LabkluisError => new LabkluisError('ERR_INTEGRITY', `backup object ${id.slice(0, 16)}… does not decrypt with the given identity`);
    // X25519 identities on Node's own crypto first; the hybrid's (or an object no X25519 identity opens) through age-encryption.
    if (this.#x25519.length > 0) {
      let plain: Buffer | null;
      try {
        plain = openX25519(bytes, this.#x25519);
      } catch {
        throw refused();
      }
      if (plain !== null) return plain;
    }
    const d = new Decrypter();
    for (const i of this.#identities) d.addIdentity(i);
    try {
      return Buffer.from(await d.decrypt(bytes));
    } catch {
      throw refused();
    }
  }
}

/** One object with the offline identities (ObjectOpener, for one). */
export async function openObject(id: string, bytes: Uint8Array, identities: readonly string[]): Promise<Buffer> {
  return new ObjectOpener(identities).open(id, bytes);
}
