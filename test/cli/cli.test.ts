import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/kernel/index.js';
import { generateDpopKey, loadDpopKey, MemoryReplayCache, verifyDpopProof } from '../../src/sessions/index.js';
import { runCli } from '../support/cli.js';
import * as fhir from '../support/fhir.js';
import { createTempDir, type TempDir } from '../support/tmp.js';

let tmp: TempDir;
let data: string;
let keyring: string;
let tenant: string;
const cli = (...args: string[]) => runCli(['--data', data, '--keyring', keyring, ...args]);
const rows = (table: string) => {
  const db = new Database(join(data, 'labkluis.sqlite'), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};
const oneLine = (s: string) => expect(s.trim().split('\n')).toHaveLength(1);

beforeAll(async () => {
  tmp = await createTempDir('labkluis-cli-');
  data = join(tmp.path, 'vault');
  keyring = join(tmp.path, 'keys', 'keyring.json');
});
afterAll(() => tmp.cleanup());

describe('labkluis init', () => {
  it('refuses a keyring inside the data directory, and creates nothing', async () => {
    const r = await runCli(['--data', join(tmp.path, 'x'), '--keyring', join(tmp.path, 'x', 'keyring.json'), 'init']);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/inside the data directory/);
    expect(existsSync(join(tmp.path, 'x'))).toBe(false);
  });

  it('creates the data directory and the keyring', async () => {
    const r = await cli('init');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('labkluis initialised (sqlite)');
    expect(existsSync(join(data, 'labkluis.json'))).toBe(true);
    expect(existsSync(keyring)).toBe(true);
    expect(readdirSync(data)).not.toContain('keyring.json');
  });

  it('refuses to overwrite either, leaving both untouched', async () => {
    const before = readFileSync(keyring);
    const again = await cli('init');
    expect(again.code).toBe(2);
    oneLine(again.stderr);
    expect(readFileSync(keyring).equals(before)).toBe(true);
    const otherKeyring = await runCli(['--data', data, '--keyring', join(tmp.path, 'keys', 'other.json'), 'init']);
    expect(otherKeyring.code).toBe(2);
    expect(otherKeyring.stderr).toMatch(/not empty/);
    expect(existsSync(join(tmp.path, 'keys', 'other.json'))).toBe(false);
  });

  it('reads LABKLUIS_DATA and LABKLUIS_KEYRING', async () => {
    const r = await runCli(['audit', 'verify'], { LABKLUIS_DATA: data, LABKLUIS_KEYRING: keyring });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/audit log verified/);
  });
});

