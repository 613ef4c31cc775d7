/**
 * The age format for X25519 on Node's own crypto (src/backup/age-x25519.ts) against the
 * age-encryption package, both ways: what we seal, age-encryption opens, and what it seals, we
 * open; at the sizes where the payload's 64 KiB chunking has its edges; to several recipients;
 * and tampering with the header, the payload or the chunk order is refused, as is the wrong key.
 */
import { randomBytes } from 'node:crypto';
import { Decrypter, Encrypter, generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { openX25519, sealX25519, x25519Identity, x25519Recipient, type X25519Identity, type X25519Recipient } from '../../src/backup/age-x25519.js';
import { ObjectSealer, openObject } from '../../src/backup/index.js';

const SIZES = [0, 1, 100, 65_535, 65_536, 65_537, 3 * 65_536, 200_000];

async function pair(): Promise<{ identity: string; recipient: string; key: X25519Identity; pub: X25519Recipient }> {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  return { identity, recipient, key: x25519Identity(identity)!, pub: x25519Recipient(recipient)! };
}

describe('age X25519 on node:crypto', () => {
  it('seals what age-encryption opens, at every chunking edge, to several recipients', async () => {
    const [a, b] = [await pair(), await pair()];
    for (const n of SIZES) {
      const plain = randomBytes(n);
      const sealed = sealX25519(plain, [a.pub, b.pub]);
      for (const who of [a, b]) {
        const d = new Decrypter();
        d.addIdentity(who.identity);
        expect(Buffer.from(await d.decrypt(sealed)).equals(plain), `size ${n}`).toBe(true);
      }
    }
  });

  it('seals a plaintext given in parts (a pack\'s chunks) as age-encryption opens it whole, parts split anywhere across segments', async () => {
    const a = await pair();
    for (const n of SIZES) {
      const plain = randomBytes(n);
      // Cuts at 0 (an empty part), inside the first segment, at a segment edge, and past it.
      const cuts = [0, 0, Math.min(n, 7), Math.min(n, 65_536), Math.min(n, 65_536 + 3), n].sort((x, y) => x - y);
      const parts = cuts.slice(1).map((end, i) => plain.subarray(cuts[i]!, end));
      const d = new Decrypter();
      d.addIdentity(a.identity);
      expect(Buffer.from(await d.decrypt(sealX25519(parts, [a.pub]))).equals(plain), `size ${n}`).toBe(true);
    }
  });

  it('opens what age-encryption seals, at every chunking edge', async () => {
    const a = await pair();
    for (const n of SIZES) {
      const plain = randomBytes(n);
      const e = new Encrypter();
      e.addRecipient(a.recipient);
      expect(openX25519(await e.encrypt(plain), [a.key])?.equals(plain), `size ${n}`).toBe(true);
    }
  });

  it('returns null for the wrong identity, and refuses a changed header, payload, or truncated or reordered chunks', async () => {
    const [a, stranger] = [await pair(), await pair()];
    const plain = randomBytes(3 * 65_536 + 10);
    const sealed = sealX25519(plain, [a.pub]);
    expect(openX25519(sealed, [stranger.key])).toBeNull();
    const headerEnd = sealed.indexOf('\n--- ') + 1;
    const changedHeader = Buffer.from(sealed);
    changedHeader[headerEnd - 3]! ^= 0x01; // inside the wrapped file key's base64
    expect(() => openX25519(changedHeader, [a.key]) ?? (() => { throw new Error('opened nothing'); })()).toThrow();
    const changedPayload = Buffer.from(sealed);
    changedPayload[changedPayload.length - 100]! ^= 0x01;
    expect(() => openX25519(changedPayload, [a.key])).toThrow(/does not authenticate/);
    // Cut off after the first full chunk: that chunk was not marked last.
    const payloadStart = sealed.indexOf(0x0a, headerEnd) + 1 + 16;
    expect(() => openX25519(sealed.subarray(0, payloadStart + 65_536 + 16), [a.key])).toThrow(/does not authenticate/);
    // Two chunks swapped.
    const c = 65_536 + 16;
    const swapped = Buffer.concat([sealed.subarray(0, payloadStart), sealed.subarray(payloadStart + c, payloadStart + 2 * c), sealed.subarray(payloadStart, payloadStart + c), sealed.subarray(payloadStart + 2 * c)]);
    expect(() => openX25519(swapped, [a.key])).toThrow(/does not authenticate/);
    expect(() => openX25519(Buffer.from('not age at all'), [a.key])).toThrow(/not an age/);
  });

  it('refuses a header that age refuses: non-canonical or padded base64, a missing body, a long body line, a low-order share', async () => {
    const a = await pair();
    const sealed = sealX25519(randomBytes(1000), [a.pub]);
    const text = sealed.toString('latin1');
    const [, share = '', body = ''] = /^age-encryption\.org\/v1\n-> X25519 (\S+)\n(\S+)\n--- /.exec(text) ?? [];
    expect(share).toHaveLength(43);
    const swap = (from: string, to: string) => Buffer.from(text.replace(from, to), 'latin1');
    // The share's last character carries 2 spare bits: flip one and it decodes to the same bytes.
    const last = share.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(Buffer.from(share.slice(0, -1) + sibling, 'base64').equals(Buffer.from(share, 'base64'))).toBe(true);
    for (const bad of [
      swap(`X25519 ${share}\n`, `X25519 ${share.slice(0, -1)}${sibling}\n`), // non-canonical
      swap(`X25519 ${share}\n`, `X25519 ${share}=\n`), // padded
      swap(`X25519 ${share}\n`, `X25519 ${share.replaceAll('+', '-').replaceAll('/', '_')}x\n`.replace('x\n', '\n')), // url alphabet (when present)
      swap(`\n${body}\n---`, '\n---'), // no body line
      swap(`\n${body}\n`, `\n${body}${'A'.repeat(30)}\n`), // a body line over 64 columns
      swap(`X25519 ${share}\n`, `X25519 ${'A'.repeat(43)}\n`), // the all-zero (low-order) share
    ]) {
      if (bad.equals(sealed)) continue; // the url-alphabet swap changes nothing when the share has no + or /
      expect(() => openX25519(bad, [a.key])).toThrow();
    }
    expect(openX25519(sealed, [a.key])?.length).toBe(1000);
  });

  it('backup objects: native for X25519 recipients, age-encryption for the post-quantum hybrid, each opened by either identity kind', async () => {
    const a = await pair();
    const pq = await generateHybridIdentity();
    const pqRecipient = await identityToRecipient(pq);
    const plain = randomBytes(70_000);
    const native = await new ObjectSealer([a.recipient], Buffer.alloc(32, 1)).seal(plain);
    expect((await openObject(native.id, native.bytes, [a.identity])).equals(plain)).toBe(true);
    const mixed = await new ObjectSealer([a.recipient, pqRecipient], Buffer.alloc(32, 1)).seal(plain);
    expect(mixed.bytes.toString('latin1', 0, 200)).toMatch(/-> mlkem768x25519 /);
    for (const who of [a.identity, pq]) expect((await openObject(mixed.id, mixed.bytes, [who])).equals(plain)).toBe(true);
    await expect(openObject(native.id, native.bytes, [(await pair()).identity])).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
  });
});
