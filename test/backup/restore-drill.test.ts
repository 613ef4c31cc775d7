/**
 * Restore drills end to end, on the real backends (issue 5): a vault backed up to a dir:
 * target; its keyring escrowed to a security officer; on the "backup host", a drill restores
 * the newest snapshot into a scratch store of the other backend with the escrowed keyring,
 * verifies the audit log, decrypts a sample and checks production's live log over HTTP for
 * consistency, then signs its report and hands it to production, which shows it and alerts on
 * a failed drill. A production log rolled back to an older copy, a damaged chunk and a
 * production that lies about its log each fail the drill, naming why. Synthetic data only.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createLogger, type App } from '../../src/app.js';
import { canonicalJson, ed25519NoteSigner, signCheckpoint, signNote, verifierKeyString, type NoteSigner } from '../../src/audit/index.js';
import {
  DirTarget, DRILL_KEY_NAME, DRILL_REQUEST_HEADER, escrowKeyring, signDrillRequest, httpProductionLog, openEscrow, restoreFromTarget, runRestoreDrill,
  type OpenedManifest, type ProductionLog,
} from '../../src/backup/index.js';
import { createLocalKeyring, ed25519FromSeed, installKeyringText, loadLocalKeyring, readKeyringText, type Kms } from '../../src/crypto/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import type { FastifyInstance } from 'fastify';
import { episode } from '../support/api.js';
import { snapshotTo } from '../support/backup.js';
import { createStoreEnv, type StoreEnv } from '../support/store-env.js';
import { createTempDir, type TempDir } from '../support/tmp.js';
import { BACKENDS, createVaultFixture, type Backend, type VaultFixture } from '../support/vault-fixture.js';

/** The loopback URL a listening server answers at. */
function urlOf(server: FastifyInstance): string {
  const address = server.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

describe.each(BACKENDS)('restore drill of a %s vault', (from: Backend) => {
  const to: Backend = from === 'sqlite' ? 'postgres' : 'sqlite';
  let f: VaultFixture;
  let tmp: TempDir;
  let target: DirTarget;
  let identity: string;
  let recipient: string;
  let escrowedKms: Kms;
  let drillSigner: NoteSigner;
  let url: string;
  const opened: OpenedManifest[] = [];
  const scratches: StoreEnv[] = [];
  const scratch = async (): Promise<StoreEnv> => {
    const env = await createStoreEnv(to, systemClock);
    scratches.push(env);
    return env;
  };

  const backup = async () => {
    const { opened: m } = await snapshotTo(f.app.store, {
      target, recipients: [recipient], macKey: (await f.app.keys.current('*', 'backup-mac')).key, signer: f.kms.backupSigner, previous: opened.at(-1) ?? null,
    });
    opened.push(m);
  };
  /**
   * Production as an attacker who holds it leaves it: brought back from an earlier snapshot
   * (hiding what came after), with the vault's keys, serving on the loopback.
   */
  const productionFrom = async (snapshot: OpenedManifest, name: string) => {
    const old = await scratch();
    await restoreFromTarget(target, snapshot.manifest, [identity], old.store);
    const app: App = await createApp({
      dataDir: join(tmp.path, name), storeConfig: { kind: 'sqlite', file: 'x' }, store: old.store, kms: f.kms, origin: f.origin,
      clock: systemClock, random: systemRandom, logger: createLogger('silent'), drillPolicy: drillPolicy(),
    });
    const server = app.server();
    return {
      app,
      listen: async () => {
        await server.listen({ host: '127.0.0.1', port: 0 });
        return urlOf(server);
      },
      close: async () => {
        await server.close();
        await app.close();
      },
    };
  };
  const prod = (base: string): ProductionLog => httpProductionLog(base, drillSigner, systemClock);
  const drillPolicy = () => ({ key: verifierKeyString(DRILL_KEY_NAME, drillSigner.publicKey), maxAgeDays: 7 });
  const drill = async (production: ProductionLog = prod(url)) => runRestoreDrill({
    target, identities: [identity], kms: escrowedKms, scratch: (await scratch()).store, production, sample: 5, signer: drillSigner,
    clock: systemClock, random: systemRandom,
  });
  const officer = async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: await f.credential('securityOfficer', 'GET', path) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const seed = systemRandom.bytes(32);
    drillSigner = ed25519NoteSigner(DRILL_KEY_NAME, ed25519FromSeed(seed).privateKey);
    f = await createVaultFixture(from, { drillPolicy: drillPolicy() });
    for (let i = 0; i < 3; i++) await episode(f, i % 2 === 0 ? f.tenants.a : f.tenants.b);
    await f.app.audit.checkpoint();
    tmp = await createTempDir('labkluis-drill-');
    target = new DirTarget(join(tmp.path, 'backups'));
    identity = await generateX25519Identity();
    recipient = await identityToRecipient(identity);
    // The keyring goes to a security officer in escrow; the drill gets it back from there only.
    const officerIdentity = await generateX25519Identity();
    const escrow = await escrowKeyring(readKeyringText({ path: f.keyringPath, dataDir: f.dataDir }), [await identityToRecipient(officerIdentity)]);
    const restoredKeyring = join(tmp.path, 'drill-host', 'keyring.json');
    installKeyringText({ text: await openEscrow(escrow, [officerIdentity]), path: restoredKeyring, dataDir: join(tmp.path, 'drill-host', 'data') });
    escrowedKms = loadLocalKeyring({ path: restoredKeyring, dataDir: join(tmp.path, 'drill-host', 'data'), random: systemRandom });
    await backup();
    await episode(f, f.tenants.a);
    await backup();
    // Production goes on working after the backup: the drill must find its log an extension.
    await episode(f, f.tenants.b);
    await f.server.listen({ host: '127.0.0.1', port: 0 });
    url = urlOf(f.server);
  }, 180_000);
  afterAll(async () => {
    for (const s of scratches) await s.cleanup().catch(() => {});
    await tmp?.cleanup();
    await f?.cleanup();
  });

  it(`passes: the newest snapshot restores into a scratch ${to} store, verifies, decrypts with the escrowed keyring and production's log extends it`, async () => {
    expect((await officer('/backup/drills/latest')).body).toMatchObject({ state: 'none', keyConfigured: true, last: null });
    const { report, note } = await drill();
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([['chain', true], ['restore', true], ['audit', true], ['history', true], ['decrypt', true], ['production', true]]);
    expect(report.outcome).toBe('passed');
    expect(report.snapshot).toMatchObject({ sequence: 2, manifest: opened[1]!.hash });
    expect(report.figures.decrypted).toBeGreaterThanOrEqual(5 + 1); // up to 5 results and 5 identities, every one opened
    const head = await f.app.store.auditHead();
    expect(report.figures.productionSize).toBeGreaterThan(opened[1]!.manifest.audit.size);
    expect(report.figures.productionSize).toBeLessThanOrEqual(head.size);
    expect(report.figures.auditEntries).toBe(opened[1]!.manifest.audit.size);
    expect(note).toContain(`\n\n— ${DRILL_KEY_NAME} `);

    await prod(url).submit(note);
    const status = await officer('/backup/drills/latest');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ state: 'passed', last: { id: report.id, outcome: 'passed', snapshot: 2, failedChecks: [] }, lastPassed: { id: report.id } });
    // A passed drill raises nothing.
    expect((await f.app.store.safeguards.listAlerts({ open: true, limit: 100 })).filter((a) => a.kind.startsWith('backup-drill'))).toEqual([]);
    // Its receipt is in the audit log.
    const entries = await f.app.store.readAudit(0, 100_000);
    expect(entries.some((e) => e.leaf.toString('utf8').includes('backup-drill-received') && e.leaf.toString('utf8').includes(report.id))).toBe(true);
  });

  it("hands the drill (only) the audit log's signed checkpoint and consistency proofs; bad sizes get an OperationOutcome", async () => {
    const { openCheckpoint, verifyConsistency } = await import('../../src/audit/index.js');
    const signedGet = async (path: string, signer: NoteSigner = drillSigner, at = new Date()) =>
      fetch(`${url}${path}`, { headers: { [DRILL_REQUEST_HEADER]: await signDrillRequest(signer, 'GET', path, at.toISOString()) } });
    // Not for anyone else: unsigned, signed with another key, stale, or signed for another path.
    const stranger = ed25519NoteSigner(DRILL_KEY_NAME, ed25519FromSeed(systemRandom.bytes(32)).privateKey);
    expect((await fetch(`${url}/audit/checkpoint`)).status).toBe(401);
    expect((await signedGet('/audit/checkpoint', stranger)).status).toBe(401);
    expect((await signedGet('/audit/checkpoint', drillSigner, new Date(Date.now() - 10 * 60_000))).status).toBe(401);
    const header = await signDrillRequest(drillSigner, 'GET', '/audit/consistency?first=1&second=2', new Date().toISOString());
    expect((await fetch(`${url}/audit/checkpoint`, { headers: { [DRILL_REQUEST_HEADER]: header } })).status).toBe(401);
    const res = await signedGet('/audit/checkpoint');
    expect(res.status).toBe(200);
    const cp = openCheckpoint(await res.text(), verifierKeyString(f.kms.auditSigner.name, f.kms.auditSigner.publicKey), f.origin);
    expect(cp.size).toBe((await f.app.store.auditHead()).size);
    const first = opened[0]!.manifest.audit;
    const proof = (await (await signedGet(`/audit/consistency?first=${first.size}&second=${cp.size}`)).json()) as { proof: string[] };
    expect(verifyConsistency(first.size, cp.size, proof.proof.map((h) => Buffer.from(h, 'base64')), Buffer.from(first.root, 'hex'), cp.root)).toBe(true);
    for (const q of ['first=0&second=3', 'first=5&second=2', 'first=x&second=3', 'second=3', `first=1&second=${'9'.repeat(16)}`]) {
      const bad = await signedGet(`/audit/consistency?${q}`);
      expect([q, bad.status]).toEqual([q, 400]);
      expect(((await bad.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    }
    expect((await signedGet(`/audit/consistency?first=1&second=${cp.size + 1000}`)).status).toBe(404);
  });

  it('shows the drills to a security officer or an admin only', async () => {
    const path = '/backup/drills/latest';
    const asRequester = await fetch(`${url}${path}`, { headers: await f.credential('requesterA', 'GET', path) });
    expect(asRequester.status).toBe(403);
    expect((await fetch(`${url}${path}`)).status).toBe(401);
    const asAdmin = await fetch(`${url}${path}`, { headers: await f.credential('admin', 'GET', path) });
    expect(asAdmin.status).toBe(200);
  });

  it('refuses a report not signed with the drill key, a changed one, a replayed one and one from the future, and stores none of them', async () => {
    const before = await f.app.store.safeguards.lastDrills();
    const post = async (report: unknown) => {
      const res = await fetch(`${url}/backup/drills`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ report }) });
      return { status: res.status, body: (await res.json()) as { resourceType?: string; issue?: { diagnostics?: string }[] } };
    };
    const { note } = await drill();
    const other = ed25519NoteSigner(DRILL_KEY_NAME, ed25519FromSeed(systemRandom.bytes(32)).privateKey);
    const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
    const forged = await post(await signNote(text, other));
    expect(forged.status).toBe(400);
    expect(forged.body.resourceType).toBe('OperationOutcome');
    expect(forged.body.issue?.[0]?.diagnostics).toMatch(/drill key/);
    // A failed drill's report dressed up as passed: the signature no longer covers it.
    const changed = note.replace('"outcome":"passed"', '"outcome":"failed"');
    expect(changed).not.toBe(note);
    expect((await post(changed)).status).toBe(400);
    const future = JSON.parse(text) as Record<string, unknown>;
    future.finishedAt = new Date(Date.now() + 3_600_000).toISOString();
    expect((await post(await signNote(`${canonicalJson(future as never)}\n`, drillSigner))).status).toBe(400);
    expect((await post(42)).status).toBe(400);
    expect(await f.app.store.safeguards.lastDrills()).toEqual(before);
    expect((await post(note)).status).toBe(201);
    const replay = await post(note);
    expect(replay.status).toBe(409);
    // Each refusal of a report is in the audit log as a denied receipt (a body without one never got that far).
    const receipts = (reason: string) => entries.filter((e) => e.leaf.toString('utf8').includes(`backup-drill-received:${reason}`)).length;
    const entries = await f.app.store.readAudit(0, 100_000);
    expect([receipts('invalid-input'), receipts('conflict')]).toEqual([3, 1]);
  });

  it("fails when production's log was rolled back to an older copy of the vault (and says so)", async () => {
    // The attacker's move: production brought back from backup 1, hiding everything since.
    const rolledBack = await productionFrom(opened[0]!, 'rolled-back');
    try {
      const { report } = await drill(prod(await rolledBack.listen()));
      expect(report.outcome).toBe('failed');
      const production = report.checks.find((c) => c.name === 'production')!;
      expect(production.ok).toBe(false);
      expect(production.detail).toMatch(/fewer than the \d+ in snapshot 2: it was cut back or replaced/);
      expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['production']);
    } finally {
      await rolledBack.close();
    }
  });

  it("fails when production shows a log that does not extend the snapshot's, even signed with the audit key", async () => {
    // A production server that lies: a checkpoint of a rewritten log, signed with the vault's own audit key.
    const at = opened[1]!.manifest.audit;
    const lying: ProductionLog = {
      name: 'lying production',
      checkpoint: () => signCheckpoint({ origin: f.origin, size: at.size + 5, root: systemRandom.bytes(32) }, f.kms.auditSigner),
      consistency: (first, second) => prod(url).consistency(first, Math.min(second, at.size + 1)),
      submit: async () => {},
    };
    const { report } = await drill(lying);
    const production = report.checks.find((c) => c.name === 'production')!;
    expect(production).toMatchObject({ ok: false, detail: expect.stringMatching(/does not extend .* it was rewritten/) });
    expect(report.outcome).toBe('failed');
  });

  it("fails at the chain with a keyring that is not the vault's: no manifest verifies, nothing restores, production's checkpoint does not either", async () => {
    const other = createLocalKeyring({ path: join(tmp.path, 'other', 'keyring.json'), dataDir: join(tmp.path, 'other', 'data'), signerName: f.origin, random: systemRandom });
    const { report } = await runRestoreDrill({
      target, identities: [identity], kms: other, scratch: (await scratch()).store, production: prod(url), sample: 5, signer: drillSigner,
      clock: systemClock, random: systemRandom,
    });
    expect(report.outcome).toBe('failed');
    expect(report.snapshot).toBeNull();
    expect(report.checks.every((c) => !c.ok)).toBe(true);
    expect(report.checks[0]!.detail).toMatch(/signature does not verify with the backup key/);
  });

  it('fails on a damaged chunk, names the restore, and production alerts the security officer once', async () => {
    // A chunk of the newest snapshot (not its index): damage one byte in the middle.
    const chunk = opened[1]!.manifest.objects.find((o) => o.size > 100)!;
    const path = join(tmp.path, 'backups', 'objects', chunk.id.slice(0, 2), chunk.id);
    const bytes = readFileSync(path);
    const original = Buffer.from(bytes);
    bytes[bytes.length >> 1]! ^= 0x40;
    chmodSync(path, 0o600);
    writeFileSync(path, bytes);
    try {
      const { report, note } = await drill();
      expect(report.outcome).toBe('failed');
      expect(report.checks.find((c) => c.name === 'restore')).toMatchObject({ ok: false, detail: expect.stringMatching(/snapshot 2 did not restore/) });
      expect(report.checks.find((c) => c.name === 'audit')?.ok).toBe(false);
      expect(report.checks.find((c) => c.name === 'production')?.ok).toBe(true);
      await prod(url).submit(note);
      const status = await officer('/backup/drills/latest');
      expect(status.body).toMatchObject({ state: 'failed', last: { id: report.id, outcome: 'failed' } });
      const alerts = async () => (await f.app.store.safeguards.listAlerts({ open: true, limit: 100 })).filter((a) => a.kind === 'backup-drill-failed');
      expect((await alerts()).map((a) => a.subject)).toEqual([report.id]);
      await f.app.drills.check();
      expect(await alerts()).toHaveLength(1); // once per failed drill, not per check
    } finally {
      writeFileSync(path, original);
    }
  });

  it("fails the history check when a later snapshot is of a cut-back log, even with production's keys and a production that agrees", async () => {
    // The attacker holds production and its keys: brings production back to backup 1 (hiding
    // what came after), then takes a new, validly signed and chained backup of that.
    const cutBack = await productionFrom(opened[0]!, 'cut-back');
    try {
      await snapshotTo(cutBack.app.store, {
        target, recipients: [recipient], macKey: (await cutBack.app.keys.current('*', 'backup-mac')).key, signer: f.kms.backupSigner, previous: opened[1]!,
      });
      const { report } = await drill(prod(await cutBack.listen()));
      expect(report.snapshot?.sequence).toBe(3);
      expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['history']);
      expect(report.checks.find((c) => c.name === 'history')!.detail).toMatch(/shorter audit log|not an extension of snapshot 2/);
      expect(report.outcome).toBe('failed');
    } finally {
      await cutBack.close();
    }
  });
});
