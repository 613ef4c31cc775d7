/**
 * The age v1 file format (https://age-encryption.org/v1) for X25519 recipients, on Node's own
 * crypto: X25519, HKDF-SHA256, HMAC-SHA256 and ChaCha20-Poly1305 are native here, where the
 * age-encryption package does the key exchange through WebCrypto and the cipher in JavaScript,
 * about 3 ms per file whatever its size: most of a backup's and a restore's time when every
 * chunk is a file. What this writes, `age` and age-encryption read, and the other way round
 * (test/backup/age-x25519.test.ts checks both directions). The post-quantum hybrid recipients
 * and identities stay with age-encryption (objects.ts chooses).
 *
 * A file: "age-encryption.org/v1\n", one "-> X25519 <ephemeral share>\n<wrapped file key>\n"
 * stanza per recipient, "--- <header MAC>\n", then a 16-byte nonce and the payload in 64 KiB
 * ChaCha20-Poly1305 chunks (STREAM: an 11-byte counter and a last-chunk flag as the nonce).
 */
import {
  createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync,
  randomBytes, timingSafeEqual, type KeyObject,
} from 'node:crypto';
import { bech32 } from '@scure/base';

const VERSION_LINE = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const CHUNK = 64 * 1024;
const TAG = 16;
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** An X25519 recipient, parsed once: its 32 raw bytes and its key object. */
export interface X25519Recipient {
  readonly raw: Buffer;
  readonly key: KeyObject;
}

/** An X25519 identity, parsed once: its private key object and the raw public key it answers to. */
export interface X25519Identity {
  readonly key: KeyObject;
  readonly pub: Buffer;
}

/** An `age1…` X25519 recipient; null for anything else (the hybrid, a typo). */
export function x25519Recipient(recipient: string): X25519Recipient | null {
  try {
    const { prefix, bytes } = bech32.decodeToBytes(recipient);
    return prefix === 'age' && bytes.length === 32 ? { raw: Buffer.from(bytes), key: publicKeyOf(bytes) } : null;
  } catch {
    return null;
  }
}

/** An `AGE-SECRET-KEY-1…` X25519 identity; null for anything else. */
export function x25519Identity(identity: string): X25519Identity | null {
  try {
    const { prefix, bytes } = bech32.decodeToBytes(identity.toLowerCase());
    if (prefix !== 'age-secret-key-' || bytes.length !== 32) return null;
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, bytes]), format: 'der', type: 'pkcs8' });
    return { key, pub: rawPublic(createPublicKey(key)) };
  } catch {
    return null;
  }
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64').replace(/=+$/, '');
/** Base64 as age writes it: standard alphabet, no padding, canonical (Node's decoder alone is lenient). */
function strictB64(s: string, bytes: number): Buffer {
  const b = Buffer.from(s, 'base64');
  if (!/^[A-Za-z0-9+/]*$/.test(s) || b.length !== bytes || b64(b) !== s) throw new TypeError('malformed age header: base64');
  return b;
}

/** X25519 with the all-zero check age requires, whatever the crypto provider does with low-order points. */
function agree(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch {
    throw new TypeError('X25519 with a low-order point');
  }
  if (shared.every((x) => x === 0)) throw new TypeError('X25519 with a low-order point');
  return shared;
}
const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: string): Buffer => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
// JWK, not DER: Node imports and exports it several times faster (µs, per object).
const publicKeyOf = (raw: Uint8Array): KeyObject => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
const rawPublic = (key: KeyObject): Buffer => Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');

function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer | null {
  if (sealed.length < TAG) return null;
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
  } catch {
    return null;
  }
}

function streamNonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6); // bytes 0..10 are the big-endian counter; 2^48 chunks is far beyond any object
  n[11] = last ? 1 : 0;
  return n;
}

