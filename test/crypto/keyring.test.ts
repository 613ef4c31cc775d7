import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalKeyring, ed25519Verify, loadLocalKeyring } from '../../src/crypto/index.js';
import { isLabkluisError, systemRandom } from '../../src/kernel/index.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'lk-keyring-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const expectCode = (fn: () => unknown, code: string) => {
  try {
    fn();
  } catch (e) {
    expect(isLabkluisError(e) && e.code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
};

describe('local keyring', () => {
  it('creates a 0600 file, wraps and unwraps data keys bound to their context, and signs', async () => {
    const path = join(root, 'keys', 'keyring.json');
    const kms = createLocalKeyring({ path, dataDir: join(root, 'data'), signerName: 'labkluis-test', random: systemRandom });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const dek = Buffer.alloc(32, 9);
    const wrapped = await kms.wrap(dek, 't1|clinical|1');
    expect((await kms.unwrap(wrapped, kms.kekId, 't1|clinical|1')).equals(dek)).toBe(true);
    await expect(kms.unwrap(wrapped, kms.kekId, 't2|clinical|1')).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    await expect(kms.unwrap(wrapped, 'kek-other', 't1|clinical|1')).rejects.toMatchObject({ code: 'ERR_KEYRING' });
    const reloaded = loadLocalKeyring({ path, dataDir: join(root, 'data'), random: systemRandom });
    expect((await reloaded.unwrap(wrapped, kms.kekId, 't1|clinical|1')).equals(dek)).toBe(true);
    const msg = Buffer.from('checkpoint');
    expect(ed25519Verify(kms.auditSigner.publicKey, msg, reloaded.auditSigner.sign(msg))).toBe(true);
  });

  it('refuses to overwrite an existing keyring and leaves it untouched', () => {
    const path = join(root, 'keyring.json');
    createLocalKeyring({ path, dataDir: join(root, 'data'), signerName: 'a', random: systemRandom });
    const before = readFileSync(path);
    expectCode(() => createLocalKeyring({ path, dataDir: join(root, 'data'), signerName: 'a', random: systemRandom }), 'ERR_KEYRING');
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a keyring inside the data directory, also through a symlink', () => {
    const data = join(root, 'data');
    mkdirSync(data);
    expectCode(() => createLocalKeyring({ path: join(data, 'keyring.json'), dataDir: data, signerName: 'a', random: systemRandom }), 'ERR_KEYRING');
    expectCode(() => createLocalKeyring({ path: join(data, 'sub', 'k.json'), dataDir: data, signerName: 'a', random: systemRandom }), 'ERR_KEYRING');
    symlinkSync(data, join(root, 'alias'));
    expectCode(() => createLocalKeyring({ path: join(root, 'alias', 'k.json'), dataDir: data, signerName: 'a', random: systemRandom }), 'ERR_KEYRING');
  });

  it('refuses a file that is not a keyring', () => {
    const path = join(root, 'not-a-keyring.json');
    writeFileSync(path, '{"hello":1}');
    expectCode(() => loadLocalKeyring({ path, dataDir: join(root, 'data'), random: systemRandom }), 'ERR_KEYRING');
    expectCode(() => loadLocalKeyring({ path: join(root, 'missing.json'), dataDir: join(root, 'data'), random: systemRandom }), 'ERR_KEYRING');
  });
});

describe('keyring placement', () => {
  it('refuses paths inside the data directory whose names merely start with dots', () => {
    const data = join(root, 'data');
    mkdirSync(data);
    for (const p of [join(data, '..keys', 'keyring.json'), join(data, '...json')]) {
      expectCode(() => createLocalKeyring({ path: p, dataDir: data, signerName: 'a', random: systemRandom }), 'ERR_KEYRING');
    }
    // ...while a sibling directory is fine
    createLocalKeyring({ path: join(root, 'data-keys', 'keyring.json'), dataDir: data, signerName: 'a', random: systemRandom });
  });
});
