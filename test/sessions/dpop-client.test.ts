/**
 * The DPoP client: key files are created 0600 and never overwritten, loading refuses keys others
 * can read, and proofs it makes verify with the server's verifier.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ManualClock, isLabkluisError, systemRandom, type Random } from '../../src/kernel/index.js';
import {
  MemoryReplayCache, accessTokenHash, createDpopProof, generateDpopKey, jwkThumbprint, loadDpopKey, saveDpopKey,
  verifyDpopProof,
} from '../../src/sessions/index.js';
import { createTempDir, type TempDir } from '../support/tmp.js';

let dir: TempDir;
beforeEach(async () => {
  dir = await createTempDir('labkluis-dpop-');
});
afterEach(async () => {
  await dir.cleanup();
});

const clock = new ManualClock('2026-03-01T12:00:00Z');
const fixedRandom: Random = { bytes: (n) => Buffer.alloc(n, 0xab), uuid: () => '00000000-0000-4000-8000-000000000000' };
const keyringError = (e: unknown): boolean => isLabkluisError(e, 'ERR_KEYRING');

describe('generateDpopKey', () => {
  it('makes an ES256 key whose public half holds no private member and whose jkt is its thumbprint', async () => {
    const key = await generateDpopKey();
    expect(key.alg).toBe('ES256');
    expect(key.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: key.privateJwk.x, y: key.privateJwk.y });
    expect(key.privateJwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key.jkt).toBe(await jwkThumbprint(key.publicJwk));
    expect((await generateDpopKey()).jkt).not.toBe(key.jkt);
  });
});

describe('saveDpopKey / loadDpopKey', () => {
  it('creates the key file with mode 0600 and loads the same key back', async () => {
    const key = await generateDpopKey();
    const path = dir.file('device.jwk');
    await saveDpopKey(path, key);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(key.privateJwk);
    const loaded = await loadDpopKey(path);
    expect(loaded.jkt).toBe(key.jkt);
    expect(loaded.publicJwk).toEqual(key.publicJwk);
  });

  it('refuses to overwrite an existing file, or to write through a symlink', async () => {
    const [a, b] = [await generateDpopKey(), await generateDpopKey()];
    const path = dir.file('device.jwk');
    await saveDpopKey(path, a);
    await expect(saveDpopKey(path, b)).rejects.toSatisfy(keyringError);
    expect((await loadDpopKey(path)).jkt).toBe(a.jkt);
    const link = dir.file('link.jwk');
    await symlink(dir.file('target.jwk'), link);
    await expect(saveDpopKey(link, b)).rejects.toSatisfy(keyringError);
    expect(existsSync(dir.file('target.jwk'))).toBe(false);
  });

  it('refuses a key file that group or others can read or write, and accepts 0400', async () => {
    const path = dir.file('device.jwk');
    await saveDpopKey(path, await generateDpopKey());
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      await chmod(path, mode);
      await expect(loadDpopKey(path), mode.toString(8)).rejects.toSatisfy(keyringError);
    }
    await chmod(path, 0o400);
    await expect(loadDpopKey(path)).resolves.toBeDefined();
  });

  it('refuses a symlinked key file, a missing one, and files that are not a P-256 key pair', async () => {
    const path = dir.file('device.jwk');
    const key = await generateDpopKey();
    await saveDpopKey(path, key);
    const link = dir.file('link.jwk');
    await symlink(path, link);
    await expect(loadDpopKey(link)).rejects.toSatisfy(keyringError);
    await expect(loadDpopKey(dir.file('absent.jwk'))).rejects.toSatisfy(keyringError);
    const other = await generateDpopKey();
    const cases = {
      'not-json': 'not json',
      'public-only': JSON.stringify(key.publicJwk),
      'mixed-pair': JSON.stringify({ ...key.privateJwk, d: other.privateJwk.d }),
      'wrong-curve': JSON.stringify({ ...key.privateJwk, crv: 'P-384' }),
    };
    for (const [name, text] of Object.entries(cases)) {
      const p = dir.file(`${name}.jwk`);
      await writeFile(p, text, { mode: 0o600 });
      await expect(loadDpopKey(p), name).rejects.toSatisfy(keyringError);
    }
  });
});

describe('createDpopProof', () => {
  it('makes a proof that the verifier accepts, bound to the token and the key', async () => {
    const key = await generateDpopKey();
    const token = 'lkt_abcdefghijklmnop.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const proof = await createDpopProof(key, { method: 'POST', url: 'https://lab.example/fhir/Bundle?_format=json#x', accessToken: token, clock, random: systemRandom });
    const replay = new MemoryReplayCache({ clock });
    const v = await verifyDpopProof(
      { proof, method: 'POST', url: 'https://lab.example/fhir/Bundle', accessToken: token, expectedJkt: key.jkt },
      { clock, replay },
    );
    expect(v.jkt).toBe(key.jkt);
  });

  it('puts typ, alg and the public jwk in the header, and jti, htm, htu, iat, ath, nonce in the claims', async () => {
    const key = await generateDpopKey();
    const proof = await createDpopProof(key, {
      method: 'GET', url: 'https://lab.example/fhir/Patient?name=x#frag', accessToken: 'tok', nonce: 'server-nonce', clock, random: fixedRandom,
    });
    expect(decodeProtectedHeader(proof)).toEqual({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk });
    expect(decodeJwt(proof)).toEqual({
      jti: Buffer.alloc(16, 0xab).toString('base64url'),
      htm: 'GET',
      htu: 'https://lab.example/fhir/Patient',
      iat: clock.now().getTime() / 1000,
      ath: accessTokenHash('tok'),
      nonce: 'server-nonce',
    });
  });

  it('gives every proof a fresh jti from the injected randomness', async () => {
    const key = await generateDpopKey();
    const opts = { method: 'GET', url: 'https://lab.example/fhir/Patient', clock, random: systemRandom };
    const jtis = new Set<unknown>();
    for (let i = 0; i < 20; i++) jtis.add(decodeJwt(await createDpopProof(key, opts)).jti);
    expect(jtis.size).toBe(20);
    for (const jti of jtis) expect(String(jti).length).toBeGreaterThanOrEqual(16);
  });

  it('refuses a lowercase method or a non-http URL (misuse)', async () => {
    const key = await generateDpopKey();
    await expect(createDpopProof(key, { method: 'get', url: 'https://lab.example/', clock, random: systemRandom })).rejects.toThrow(TypeError);
    await expect(createDpopProof(key, { method: 'GET', url: 'file:///etc/passwd', clock, random: systemRandom })).rejects.toThrow(TypeError);
  });
});
