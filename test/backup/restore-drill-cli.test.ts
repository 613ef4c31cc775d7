/**
 * `labkluis restore-drill` as the backup host runs it (issue 5), against a production server
 * started with `labkluis serve` on a demo vault (synthetic data): identities made with `backup
 * identity` (the officer's post-quantum), production's keyring goes to the officer in escrow, a backup is written to a dir: target, the drill key is made on the
 * backup host and configured on production; the drill passes, writes its signed report and
 * hands it to production. Missing options and a bad production URL get one line and exit 2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTempDir, type TempDir } from '../support/tmp.js';

describe('labkluis restore-drill', () => {
  let tmp: TempDir;
  let data: string;
  let keyring: string;
  let server: ChildProcess | null = null;
  let productionUrl = '';
  const cli = (...args: string[]) => runCli(['--data', data, '--keyring', keyring, ...args]);
  const files = { identity: '', officer: '', escrow: '', drillKey: '' };

  beforeAll(async () => {
    tmp = await createTempDir('labkluis-drill-cli-');
    data = join(tmp.path, 'vault');
    keyring = join(tmp.path, 'keys', 'keyring.json');
    expect((await cli('demo', '--patients', '20')).code).toBe(0);
    // The backup host's identity (X25519) and a security officer's (the post-quantum hybrid), made by the CLI.
    files.identity = join(tmp.path, 'offline.key');
    files.officer = join(tmp.path, 'officer.key');
    const offline = await runCli(['backup', 'identity', '--out', files.identity]);
    const officer = await runCli(['backup', 'identity', '--post-quantum', '--out', files.officer]);
    expect([offline.code, officer.code]).toEqual([0, 0]);
    expect(offline.stdout.trim()).toMatch(/^age1[0-9a-z]{58}$/);
    expect(officer.stdout.trim()).toMatch(/^age1pq1[0-9a-z]+$/);
    expect(statSync(files.officer).mode & 0o077).toBe(0);
    expect((await runCli(['backup', 'identity', '--out', files.officer])).code).toBe(2); // never over an existing identity
    files.escrow = join(tmp.path, 'keyring.escrow');
    expect((await cli('keyring', 'escrow', '--to', officer.stdout.trim(), '--out', files.escrow)).code).toBe(0);
    expect((await cli('backup', '--to', `dir:${join(tmp.path, 'backups')}`, '--recipient', offline.stdout.trim())).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    server?.kill('SIGTERM');
    await tmp?.cleanup();
  });

  it('passes against production started with serve, writes the signed report and hands it over', async () => {
    files.drillKey = join(tmp.path, 'drill.key');
    const key = await runCli(['restore-drill', 'key', '--out', files.drillKey]);
    expect(key.code).toBe(0);
    expect(statSync(files.drillKey).mode & 0o077).toBe(0);
    const vkey = key.stdout.trim();
    expect(vkey).toMatch(/^labkluis-restore-drill\+[0-9a-f]{8}\+/);
    // Production takes reports signed with that key.
    const configFile = join(data, 'labkluis.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    config.backup = { recipients: ['age1synthetic'], target: `dir:${join(tmp.path, 'backups')}`, drill: { key: vkey } };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', '--data', data, '--keyring', keyring, 'serve', '--port', '0'], {
      env: { ...process.env, LABKLUIS_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      server!.stdout!.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        const m = /listening on (http:\/\/[^;\s]+)/.exec(text);
        if (m) resolve(m[1]!);
      });
      server!.once('exit', (code) => reject(new Error(`serve exited (${code})`)));
    });
    productionUrl = url;
    const report = join(tmp.path, 'drill-report.txt');
    const d = await runCli([
      'restore-drill', '--from', `dir:${join(tmp.path, 'backups')}`, '--identity', files.identity, '--escrow', files.escrow,
      '--escrow-identity', files.officer, '--drill-key', files.drillKey, '--production', url, '--report', report, '--sample', '10',
    ]);
    expect(d.stderr).toBe('');
    expect(d.code).toBe(0);
    for (const check of ['chain', 'restore', 'audit', 'history', 'decrypt', 'production']) expect(d.stdout).toMatch(new RegExp(`^ok +${check}: `, 'm'));
    expect(d.stdout).toMatch(/restore drill PASSED/);
    expect(d.stdout).toMatch(/report handed to http:/);
    expect(readFileSync(report, 'utf8')).toMatch(/"outcome":"passed"[\s\S]*\n\n— labkluis-restore-drill /);
    // A drill key file that is not there: one line, exit 2, before anything is restored.
    const again = await runCli([
      'restore-drill', '--from', `dir:${join(tmp.path, 'backups')}`, '--identity', files.identity, '--escrow', files.escrow,
      '--escrow-identity', files.officer, '--drill-key', join(tmp.path, 'no-such.key'), '--production', url,
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/cannot read the drill key file/);
  }, 120_000);

  it('exits 1 on a damaged backup, still writes and hands over the failed report, and leaves no scratch store behind', async () => {
    const backups = join(tmp.path, 'backups');
    const objects = join(backups, 'objects');
    // Damage the biggest object (a chunk of a table, not the small table of contents).
    let biggest = { path: '', size: 0 };
    for (const dir of readdirSync(objects)) {
      for (const f of readdirSync(join(objects, dir))) {
        const size = statSync(join(objects, dir, f)).size;
        if (size > biggest.size) biggest = { path: join(objects, dir, f), size };
      }
    }
    const original = readFileSync(biggest.path);
    const damaged = Buffer.from(original);
    damaged[damaged.length >> 1]! ^= 0x01;
    chmodSync(biggest.path, 0o600);
    writeFileSync(biggest.path, damaged);
    const scratch = join(tmp.path, 'scratch');
    mkdirSync(scratch);
    const report = join(tmp.path, 'failed-report.txt');
    try {
      const d = await runCli([
        'restore-drill', '--from', `dir:${backups}`, '--identity', files.identity, '--escrow', files.escrow, '--escrow-identity', files.officer,
        '--drill-key', files.drillKey, '--production', productionUrl, '--report', report, '--scratch', scratch,
      ]);
      expect(d.code).toBe(1);
      expect(d.stdout).toMatch(/^FAILED restore: snapshot 1 did not restore/m);
      expect(d.stdout).toMatch(/restore drill FAILED/);
      expect(d.stdout).toMatch(/report handed to/);
      expect(d.stderr).toMatch(/restore drill FAILED \(see above\)/);
      expect(readFileSync(report, 'utf8')).toMatch(/"outcome":"failed"/);
      expect(readdirSync(scratch)).toEqual([]);
    } finally {
      writeFileSync(biggest.path, original);
    }
  }, 120_000);

  it('refuses missing options and a production that is not a URL, with one line and exit 2', async () => {
    const missing = await runCli(['restore-drill', '--from', 'dir:/nowhere']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/--identity, --escrow, --drill-key, --production/);
    const bad = await runCli([
      'restore-drill', '--from', `dir:${join(tmp.path, 'backups')}`, '--identity', files.identity, '--escrow', files.escrow,
      '--escrow-identity', files.officer, '--drill-key', files.drillKey || join(tmp.path, 'drill.key'), '--production', 'not a url',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