/** Encrypts to X25519 recipients, as age does. */
export function sealX25519(plaintext: Uint8Array | readonly Uint8Array[], recipients: readonly X25519Recipient[]): Buffer {
  if (recipients.length === 0) throw new TypeError('age needs at least one recipient');
  const fileKey = randomBytes(16);
  let header = `${VERSION_LINE}\n`;
  for (const r of recipients) {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const share = rawPublic(publicKey);
    const shared = agree(privateKey, r.key);
    const wrapKey = hkdf(shared, Buffer.concat([share, r.raw]), X25519_INFO);
    header += `-> X25519 ${b64(share)}\n${b64(seal(wrapKey, Buffer.alloc(12), fileKey))}\n`;
  }
  header += '---';
  const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(header, 'latin1').digest();
  const nonce = randomBytes(16);
  const payloadKey = hkdf(fileKey, nonce, 'payload');
  const out: Uint8Array[] = [Buffer.from(`${header} ${b64(mac)}\n`, 'latin1'), nonce];
  // The payload in STREAM segments of CHUNK bytes, each read from the parts where it lies (a
  // pack's chunks are sealed as they are, not first copied into one buffer).
  const parts = plaintext instanceof Uint8Array ? [plaintext] : plaintext;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const segments = Math.max(1, Math.ceil(total / CHUNK));
  let [part, at] = [0, 0];
  for (let i = 0; i < segments; i++) {
    const c = createCipheriv('chacha20-poly1305', payloadKey, streamNonce(i, i === segments - 1), { authTagLength: TAG });
    for (let left = Math.min(CHUNK, total - i * CHUNK); left > 0;) {
      const p = parts[part]!;
      const n = Math.min(left, p.length - at);
      out.push(c.update(p.subarray(at, at + n)));
      [left, at] = [left - n, at + n];
      if (at === p.length) [part, at] = [part + 1, 0];
    }
    c.final();
    out.push(c.getAuthTag());
  }
  return Buffer.concat(out);
}

/**
 * Decrypts an age file with X25519 identities. Null when no X25519
 * stanza opens with them (the caller may try other identities); throws when the file is
 * malformed or its header MAC or payload does not authenticate.
 */
export function openX25519(file: Uint8Array, identities: readonly X25519Identity[]): Buffer | null {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const end = bytes.indexOf('\n--- ', 0, 'latin1');
  const macEnd = end < 0 ? -1 : bytes.indexOf(0x0a, end + 5);
  if (end < 0 || macEnd < 0 || end > 64 * 1024) throw new TypeError('not an age file');
  const headerText = bytes.subarray(0, end + 4).toString('latin1'); // up to and including "---"
  if (!/^[\x20-\x7e\n]*$/.test(headerText)) throw new TypeError('malformed age header: not printable ASCII');
  const lines = headerText.split('\n');
  if (lines[0] !== VERSION_LINE) throw new TypeError('not an age v1 file');
  const mac = strictB64(bytes.subarray(end + 5, macEnd).toString('latin1'), 32);
  // Stanzas: "-> type args…", then body lines of 64 columns ending with a shorter one (maybe empty).
  const stanzas: { type: string; args: string[]; body: string }[] = [];
  let i = 1;
  while (i < lines.length - 1) {
    const head = lines[i]!;
    const [arrow, type, ...args] = head.split(' ');
    if (arrow !== '->' || !type || args.some((x) => x === '')) throw new TypeError('malformed age header: stanza');
    let body = '';
    for (i += 1; ; i += 1) {
      if (i >= lines.length - 1) throw new TypeError('malformed age header: stanza body');
      const line = lines[i]!;
      if (line.length > 64) throw new TypeError('malformed age header: body line');
      body += line;
      if (line.length < 64) break;
    }
    i += 1;
    stanzas.push({ type, args, body });
  }
  if (stanzas.length === 0) throw new TypeError('malformed age header: no recipient');
  let fileKey: Buffer | null = null;
  for (const s of stanzas) {
    if (s.type !== 'X25519') continue;
    if (s.args.length !== 1) throw new TypeError('malformed age header: X25519 stanza');
    const share = strictB64(s.args[0]!, 32);
    const wrapped = strictB64(s.body, 32);
    const ephemeral = publicKeyOf(share);
    for (const id of identities) {
      const shared = agree(id.key, ephemeral); // a low-order share is refused, as age refuses it
      fileKey = open(hkdf(shared, Buffer.concat([share, id.pub]), X25519_INFO), Buffer.alloc(12), wrapped);
      if (fileKey !== null) break;
    }
    if (fileKey !== null) break;
  }
  if (fileKey === null || fileKey.length !== 16) return null;
  const expected = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(headerText, 'latin1').digest();
  if (mac.length !== 32 || !timingSafeEqual(mac, expected)) throw new TypeError('the age header does not authenticate');
  const nonce = bytes.subarray(macEnd + 1, macEnd + 17);
  if (nonce.length !== 16) throw new TypeError('truncated age file');
  const payloadKey = hkdf(fileKey, nonce, 'payload');
  const payload = bytes.subarray(macEnd + 17);
  const sealedChunk = CHUNK + TAG;
  const chunks = Math.max(1, Math.ceil(payload.length / sealedChunk));
  const out: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const last = i === chunks - 1;
    const plain = open(payloadKey, streamNonce(i, last), payload.subarray(i * sealedChunk, (i + 1) * sealedChunk));
    // A final chunk may be empty only when the whole payload is (age's rule against appended empty chunks).
    if (plain === null || (last && plain.length === 0 && i > 0)) throw new TypeError('the age payload does not authenticate');
    out.push(plain);
  }
  return Buffer.concat(out);
}