describe('labkluis token create and import', () => {
  it('creates a tenant through the demo-free path: a bundle import needs a tenant that exists', async () => {
    const file = join(tmp.path, 'intake.json');
    writeFileSync(file, JSON.stringify(fhir.intakeBundle().bundle));
    const r = await cli('import', file, '--tenant', 'nosuchtenant');
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    // Make a tenant the way an operator would: load a small demo.
    const demo = await cli('demo', '--patients', '2');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/demo loaded: 3 tenants, 6 synthetic patients/);
    tenant = (JSON.parse(readFileSync(join(tmp.path, 'demo-tokens.json'), 'utf8')) as { requester: { tenant: string }[] }).requester[0]!.tenant;
  });

  it('prints a token once, bound to a new key file, and refuses a bad role with one line', async () => {
    const keyFile = join(tmp.path, 'analyst-07.key.json');
    const ok = await cli('token', 'create', '--role', 'analyst', '--tenant', '*', '--name', 'analyst-07', '--new-key', keyFile);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^lkt_[a-z2-7]{16}\.[A-Za-z0-9_-]{43}$/m);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const id = /lkt_([a-z2-7]{16})\./.exec(ok.stdout)![1]!;
    const db = new Database(join(data, 'labkluis.sqlite'), { readonly: true });
    try {
      const row = db.prepare('SELECT t.jkt, p.kind FROM core_api_tokens t JOIN core_principals p ON p.id = t.principal_id WHERE t.id = ?').get(id) as { jkt: string; kind: string };
      expect(row.jkt).toBe((await loadDpopKey(keyFile)).jkt);
      expect(row.kind).toBe('service');
    } finally {
      db.close();
    }
    const bad = await cli('token', 'create', '--role', 'overlord', '--tenant', '*', '--name', 'x-1', '--new-key', join(tmp.path, 'x-1.json'));
    expect(bad.code).toBe(2);
    oneLine(bad.stderr);
    expect(bad.stderr).toMatch(/unknown role/);
    expect(existsSync(join(tmp.path, 'x-1.json'))).toBe(false); // no key file left for a principal that was never made
    const requesterStar = await cli('token', 'create', '--role', 'requester', '--tenant', '*', '--name', 'gp-1', '--new-key', join(tmp.path, 'gp-1.json'));
    expect(requesterStar.code).toBe(2);
  });

  it('refuses a token without a key, and never overwrites a key file', async () => {
    const before = rows('core_api_tokens');
    const keyless = await cli('token', 'create', '--role', 'analyst', '--tenant', '*', '--name', 'analyst-08');
    expect(keyless.code).toBe(2);
    oneLine(keyless.stderr);
    expect(keyless.stderr).toMatch(/--public-key|--new-key/);
    const existing = join(tmp.path, 'analyst-07.key.json');
    const content = readFileSync(existing);
    const clash = await cli('token', 'create', '--role', 'analyst', '--tenant', '*', '--name', 'analyst-09', '--new-key', existing);
    expect(clash.code).toBe(2);
    expect(readFileSync(existing).equals(content)).toBe(true);
    expect(rows('core_api_tokens')).toBe(before);
  });

  it('revokes a token by id, once, and refuses an unknown or malformed id with one line', async () => {
    const made = await cli('token', 'create', '--role', 'analyst', '--tenant', '*', '--name', 'analyst-10', '--new-key', join(tmp.path, 'analyst-10.json'));
    const token = /^(lkt_[a-z2-7]{16}\.[A-Za-z0-9_-]{43})$/m.exec(made.stdout)![1]!;
    const id = token.slice(4, 20);
    const revoked = await cli('token', 'revoke', id);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`token ${id} revoked`);
    const db = new Database(join(data, 'labkluis.sqlite'), { readonly: true });
    try {
      expect((db.prepare('SELECT revoked_at FROM core_api_tokens WHERE id = ?').get(id) as { revoked_at: string | null }).revoked_at).not.toBeNull();
    } finally {
      db.close();
    }
    expect((await cli('token', 'revoke', token)).stdout).toContain('already revoked');
    for (const bad of ['aaaaaaaaaaaaaaaa', 'not-an-id']) {
      const r = await cli('token', 'revoke', bad);
      expect(r.code).toBe(2);
      oneLine(r.stderr);
    }
    expect((await cli('audit', 'verify')).code).toBe(0);
  });

  it('prints a DPoP proof for one request with the key file, and refuses a bad method or URL', async () => {
    const keyFile = join(tmp.path, 'analyst-07.key.json');
    const token = 'lkt_aaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const url = 'https://lab.example/fhir/Observation?code=x';
    const r = await cli('proof', '--key', keyFile, '--token', token, 'GET', url);
    expect(r.code).toBe(0);
    const key = await loadDpopKey(keyFile);
    const checked = await verifyDpopProof(
      { proof: r.stdout.trim(), method: 'GET', url, accessToken: token, expectedJkt: key.jkt },
      { clock: systemClock, replay: new MemoryReplayCache({ clock: systemClock }) },
    );
    expect(checked.jkt).toBe(key.jkt);
    for (const args of [['G E T', url], ['GET', '/fhir/Observation'], ['GET', 'ftp://lab.example/x']]) {
      const bad = await cli('proof', '--key', keyFile, ...args);
      expect(bad.code).toBe(2);
      oneLine(bad.stderr);
    }
  });

  it('binds a token to a service public key, and refuses a private key file or a foreign key type', async () => {
    const key = await generateDpopKey();
    const pub = join(tmp.path, 'service.pub.jwk');
    writeFileSync(pub, JSON.stringify(key.publicJwk));
    const bound = await cli('token', 'create', '--role', 'requester', '--tenant', tenant, '--name', 'his-1', '--public-key', pub);
    expect(bound.code).toBe(0);
    expect(bound.stdout).toMatch(/DPoP <token>/);
    const id = /lkt_([a-z2-7]{16})\./.exec(bound.stdout)![1]!;
    const db = new Database(join(data, 'labkluis.sqlite'), { readonly: true });
    try {
      expect((db.prepare('SELECT jkt FROM core_api_tokens WHERE id = ?').get(id) as { jkt: string }).jkt).toBe(key.jkt);
    } finally {
      db.close();
    }
    const priv = join(tmp.path, 'service.key.jwk');
    writeFileSync(priv, JSON.stringify(key.privateJwk));
    const refused = await cli('token', 'create', '--role', 'requester', '--tenant', tenant, '--name', 'his-2', '--public-key', priv);
    expect(refused.code).toBe(2);
    oneLine(refused.stderr);
    const rsa = join(tmp.path, 'rsa.jwk');
    writeFileSync(rsa, JSON.stringify({ kty: 'RSA', n: 'AQAB', e: 'AQAB' }));
    expect((await cli('token', 'create', '--role', 'requester', '--tenant', tenant, '--name', 'his-3', '--public-key', rsa)).code).toBe(2);
  });

  it('imports a transaction bundle', async () => {
    const file = join(tmp.path, 'intake.json');
    const before = rows('identity_persons');
    const r = await cli('import', file, '--tenant', tenant);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported 3 resources in 1 transaction/);
    expect(rows('identity_persons')).toBe(before + 1);
  });

  it('imports NDJSON of resources, mapping the ids in the file to new ids', async () => {
    const p = { ...fhir.patient(), id: 'p1' };
    const lines = [p, { ...fhir.serviceRequest('Patient/p1'), id: 'o1' }, fhir.specimen('Patient/p1', 'ServiceRequest/o1')];
    const file = join(tmp.path, 'resources.ndjson');
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const r = await cli('import', file, '--tenant', tenant);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported 3 resources/);
  });

  it.each([
    ['not JSON at all', 'this is not json'],
    ['a JSON array', '[1,2,3]'],
    ['a batch bundle', JSON.stringify({ ...fhir.intakeBundle().bundle, type: 'batch' })],
    ['an NDJSON file with one broken line', `${JSON.stringify(fhir.patient())}\n{"resourceType":`],
  ])('refuses %s with one line, exit 2, and writes nothing', async (_what, content) => {
    const file = join(tmp.path, 'bad.input');
    writeFileSync(file, content);
    const before = [rows('identity_persons'), rows('clinical_resources')];
    const r = await cli('import', file, '--tenant', tenant);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/^labkluis: /);
    expect([rows('identity_persons'), rows('clinical_resources')]).toEqual(before);
  });

  it('refuses a bundle with an invalid entry, naming it, and writes nothing', async () => {
    const intake = fhir.intakeBundle();
    (intake.bundle.entry[0]!.resource as { identifier: { value: string }[] }).identifier[0]!.value = '123456789';
    const file = join(tmp.path, 'bad-bsn.json');
    writeFileSync(file, JSON.stringify(intake.bundle));
    const before = rows('identity_persons');
    const r = await cli('import', file, '--tenant', tenant);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain('Bundle.entry[0]');
    expect(r.stderr).not.toContain('123456789');
    expect(rows('identity_persons')).toBe(before);
  });
});

