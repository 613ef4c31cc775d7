import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, episode, type Episode } from '../support/api.js';
import { BACKENDS, createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

/** Every file under a directory (recursively), newest first, skipping what cannot be read. */
function files(dir: string): string[] {
  const out: { path: string; mtime: number }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ path: p, mtime: statSync(p).mtimeMs });
    }
  };
  walk(dir);
  return out.sort((a, b) => b.mtime - a.mtime).map((x) => x.path);
}

/** The raw bytes an attacker copying the data directory would get (PostgreSQL: the database's files and the WAL). */
async function rawBytes(f: VaultFixture): Promise<Buffer> {
  if (f.backend === 'sqlite') return Buffer.concat(files(f.dataDir).map((p) => readFileSync(p)));
  await f.rawSql('CHECKPOINT');
  const [setting] = (await f.rawSql("SELECT current_setting('data_directory') AS data_directory")) as { data_directory: string }[];
  const [db] = (await f.rawSql('SELECT oid FROM pg_database WHERE datname = current_database()')) as { oid: number }[];
  const dir = setting!.data_directory;
  const base = files(join(dir, 'base', String(db!.oid)));
  const wal = files(join(dir, 'pg_wal')).filter((p) => /[0-9A-F]{24}$/.test(p)).slice(0, 3); // the newest segments hold our writes
  return Buffer.concat([...base, ...wal].map((p) => readFileSync(p)));
}

describe.each(BACKENDS)('no plaintext personal data at rest (%s)', (backend) => {
  let f: VaultFixture;
  let episodes: Episode[];
  let secrets: string[];
  let conclusions: string[];
  beforeAll(async () => {
    f = await createVaultFixture(backend);
    const api = apiClient(f);
    episodes = [];
    conclusions = [];
    for (let i = 0; i < 3; i++) {
      const e = await episode(f, f.tenants.a);
      episodes.push(e);
      const v1 = (await api.get('validator2', `/fhir/${e.report}`, { tenant: f.tenants.a })).body;
      expect((await api.put('validator2', `/fhir/${e.report}`, { ...v1, status: 'final' }, { tenant: f.tenants.a })).status).toBe(200);
      conclusions.push(v1.conclusion);
      // Reads and searches too: their audit entries, caches and WAL pages must hold no plaintext either.
      await api.get('registrar', `/fhir/Patient?identifier=${e.person.bsn}`, { tenant: f.tenants.a });
      await api.get('requesterA', `/fhir/${e.patient}`);
    }
    const barcodes = await Promise.all(episodes.map(async (e) => (await api.get('registrar', `/fhir/${e.specimen}`, { tenant: f.tenants.a })).body.identifier[0].value as string));
    secrets = [
      ...episodes.flatMap((e) => [e.person.bsn, e.person.family, e.person.given, e.person.street, e.person.birthDate, e.person.email]),
      ...conclusions, ...barcodes,
      '10828004', // the positive result's SNOMED code
    ];
  }, 120_000);
  afterAll(() => f.cleanup());

  it('finds none of the values it wrote in the raw bytes of the data directory', async () => {
    const raw = await rawBytes(f);
    // Positive control: the scan does see what is stored in the clear (pseudonyms, tenant ids).
    expect(raw.includes(Buffer.from(episodes[0]!.pseudonym))).toBe(true);
    expect(raw.includes(Buffer.from(f.tenants.a))).toBe(true);
    const found = secrets.filter((s) => raw.includes(Buffer.from(s, 'utf8')));
    expect(found).toEqual([]);
    expect(secrets.length).toBeGreaterThan(20);
  });

  it('keeps identity and clinical data in separate parts, linked by the pseudonym only', async () => {
    const e = episodes[0]!;
    const clinical = backend === 'sqlite' ? 'clinical_resources' : 'clinical.resources';
    const identity = backend === 'sqlite' ? 'identity_persons' : 'identity.persons';
    const rows = (await f.rawSql(`SELECT type, pseudonym FROM ${clinical} WHERE pseudonym = '${e.pseudonym}'`)) as { type: string }[];
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(['ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport']));
    const persons = (await f.rawSql(`SELECT pseudonym FROM ${identity} WHERE pseudonym = '${e.pseudonym}'`)) as unknown[];
    expect(persons).toHaveLength(1);
    const clinicalColumns = (await f.rawSql(backend === 'sqlite'
      ? `SELECT name FROM pragma_table_info('clinical_resources')`
      : `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'clinical' AND table_name = 'resources'`)) as { name: string }[];
    expect(clinicalColumns.map((c) => c.name)).not.toContain('bsn_token');
  });
});
