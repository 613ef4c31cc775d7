/**
 * `labkluis backup` and `labkluis backup verify` as an operator runs them, on a demo vault
 * (synthetic data): two snapshots to a dir: target, verified without the decryption key;
 * a flipped byte and a deleted newest manifest are each named, with exit code 1; a target that
 * is neither dir: nor a receiver URL gets one line and exit code 2.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase } from '../support/postgres.js';
import { createTempDir, type TempDir } from '../support/tmp.js';

describe('labkluis backup', () => {
  let tmp: TempDir;
  let data: string;
  let keyring: string;
  let backups: string;
  let recipient: string;
  let identityFile: string;
  const cli = (...args: string[]) => runCli(['--data', data, '--keyring', keyring, ...args]);

  beforeAll(async () => {
    tmp = await createTempDir('labkluis-backup-cli-');
    data = join(tmp.path, 'vault');
    keyring = join(tmp.path, 'keys', 'keyring.json');
    backups = join(tmp.path, 'backups');
    const identity = await generateX25519Identity();
    recipient = await identityToRecipient(identity);
    identityFile = join(tmp.path, 'offline.key');
    writeFileSync(identityFile, `# synthetic test identity\n${identity}\n`, { mode: 0o600 });
    const demo = await cli('demo', '--patients', '30');
    expect(demo.code).toBe(0);
  }, 120_000);
  afterAll(() => tmp.cleanup());

  it('writes two snapshots, verifies and restores them (SQLite and PostgreSQL); names a flipped byte and a rolled-back chain, exit 1', async () => {
    const first = await cli('backup', '--to', `dir:${backups}`, '--recipient', recipient);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const firstLine = /^snapshot 1 \([a-z2-7]{26}\) to dir:.*: read [\d.]+ MiB, wrote [\d.]+ MiB \(\d+ new objects; (\d+) of (\d+) chunks new\); backup key \S+\/backup\+/m.exec(first.stdout);
    expect(firstLine?.[1]).toBe(firstLine?.[2]); // all new
    const second = await cli('backup', '--to', `dir:${backups}`, '--recipient', recipient);
    expect(second.code).toBe(0);
    const secondLine = /^snapshot 2 .*\(\d+ new objects; (\d+) of (\d+) chunks new\)/m.exec(second.stdout);
    expect(Number(secondLine?.[1])).toBeLessThan(Number(secondLine?.[2])); // most reused
    const ok = await cli('backup', 'verify', '--from', `dir:${backups}`);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^backup verified: 2 manifests/m);

    // Restore on the backup host into a new vault, SQLite and PostgreSQL; its audit log verifies.
    const db = await createTestDatabase();
    try {
      for (const [store, extra] of [['sqlite', []], ['postgres', ['--pg-url', db.connectionString]]] as const) {
        const restored = join(tmp.path, `restored-${store}`);
        const r = await runCli(['--data', restored, '--keyring', keyring, 'restore', '--from', `dir:${backups}`, '--identity', identityFile, '--store', store, ...extra]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^restored snapshot 2 \([a-z2-7]{26}, taken .*\) from dir:.*: \d+ rows, .*as in the manifest/m);
        const verified = await runCli(['--data', restored, '--keyring', keyring, 'audit', 'verify'], store === 'postgres' ? { LABKLUIS_PG_URL: db.connectionString } : {});
        expect(verified.code).toBe(0);
        expect(verified.stdout).toMatch(/^audit log verified/m);
      }
      // A restore into a data directory that holds something is refused, one line, exit 2.
      const again = await runCli(['--data', join(tmp.path, 'restored-sqlite'), '--keyring', keyring, 'restore', '--from', `dir:${backups}`, '--identity', identityFile]);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/not empty/);
      // The wrong identity restores nothing and leaves no data directory behind.
      const stranger = join(tmp.path, 'stranger.key');
      writeFileSync(stranger, `${await generateX25519Identity()}\n`);
      const wrong = await runCli(['--data', join(tmp.path, 'restored-wrong'), '--keyring', keyring, 'restore', '--from', `dir:${backups}`, '--identity', stranger]);
      expect(wrong.code).not.toBe(0);
      expect(readdirSync(join(tmp.path, 'restored-wrong'))).toEqual([]);
    } finally {
      await db.drop();
    }

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
    // Nor does the next backup chain on from the cut-back end.
    const onTop = await cli('backup', '--to', `dir:${backups}`, '--recipient', recipient);
    expect(onTop.code).not.toBe(0);
    expect(onTop.stderr).toMatch(/ends at snapshot 1, but this server wrote snapshot 2 there/);
  }, 90_000); // nine CLI processes (each loads the app): about 20 s on a quiet 2-core box

  it('backs up to a receiver started from the CLI; a prune with the admin key is refused inside the floor', async () => {
    const keyFile = join(tmp.path, 'receiver-admin.key');
    const adminKey = await runCli(['backup', 'admin-key', '--out', keyFile]);
    expect(adminKey.code).toBe(0);
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    const vkey = adminKey.stdout.trim();
    expect(vkey).toMatch(/^labkluis-backup-admin\+[0-9a-f]{8}\+/);
    const token = randomBytes(32).toString('base64url');
    const backupKey = (await cli('backup', 'key')).stdout.trim();
    expect(backupKey).toMatch(/\/backup\+[0-9a-f]{8}\+/);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'backup-receiver', '--root', join(tmp.path, 'receiver'), '--admin-key', vkey, '--backup-key', backupKey, '--port', '0'], {
      env: { ...process.env, LABKLUIS_RECEIVER_TOKEN: token, LABKLUIS_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (d: Buffer) => {
          text += d.toString('utf8');
          const m = /listening on (http:\/\/[^;\s]+)/.exec(text);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`the receiver exited (${code})`)));
      });
      const env = { LABKLUIS_BACKUP_TOKEN: token };
      const b = await runCli(['--data', data, '--keyring', keyring, 'backup', '--to', url, '--recipient', recipient], env);
      expect(b.stderr).toBe('');
      expect(b.stdout).toMatch(/^snapshot 1 .* to http:/m);
      const v = await runCli(['--data', data, '--keyring', keyring, 'backup', 'verify', '--from', url], env);
      expect(v.code).toBe(0);
      expect((await runCli(['--data', data, '--keyring', keyring, 'backup', 'verify', '--from', url], { LABKLUIS_BACKUP_TOKEN: 'wrong'.repeat(8) })).code).not.toBe(0);
      const prune = await runCli(['backup', 'prune', '--at', url, '--admin-key-file', keyFile, '--before', new Date().toISOString()]);
      expect(prune.code).not.toBe(0);
      expect(prune.stderr).toMatch(/refused the prune: nothing received in the last 35 days/);
      // Pinned to another receiver's id: nothing is signed for the one answering here.
      const pinned = await runCli(['backup', 'prune', '--at', url, '--admin-key-file', keyFile, '--before', '2020-01-01T00:00:00Z', '--receiver', 'f'.repeat(32)]);
      expect(pinned.code).toBe(2);
      expect(pinned.stderr).toMatch(/is not f{32}: nothing signed/);
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);

  it('after the production data directory is deleted, restore brings every row back and the audit log verifies', async () => {
    const target = `dir:${join(tmp.path, 'backups-last')}`;
    const b = await cli('backup', '--to', target, '--recipient', recipient);
    expect(b.code).toBe(0);
    const verifiedBefore = await cli('audit', 'verify');
    expect(verifiedBefore.code).toBe(0);
    rmSync(data, { recursive: true, force: true }); // ransomware, or a disk gone
    const r = await cli('restore', '--from', target, '--identity', identityFile);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = Number(/: (\d+) rows,/.exec(r.stdout)![1]);
    expect(rows).toBeGreaterThan(100);
    const verified = await cli('audit', 'verify');
    expect(verified.code).toBe(0);
    // Every entry the snapshot held, and the restore's own entry after them.
    const held = Number(/audit log of (\d+) entries/.exec(r.stdout)![1]);
    expect(Number(/verified: (\d+) entries/.exec(verified.stdout)![1])).toBe(held + 1);
  }, 60_000);

  it('refuses to chain onto a snapshot of another vault with the same keyring (a restored copy running beside the original)', async () => {
    const target = `dir:${join(tmp.path, 'backups-fork')}`;
    expect((await cli('backup', '--to', target, '--recipient', recipient)).code).toBe(0);
    const copy = join(tmp.path, 'vault-copy');
    expect((await runCli(['--data', copy, '--keyring', keyring, 'restore', '--from', target, '--identity', identityFile])).code).toBe(0);
    expect((await cli('backup', '--to', target, '--recipient', recipient)).code).toBe(0); // the original goes on: snapshot 2
    const fork = await runCli(['--data', copy, '--keyring', keyring, 'backup', '--to', target, '--recipient', recipient]);
    expect(fork.code).toBe(1);
    expect(fork.stderr).toMatch(/snapshot at dir:.* \(2\) is not of this vault's audit log/);
    expect(readdirSync(join(tmp.path, 'backups-fork', 'manifests')).filter((f) => f.endsWith('.note'))).toHaveLength(2);
    expect((await cli('backup', '--to', target, '--recipient', recipient)).code).toBe(0); // the original's own chain goes on
  }, 90_000);

  it('refuses to back up while its record of the last snapshots is damaged (a cut-back target would pass as new)', async () => {
    const state = join(data, 'backup-state.json');
    writeFileSync(state, '{"dir:/x": {"sequence": 3', { mode: 0o600 });
    try {
      const r = await cli('backup', '--to', `dir:${join(tmp.path, 'backups-state')}`, '--recipient', recipient);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/backup-state.json in the data directory is damaged/);
      expect(() => readdirSync(join(tmp.path, 'backups-state'))).toThrow(); // nothing written
    } finally {
      rmSync(state, { force: true });
    }
  }, 60_000);

  it('refuses a target that is neither dir: nor a receiver URL, with one line and exit 2', async () => {
    const r = await cli('backup', '--to', 'ftp://somewhere', '--recipient', recipient);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const bad = await cli('backup', '--to', `dir:${backups}-2`, '--recipient', 'age1notakey');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/age public key/);
  });
});
