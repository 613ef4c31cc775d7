/**
 * Keyring escrow: the keyring sealed to two offline recipients, each able to recover it alone,
 * through the real `labkluis keyring escrow` and `keyring restore` commands; the recovered
 * keyring opens what the original wrapped. Refused: another identity, a changed escrow, a
 * recovery over an existing keyring or into the data directory. The keyring is a test one.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { armor, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escrowKeyring, openEscrow } from '../../src/backup/escrow.js';
import { createLocalKeyring, installKeyringText, loadLocalKeyring, readKeyringText } from '../../src/crypto/index.js';
import { systemRandom } from '../../src/kernel/index.js';
import { runCli } from '../support/cli.js';
import { createTempDir, type TempDir } from '../support/tmp.js';

describe('keyring escrow', () => {
  let tmp: TempDir;
  let data: string;
  let keyring: string;
  const officers: { identity: string; recipient: string; file: string }[] = [];

  beforeAll(async () => {
    tmp = await createTempDir('labkluis-escrow-');
    data = join(tmp.path, 'vault');
    keyring = join(tmp.path, 'keys', 'keyring.json');
    expect((await runCli(['--data', data, '--keyring', keyring, 'init'])).code).toBe(0);
    for (const who of ['officer-a', 'officer-b']) {
      const identity = await generateX25519Identity();
      const file = join(tmp.path, `${who}.key`);
      writeFileSync(file, `# synthetic test identity\n${identity}\n`);
      officers.push({ identity, recipient: await identityToRecipient(identity), file });
    }
  }, 60_000);
  afterAll(() => tmp.cleanup());

  it('escrows with the CLI to two officers; either one alone recovers a keyring that opens what the original wrapped', async () => {
    const escrow = join(tmp.path, 'keyring.escrow.age');
    const r = await runCli(['--data', data, '--keyring', keyring, 'keyring', 'escrow', '--to', officers[0]!.recipient, '--to', officers[1]!.recipient, '--out', escrow]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(escrow, 'utf8')).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    expect(readFileSync(escrow, 'utf8')).not.toContain(JSON.parse(readFileSync(keyring, 'utf8')).kek.key);
    expect(statSync(escrow).mode & 0o077).toBe(0);
    const original = loadLocalKeyring({ path: keyring, dataDir: data, random: systemRandom });
    const wrapped = await original.wrap(Buffer.alloc(32, 9), 'test-context');
    for (const [i, o] of officers.entries()) {
      const restored = join(tmp.path, `recovered-${i}`, 'keyring.json');
      const back = await runCli(['--data', data, '--keyring', restored, 'keyring', 'restore', '--escrow', escrow, '--identity', o.file]);
      expect(back.code).toBe(0);
      expect(readFileSync(restored, 'utf8')).toBe(readFileSync(keyring, 'utf8'));
      expect(statSync(restored).mode & 0o077).toBe(0);
      const kms = loadLocalKeyring({ path: restored, dataDir: data, random: systemRandom });
      expect((await kms.unwrap(wrapped, original.kekId, 'test-context')).equals(Buffer.alloc(32, 9))).toBe(true);
      expect(kms.auditSigner.publicKey.equals(original.auditSigner.publicKey)).toBe(true);
    }
    // Writing the escrow again over the same file is refused, one line, non-zero.
    const again = await runCli(['--data', data, '--keyring', keyring, 'keyring', 'escrow', '--to', officers[0]!.recipient, '--out', escrow]);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses another identity, a changed escrow, a recovery over a keyring or into the data directory', async () => {
    const text = readKeyringText({ path: keyring, dataDir: data });
    const sealed = await escrowKeyring(text, [officers[0]!.recipient]);
    await expect(openEscrow(sealed, [await generateX25519Identity()])).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    const bytes = armor.decode(sealed);
    bytes[bytes.length - 3]! ^= 1;
    await expect(openEscrow(armor.encode(bytes), [officers[0]!.identity])).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    await expect(openEscrow('not an escrow', [officers[0]!.identity])).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(openEscrow(sealed, ['AGE-SECRET-KEY-1NOPE'])).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(escrowKeyring(text, [])).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    const opened = await openEscrow(sealed, [officers[0]!.identity]);
    expect(() => installKeyringText({ text: opened, path: keyring, dataDir: data })).toThrow(expect.objectContaining({ code: 'ERR_KEYRING' }));
    expect(() => installKeyringText({ text: opened, path: join(data, 'keyring.json'), dataDir: data })).toThrow(/inside the data directory/);
    expect(() => installKeyringText({ text: '{"format":"other"}', path: join(tmp.path, 'x', 'k.json'), dataDir: data })).toThrow(/not a labkluis keyring/);
    // A fresh keyring is a different one: the escrow is of this keyring only.
    const other = createLocalKeyring({ path: join(tmp.path, 'other', 'keyring.json'), dataDir: data, signerName: 'other.test/audit', random: systemRandom });
    expect(other.kekId).not.toBe(JSON.parse(opened).kek.id);
  });
});
