import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkpointText, ed25519NoteSigner, EMPTY_ROOT, keyHash, openCheckpoint, openNote, parseVerifierKey, signCheckpoint,
  signNote, verifierKeyString,
} from '../../src/audit/index.js';
import { isLabkluisError } from '../../src/kernel/index.js';
import { newSigner, ORIGIN } from './fixtures.js';

// The example of golang.org/x/mod/sumdb/note (package doc and note_test.go), confirmed from the
// Go source: signer key, verifier key, text and the published signed note.
const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

/** Go's signer key: PRIVATE+KEY+<name>+<hash>+base64(0x01 || 32-byte Ed25519 seed). */
function goSigner(skey: string) {
  const parts = skey.split('+');
  const seed = Buffer.from(parts.slice(4).join('+'), 'base64').subarray(1);
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return ed25519NoteSigner(parts[2]!, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
}

function integrityError(f: () => unknown): boolean {
  try { f(); } catch (e) { return isLabkluisError(e, 'ERR_INTEGRITY'); }
  return false;
}

describe('C2SP signed note (Go sumdb/note example)', () => {
  it('opens the published note with the published verifier key', () => {
    expect(openNote(GO_NOTE, GO_VKEY)).toBe(GO_TEXT);
  });

  it('reproduces the published note byte for byte (Ed25519 is deterministic)', async () => {
    const signer = goSigner(GO_SKEY);
    expect(verifierKeyString('PeterNeumann', signer.publicKey)).toBe(GO_VKEY);
    expect(keyHash('PeterNeumann', signer.publicKey).toString('hex')).toBe('c74f20a3');
    expect(await signNote(GO_TEXT, signer)).toBe(GO_NOTE);
  });

  it('refuses an altered text, a wrong key, a missing signature and malformed lines', () => {
    const other = newSigner('PeterNeumann').vkey; // same name, other key: hash differs, so no signature of ours
    expect(integrityError(() => openNote(GO_NOTE.replace('cryptography', 'cryptographY'), GO_VKEY))).toBe(true);
    expect(integrityError(() => openNote(GO_NOTE, other))).toBe(true);
    expect(integrityError(() => openNote(`${GO_TEXT}\n`, GO_VKEY))).toBe(true);
    expect(integrityError(() => openNote(GO_TEXT, GO_VKEY))).toBe(true);
    const malformed = [
      GO_NOTE.replace('\u2014 ', '- '), // wrong dash
      GO_NOTE.slice(0, -1), // no final newline
      GO_NOTE.replace('PeterNeumann x08', 'PeterNeumann  x08'), // extra space
      GO_NOTE.replace('JnAM=', 'JnAM'), // bad base64
      GO_NOTE.replace('x08go/', 'x08go!'),
      GO_NOTE.replace('answer', 'ans\twer'), // control character
      `${GO_NOTE}\u2014 Someone AAAA\n`, // signature too short (< 5 bytes)
    ];
    for (const note of malformed) expect(integrityError(() => openNote(note, GO_VKEY)), note).toBe(true);
  });

  it('ignores signatures by other keys but refuses a bad signature that claims our key', async () => {
    const witness = newSigner('witness.example');
    const cosigned = await signNote(GO_TEXT, witness.signer);
    const both = `${GO_NOTE}${cosigned.slice(cosigned.lastIndexOf('\u2014'))}`;
    expect(openNote(both, GO_VKEY)).toBe(GO_TEXT);
    expect(openNote(both, witness.vkey)).toBe(GO_TEXT);
    const forged = GO_NOTE.replace('x08go/ZJ', 'x08go/ZK');
    expect(integrityError(() => openNote(forged, GO_VKEY))).toBe(true);
  });

  it('refuses malformed verifier keys', () => {
    for (const bad of [
      'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // wrong hash
      'PeterNeumann+c74f20a3+AhpC2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // wrong alg / key
      'PeterNeumann+c74f20a3', 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', '',
    ]) expect(() => parseVerifierKey(bad)).toThrow(/verifier key/);
  });
});

describe('tlog checkpoint', () => {
  const root = Buffer.alloc(32, 0xab);

  it('signs and opens "<origin>\\n<size>\\n<base64 root>\\n"', async () => {
    const { signer, vkey } = newSigner();
    expect(checkpointText({ origin: ORIGIN, size: 42, root })).toBe(`${ORIGIN}\n42\n${root.toString('base64')}\n`);
    const note = await signCheckpoint({ origin: ORIGIN, size: 42, root }, signer);
    expect(openCheckpoint(note, vkey, ORIGIN)).toEqual({ origin: ORIGIN, size: 42, root });
    const empty = await signCheckpoint({ origin: ORIGIN, size: 0, root: EMPTY_ROOT }, signer);
    expect(openCheckpoint(empty, vkey, ORIGIN).size).toBe(0);
  });

  it('refuses another origin, a wrong key, an altered body and malformed bodies', async () => {
    const { signer, vkey } = newSigner();
    const note = await signCheckpoint({ origin: ORIGIN, size: 42, root }, signer);
    expect(integrityError(() => openCheckpoint(note, vkey, 'other.example/log'))).toBe(true);
    expect(integrityError(() => openCheckpoint(note, newSigner().vkey, ORIGIN))).toBe(true);
    expect(integrityError(() => openCheckpoint(note.replace('\n42\n', '\n43\n'), vkey, ORIGIN))).toBe(true);
    for (const body of [`${ORIGIN}\n042\n${root.toString('base64')}\n`, `${ORIGIN}\n42\n`, `${ORIGIN}\n42\nAAAA\n`, `${ORIGIN}\n-1\n${root.toString('base64')}\n`]) {
      const signed = await signNote(body, signer);
      expect(integrityError(() => openCheckpoint(signed, vkey, ORIGIN)), body).toBe(true);
    }
  });

  it('accepts extension lines after the root (tlog-checkpoint)', async () => {
    const { signer, vkey } = newSigner();
    const note = await signNote(`${checkpointText({ origin: ORIGIN, size: 1, root })}ext one\n`, signer);
    expect(openCheckpoint(note, vkey, ORIGIN).size).toBe(1);
  });
});