describe('labkluis audit verify', () => {
  it('passes on an untouched log and fails, naming the entry, after a direct edit', async () => {
    expect((await cli('audit', 'verify')).code).toBe(0);
    const db = new Database(join(data, 'labkluis.sqlite'));
    db.exec('DROP TRIGGER IF EXISTS audit_entries_no_update');
    const row = db.prepare('SELECT leaf FROM audit_entries WHERE seq = 10').get() as { leaf: Buffer };
    db.prepare('UPDATE audit_entries SET leaf = ? WHERE seq = 10').run(Buffer.from(row.leaf.toString().replace('"success"', '"denied"')));
    db.close();
    const r = await cli('audit', 'verify');
    expect(r.code).toBe(1);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/FAILED verification at entry 10/);
  });
});

describe('labkluis demo', () => {
  it('loads once and says so the second time', async () => {
    const dir = join(tmp.path, 'demo2');
    mkdirSync(dir);
    const args = ['--data', join(dir, 'data'), '--keyring', join(dir, 'keyring.json'), 'demo', '--patients', '3'];
    const first = await runCli(args);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/demo loaded: 3 tenants, 9 synthetic patients/);
    expect(first.stdout).toMatch(/requester .* lkt_/);
    const second = await runCli(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/already holds data/);
  });
});

describe('labkluis import of a file with several bundles', () => {
  it('writes nothing when a later bundle holds an invalid resource', async () => {
    const good = fhir.intakeBundle().bundle;
    const bad = fhir.intakeBundle().bundle;
    (bad.entry[1]!.resource as { intent: string }).intent = 'wish';
    const file = join(tmp.path, 'two-bundles.ndjson');
    writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`);
    const before = [rows('identity_persons'), rows('clinical_resources')];
    const r = await cli('import', file, '--tenant', tenant);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/Bundle\.entry\[1\]/);
    expect([rows('identity_persons'), rows('clinical_resources')]).toEqual(before);
  });
});
