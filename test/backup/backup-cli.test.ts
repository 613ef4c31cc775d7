/**
 * `labkluis backup` and `labkluis backup verify` as an operator runs them, on a demo vault
 * (synthetic data): two snapshots to a dir: target, verified without the decryption key;
 * a flipped byte and a deleted newest manifest are each named, with exit code 1; a target that
 * is neither dir: nor a receiver URL gets one line and exit code 2.
 */
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTempDir, type TempDir } from '../support/tmp.js';

describe('labkluis backup', () => {
  let tmp: TempDir;
  let data: string;
  let keyring: string;
  let backups: string;
  let recipient: string;
  const cli = (...args: string[]) => runCli(['--data', data, '--keyring', keyring, ...args]);

  beforeAll(async () => {
    tmp = await createTempDir('labkluis-backup-cli-');
    data = join(tmp.path, 'vault');
    keyring = join(tmp.path, 'keys', 'keyring.json');
    backups = join(tmp.path, 'backups');
    recipient = await identityToRecipient(await generateX25519Identity());
    const demo = await cli('demo', '--patients', '30');
    expect(demo.code).toBe(0);
  }, 120_000);
  afterAll(() => tmp.cleanup());

  it('writes two snapshots and verifies them; names a flipped byte and a rolled-back chain, exit 1', async () => {
    const first = await cli('backup', '--to', `dir:${backups}`, '--recipient', recipient);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^snapshot 1 \([a-z2-7]{26}\) to dir:.*: read [\d.]+ MiB, wrote [\d.]+ MiB \(\d+ new objects, 0 reused\); backup key \S+\/backup\+/m);
    const second = await cli('backup', '--to', `dir:${backups}`, '--recipient', recipient);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^snapshot 2 .*\(\d+ new objects, [1-9]\d* reused\)/m);
    const ok = await cli('backup', 'verify', '--from', `dir:${backups}`);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^backup verified: 2 manifests/m);

    const dir = join(backups, 'objects', readdirSync(join(backups, 'objects'))[0]!);
    const file = join(dir, readdirSync(dir)[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0x40;
    chmodSync(file, 0o644);
    writeFileSync(file, bytes);
    const damaged = await cli('backup', 'verify', '--from', `dir:${backups}`);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toContain(`DAMAGED object ${file.split('/').pop()}`);

    const manifests = readdirSync(join(backups, 'manifests')).sort();
    rmSync(join(backups, 'manifests', manifests[manifests.length - 1]!));
    const rolled = await cli('backup', 'verify', '--from', `dir:${backups}`, '--read-data', '0');
    expect(rolled.code).toBe(1);
    expect(rolled.stdout).toMatch(/rolled back/);
  });

  it('refuses a target that is neither dir: nor a receiver URL, with one line and exit 2', async () => {
    const r = await cli('backup', '--to', 'ftp://somewhere', '--recipient', recipient);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const bad = await cli('backup', '--to', `dir:${backups}-2`, '--recipient', 'age1notakey');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/age public key/);
  });
});
