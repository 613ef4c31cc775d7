/**
 * The backup receiver over real HTTP (port 0): production's upload token writes snapshots and
 * reads them back, and every attempt with it to delete, overwrite, truncate or replace is
 * refused; only a prune signed with the offline admin key removes anything, never inside the
 * retention floor. Payloads are synthetic (random rows), no records.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519NoteSigner, signNote, verifierKeyString } from '../../src/audit/index.js';
import { objectId, openManifest, verifyTarget, writeSnapshot, type ChunkSizes, type OpenedManifest, type SnapshotSource } from '../../src/backup/index.js';
import { buildReceiver, PRUNE_CONTEXT } from '../../src/backup/receiver/receiver.js';
import { HttpTarget } from '../../src/backup/targets/http-target.js';
import { ManualClock, systemRandom } from '../../src/kernel/index.js';
import { createTempDir, type TempDir } from '../support/tmp.js';

const SIZES: ChunkSizes = { min: 1024, avg: 4096, max: 16384 };
const signer = ed25519NoteSigner('backup.labkluis.test', generateKeyPairSync('ed25519').privateKey);
const vkey = verifierKeyString(signer.name, signer.publicKey);
const admin = generateKeyPairSync('ed25519');
const adminPublic = Buffer.from(admin.publicKey.export({ format: 'jwk' }).x!, 'base64url');
const TOKEN = randomBytes(32).toString('base64url');

function source(rows: string[]): SnapshotSource {
  return {
    backend: 'postgres',
    encoding: 'rows/2', // (never decoded here)
    tables: (async function* () {
      yield { table: 'clinical_resources', data: (async function* () { yield Buffer.from(rows.join(''), 'utf8'); })(), rows: () => rows.length };
    })(),
    audit: () => ({ size: 1, root: 'cd'.repeat(32) }),
  };
}

describe('the backup receiver', () => {
  let tmp: TempDir;
  let receiver: FastifyInstance;
  let base: string;
  let target: HttpTarget;
  const clock = new ManualClock('2026-01-01T03:00:00Z');
  const opened: OpenedManifest[] = [];
  const rows = Array.from({ length: 5_000 }, () => `${randomBytes(40).toString('hex')}\n`);
  let recipient: string;

  beforeAll(async () => {
    tmp = await createTempDir('labkluis-receiver-');
    receiver = buildReceiver({ root: join(tmp.path, 'store'), uploadToken: TOKEN, adminKey: adminPublic, backupKey: vkey, clock });
    await receiver.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    target = new HttpTarget(base, TOKEN);
    recipient = await identityToRecipient(await generateX25519Identity());
  });
  afterAll(async () => {
    await receiver.close();
    await tmp.cleanup();
  });

  const snapshot = async () => {
    const s = await writeSnapshot(source(rows), { target, recipients: [recipient], macKey: Buffer.alloc(32, 7), signer, previous: opened.at(-1) ?? null, clock, random: systemRandom, sizes: SIZES });
    opened.push(openManifest((await target.getManifest(s.name))!, vkey));
    return s;
  };
  const call = (method: string, path: string, body?: Uint8Array | string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...headers }, ...(body === undefined ? {} : { body }) });

  it('takes snapshots with the upload token and verifies them through HTTP', async () => {
    await snapshot();
    rows.push('one more row\n');
    clock.advance(86_400_000);
    await snapshot();
    const report = await verifyTarget(target, vkey, { readData: 1, random: systemRandom, newest: { sequence: 2, hash: opened[1]!.hash } });
    expect(report.ok).toBe(true);
    expect(report.manifests).toBe(2);
  });

  it('refuses, with production\'s token, to delete, overwrite, truncate or replace anything', async () => {
    const id = opened[0]!.manifest.objects[0]!.id;
    const stored = (await target.getObject(id))!;
    expect((await call('DELETE', `/v1/objects/${id}`)).status).toBe(404); // there is no delete
    const other = randomBytes(stored.length);
    expect((await call('PUT', `/v1/objects/${id}`, other, { 'content-type': 'application/octet-stream' })).status).toBe(400); // not its hash
    expect((await call('PUT', `/v1/objects/${id}`, stored.subarray(0, 10), { 'content-type': 'application/octet-stream' })).status).toBe(400); // truncated
    // Re-encrypted bytes are a new object under their own name; the old one stays as it was.
    const reencrypted = randomBytes(stored.length);
    expect((await call('PUT', `/v1/objects/${objectId(reencrypted)}`, reencrypted, { 'content-type': 'application/octet-stream' })).status).toBe(201);
    expect((await target.getObject(id))!.equals(stored)).toBe(true);
    const name = (await target.listManifests())[0]!;
    const note = (await target.getManifest(name))!;
    // A manifest must be signed with the backup key and named after itself; the same one again is no change.
    expect((await call('PUT', `/v1/manifests/${name}`, 'rolled back\n', { 'content-type': 'text/plain' })).status).toBe(400);
    expect((await call('PUT', `/v1/manifests/99999999-${'a'.repeat(26)}`, note, { 'content-type': 'text/plain' })).status).toBe(400);
    const stranger = ed25519NoteSigner(signer.name, generateKeyPairSync('ed25519').privateKey);
    expect((await call('PUT', `/v1/manifests/${name}`, await signNote(note.slice(0, note.indexOf('\n') + 1), stranger), { 'content-type': 'text/plain' })).status).toBe(400);
    expect((await call('PUT', `/v1/manifests/${name}`, note, { 'content-type': 'text/plain' })).status).toBe(200);
    expect((await call('DELETE', `/v1/manifests/${name}`)).status).toBe(404);
    expect((await fetch(`${base}/v1/objects`)).status).toBe(401); // no token, nothing
    expect((await fetch(`${base}/v1/objects/${id}`, { method: 'PUT', headers: { authorization: 'Bearer wrong', 'content-type': 'application/octet-stream' }, body: stored })).status).toBe(401);
    expect((await verifyTarget(target, vkey, { readData: 1, random: systemRandom })).ok).toBe(true);
  });

  it('prunes only with the offline admin key, and nothing received within the retention floor', async () => {
    const receiver = ((await (await fetch(`${base}/v1/id`)).json()) as { receiver: string }).receiver;
    expect(receiver).toMatch(/^[0-9a-f]{32}$/);
    const signed = (before: string, key = admin.privateKey, forReceiver = receiver) => {
      const body = JSON.stringify({ before, at: clock.now().toISOString(), receiver: forReceiver });
      return { body, signature: sign(null, Buffer.from(PRUNE_CONTEXT + body), key).toString('base64') };
    };
    const send = (r: { body: string; signature: string }) => call('POST', '/v1/prune', r.body, { 'content-type': 'text/plain', 'x-labkluis-admin-signature': r.signature });
    const prune = (before: string, key = admin.privateKey) => send(signed(before, key));
    const day2 = new Date(Date.parse('2026-01-02T03:00:00Z') + 1).toISOString();
    expect((await call('POST', '/v1/prune', JSON.stringify({ before: day2, at: clock.now().toISOString() }), { 'content-type': 'text/plain' })).status).toBe(401);
    expect((await prune(day2, generateKeyPairSync('ed25519').privateKey)).status).toBe(401); // production's or anyone's key but the admin's
    expect((await prune(day2)).status).toBe(403); // inside 35 days
    clock.advance(40 * 86_400_000);
    // 40 days on: the first snapshot (received on day 1) goes, the second (day 2) stays with its objects.
    // An object of a backup still being written (no manifest yet) is kept: it arrived after the cut.
    const inFlight = randomBytes(64);
    expect((await call('PUT', `/v1/objects/${objectId(inFlight)}`, inFlight, { 'content-type': 'application/octet-stream' })).status).toBe(201);
    const cut = new Date(Date.parse('2026-01-02T00:00:00Z')).toISOString();
    // A request signed for another receiver (replayed from there) is refused here.
    const elsewhere = await send(signed(cut, admin.privateKey, 'f'.repeat(32)));
    expect(elsewhere.status).toBe(400);
    expect(await target.listManifests()).toHaveLength(2);
    const request = signed(cut);
    const res = await send(request);
    expect(res.status).toBe(200);
    // The same signed request a second time: a replay, refused.
    expect((await send(request)).status).toBe(409);
    expect(((await res.json()) as { manifests: number }).manifests).toBe(1);
    expect(await target.getObject(objectId(inFlight))).not.toBeNull();
    expect(await target.listManifests()).toHaveLength(1);
    // A pruned snapshot's name cannot be taken again, not even by its own manifest.
    expect((await call('PUT', `/v1/manifests/${(await target.listPrunedManifests())[0]!}`, (await target.getPrunedManifest((await target.listPrunedManifests())[0]!))!, { 'content-type': 'text/plain' })).status).toBe(409);
    // The pruned snapshot's manifest stays as a link: the chain is whole, nothing is missing.
    expect(await target.listPrunedManifests()).toHaveLength(1);
    const left = await verifyTarget(target, vkey, { readData: 1, random: systemRandom, newest: { sequence: 2, hash: opened[1]!.hash } });
    expect(left).toMatchObject({ ok: true, manifests: 1, missing: [], damaged: [], chain: [] });
    // A pruned link removed behind the receiver's back shows as a gap.
    await rm(join(tmp.path, 'store', 'pruned', `${(await target.listPrunedManifests())[0]!}.note`));
    expect((await verifyTarget(target, vkey, { readData: 0, random: systemRandom })).chain[0]!.problem).toBe('manifests 1..1 are missing');
  });
});
