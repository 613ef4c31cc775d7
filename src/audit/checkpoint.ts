/**
 * Signed checkpoints: a C2SP tlog-checkpoint body (https://c2sp.org/tlog-checkpoint)
 *   "<origin>\n<size>\n<base64 root>\n"
 * wrapped in a C2SP signed note (https://c2sp.org/signed-note) with an Ed25519 signature:
 *   "<text>\n— <name> <base64(key hash || signature)>\n".
 * The key hash is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), and the
 * verifier key string is "<name>+<hex key hash>+<base64(0x01 || public key)>", as in Go's
 * golang.org/x/mod/sumdb/note, so any witness or tool from that ecosystem can check our notes.
 */
import { createHash, createPublicKey, sign as signEd25519, verify as verifySignature, type KeyObject } from 'node:crypto';
import { LabkluisError } from '../kernel/index.js';
import { HASH_SIZE } from './merkle.js';

const ALG_ED25519 = 0x01;
const MAX_SIGNATURES = 100; // as sumdb/note: bounds the work an attacker can make us do
const SIG_PREFIX = '\u2014 '; // EM DASH, SPACE
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Signs note text. The private key stays behind this interface (a KMS, an HSM, a KeyObject). */
export interface NoteSigner {
  readonly name: string;
  readonly publicKey: Buffer; // raw 32-byte Ed25519 public key
  sign(message: Buffer): Buffer | Promise<Buffer>;
}

export interface VerifierKey {
  readonly name: string;
  readonly keyHash: Buffer;
  readonly publicKey: KeyObject;
}

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
}

const malformed = (what: string): LabkluisError => new LabkluisError('ERR_INTEGRITY', `malformed note: ${what}`);
const notVerified = (): LabkluisError => new LabkluisError('ERR_INTEGRITY', 'note does not verify');

function strictB64(s: string): Buffer | null {
  if (s.length % 4 !== 0 || !B64.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : null; // refuse non-canonical padding bits
}

/** A key name: non-empty, no whitespace, no '+' (C2SP signed-note). */
function checkName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name)) throw new TypeError('note key name must be non-empty, without spaces or "+"');
}

export function keyHash(name: string, publicKey: Uint8Array): Buffer {
  return createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, ALG_ED25519])).update(publicKey).digest().subarray(0, 4);
}

export function verifierKeyString(name: string, publicKey: Uint8Array): string {
  checkName(name);
  if (publicKey.length !== 32) throw new TypeError('Ed25519 public key must be 32 bytes');
  const typed = Buffer.concat([Buffer.from([ALG_ED25519]), publicKey]).toString('base64');
  return `${name}+${keyHash(name, publicKey).toString('hex')}+${typed}`;
}

/** A NoteSigner over a local Ed25519 private KeyObject (tests, single-node deployments). */
export function ed25519NoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  checkName(name);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('need an Ed25519 private key');
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = Buffer.from(jwk.x ?? '', 'base64url');
  return Object.freeze({ name, publicKey, sign: (message: Buffer) => signEd25519(null, message, privateKey) });
}

/** Parses "<name>+<hex hash>+<base64(0x01||key)>" and checks that the hash fits the key. */
export function parseVerifierKey(vkey: string): VerifierKey {
  const bad = (): LabkluisError => new LabkluisError('ERR_CONFIG', 'invalid note verifier key');
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw bad();
  const name = vkey.slice(0, first);
  const hashHex = vkey.slice(first + 1, second);
  const typed = strictB64(vkey.slice(second + 1));
  if (/[\s]/u.test(name) || !/^[0-9a-f]{8}$/.test(hashHex) || typed === null) throw bad();
  if (typed.length !== 33 || typed[0] !== ALG_ED25519) throw bad();
  const raw = typed.subarray(1);
  if (!keyHash(name, raw).equals(Buffer.from(hashHex, 'hex'))) throw bad();
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  return { name, keyHash: Buffer.from(hashHex, 'hex'), publicKey };
}

function checkText(text: string): void {
  // C2SP signed-note: UTF-8 text ending in a newline, no other control characters.
  if (!text.endsWith('\n')) throw malformed('text must end with a newline');
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)) throw malformed('control character in text');
}

/** Signs text and returns the note: text, a blank line, one signature line. */
export async function signNote(text: string, signer: NoteSigner): Promise<string> {
  checkName(signer.name);
  checkText(text);
  const sig = await signer.sign(Buffer.from(text, 'utf8'));
  if (sig.length !== 64) throw new TypeError('Ed25519 signature must be 64 bytes');
  const blob = Buffer.concat([keyHash(signer.name, signer.publicKey), sig]).toString('base64');
  return `${text}\n${SIG_PREFIX}${signer.name} ${blob}\n`;
}

/**
 * Opens a signed note: returns its text if a signature by `vkey` verifies. Signatures by other
 * keys are ignored (a witness may cosign); a signature that claims our key but fails is refused.
 */
export function openNote(note: string, vkey: string | VerifierKey): string {
  const key = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  if (!note.endsWith('\n')) throw malformed('must end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no signature block');
  const text = note.slice(0, split + 1);
  checkText(text);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw malformed('too many signatures');
  let verified = false;
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) throw malformed('signature line');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.lastIndexOf(' ');
    const name = rest.slice(0, space);
    const blob = space > 0 ? strictB64(rest.slice(space + 1)) : null;
    if (space <= 0 || /[\s+]/u.test(name) || blob === null || blob.length < 5) throw malformed('signature line');
    if (name !== key.name || !blob.subarray(0, 4).equals(key.keyHash)) continue; // someone else's
    const sig = blob.subarray(4);
    if (sig.length !== 64 || !verifySignature(null, Buffer.from(text, 'utf8'), key.publicKey, sig)) throw notVerified();
    verified = true;
  }
  if (!verified) throw notVerified();
  return text;
}

/** The C2SP tlog-checkpoint body. */
export function checkpointText(cp: Checkpoint): string {
  if (cp.origin.length === 0 || /[\n\r]/.test(cp.origin)) throw new TypeError('checkpoint origin must be one non-empty line');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new TypeError('checkpoint size must be a non-negative integer');
  if (cp.root.length !== HASH_SIZE) throw new TypeError('checkpoint root must be 32 bytes');
  return `${cp.origin}\n${cp.size}\n${cp.root.toString('base64')}\n`;
}

export function signCheckpoint(cp: Checkpoint, signer: NoteSigner): Promise<string> {
  return signNote(checkpointText(cp), signer);
}

/** Verifies a checkpoint note for `origin` and returns what it commits to. */
export function openCheckpoint(note: string, vkey: string | VerifierKey, origin: string): Checkpoint {
  const text = openNote(note, vkey);
  const [o, sizeLine, rootLine, ...extensions] = text.slice(0, -1).split('\n');
  if (o === undefined || sizeLine === undefined || rootLine === undefined) throw malformed('checkpoint needs three lines');
  // Extension lines are allowed by tlog-checkpoint but must not be empty.
  if (extensions.some((l) => l.length === 0)) throw malformed('empty checkpoint extension line');
  if (o !== origin) throw new LabkluisError('ERR_INTEGRITY', 'checkpoint is for another log');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) throw malformed('checkpoint size');
  const root = strictB64(rootLine);
  if (root === null || root.length !== HASH_SIZE) throw malformed('checkpoint root');
  return { origin: o, size: Number(sizeLine), root };
}
