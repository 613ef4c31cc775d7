/**
 * A restore drill (issue 5), run where the offline identity lives (the backup host), never on
 * production. In order, each a check of the report:
 *
 * 1. chain: every manifest at the target verifies with the backup key, the chain is whole,
 *    every object is there (`backup verify` without reading data: the restore reads the newest),
 *    and the newest snapshot is recent (backups have not stopped);
 * 2. restore: the newest snapshot into an empty scratch store, all or nothing, its row counts
 *    and audit root checked against the signed manifest (restore.ts);
 * 3. audit: the restored log verifies as `audit verify` checks it, with the escrowed keyring;
 * 4. history: the restored log extends the log of every earlier snapshot in the chain (its root
 *    at each earlier size is that snapshot's): no snapshot since was taken of a cut-back or
 *    rewritten log, by whoever holds production's keys;
 * 5. decrypt: a random sample of the restored records (results and identities) opens with the
 *    escrowed keyring's data keys and is the record its row says;
 * 6. production: production's current audit log, by a checkpoint signed with the vault's audit
 *    key, is an extension of the one in the snapshot (RFC 6962 consistency proof): production's
 *    log was neither cut back nor rewritten since the backup.
 *
 * A check that cannot run fails; the drill goes on with those that still can, so the report
 * says all it can. The report is signed with the drill key.
 */
import {
  frontierAppend, frontierRoot, leafHash, openCheckpoint, verifierKeyString, verifyAuditLog, verifyConsistency, type NoteSigner,
} from '../../audit/index.js';
import { aesGcmCipher, DataKeys, type Kms } from '../../crypto/index.js';
import { isLabkluisError, randomId, type Clock, type Random } from '../../kernel/index.js';
import { snapshotSpec, type ResourceType, type SnapshotValue, type Store } from '../../store/index.js';
import { RecordCodec } from '../../vault/index.js';
import type { OpenedManifest } from '../manifest.js';
import { restoreFromTarget, type RestoreSummary } from '../restore.js';
import type { BackupTarget } from '../targets/target.js';
import { verifyTarget } from '../verify.js';
import { DRILL_CHECKS, DRILL_FORMAT, signDrillReport, type DrillCheck, type DrillReport } from './drill-report.js';
import type { ProductionLog } from './production-log.js';

export interface DrillOptions {
  readonly target: BackupTarget;
  /** The offline identities the snapshots are sealed to. */
  readonly identities: readonly string[];
  /** The vault's keyring as recovered from escrow: the backup and audit keys, the data keys' KEK. */
  readonly kms: Kms;
  /** An empty, migrated store of either backend: the restore goes here, and is thrown away after. */
  readonly scratch: Store;
  readonly production: ProductionLog;
  /** How many records to decrypt, of results and of identities each (default 100). */
  readonly sample?: number;
  /** How old the newest snapshot may be before the drill fails: backups have stopped (default 48 hours). */
  readonly maxSnapshotAgeHours?: number;
  /** Signs the report. */
  readonly signer: NoteSigner;
  readonly clock: Clock;
  readonly random: Random;
}

export interface DrillResult {
  readonly report: DrillReport;
  /** The signed report (a C2SP note). */
  readonly note: string;
}

export async function runRestoreDrill(o: DrillOptions): Promise<DrillResult> {
  const startedAt = o.clock.now();
  const origin = o.kms.auditSigner.name;
  const backupKey = verifierKeyString(o.kms.backupSigner.name, o.kms.backupSigner.publicKey);
  const auditKey = verifierKeyString(o.kms.auditSigner.name, o.kms.auditSigner.publicKey);
  const checks: DrillCheck[] = [];
  const check = (name: DrillCheck['name'], ok: boolean, detail: string): boolean => {
    checks.push({ name, ok, detail: detail.slice(0, 2000) });
    return ok;
  };
  const figures = { rows: 0, bytes: 0, restoreMs: 0, auditEntries: 0, decrypted: 0, productionSize: 0 };

  // 1. The chain, without reading data.
  const verified = await verifyTarget(o.target, backupKey, { readData: 0, random: o.random });
  const problems = [
    ...verified.badManifests.map((b) => `manifest ${b.name}: ${b.problem}`),
    ...verified.chain.map((c) => `manifest ${c.sequence}: ${c.problem}`),
    ...(verified.missing.length > 0 ? [`${verified.missing.length} objects missing`] : []),
  ];
  // 2. The newest snapshot whose manifest verifies, restored into the scratch store.
  const chain = verified.opened; // a forged or damaged manifest is not in it (the chain check names it)
  const newest = chain.at(-1) ?? null;
  const maxAgeHours = o.maxSnapshotAgeHours ?? 48;
  const ageHours = newest === null ? 0 : (o.clock.now().getTime() - Date.parse(newest.manifest.createdAt)) / 3_600_000;
  if (newest !== null && ageHours > maxAgeHours) problems.push(`the newest snapshot is ${Math.floor(ageHours)} hours old (allowed: ${maxAgeHours}): backups have stopped`);
  check('chain', problems.length === 0 && verified.manifests > 0, problems.length > 0
    ? problems.slice(0, 5).join('; ')
    : verified.manifests === 0 ? `no snapshot at ${o.target.name}` : `${verified.manifests} manifests signed and chained, ${verified.objects} objects present, the newest ${Math.floor(ageHours)} hours old`);

  let restored: RestoreSummary | null = null;
  const sample = o.sample ?? 100;
  const picks = { resources: new Reservoir<readonly SnapshotValue[]>(sample, o.random), persons: new Reservoir<readonly SnapshotValue[]>(sample, o.random) };
  const currentAt = { resources: column('clinical_resources', 'is_current'), persons: column('identity_persons', 'is_current') };
  // The restored log's root at every earlier snapshot's size, recomputed from its leaves as they stream.
  const leafAt = column('audit_entries', 'leaf');
  const wanted = new Map<number, string>();
  for (const m of chain) if (m.manifest.audit.size > 0) wanted.set(m.manifest.audit.size, '');
  let [logSize, frontier] = [0, [] as Buffer[]];
  if (newest === null) {
    check('restore', false, 'no snapshot to restore');
  } else {
    const t0 = o.clock.now().getTime();
    try {
      restored = await restoreFromTarget(o.target, newest.manifest, o.identities, o.scratch, {
        row: (table, row) => {
          if (table === 'clinical_resources' && row[currentAt.resources] === true) picks.resources.offer(row);
          else if (table === 'identity_persons' && row[currentAt.persons] === true) picks.persons.offer(row);
          else if (table === 'audit_entries') {
            frontier = frontierAppend(frontier, logSize, leafHash(row[leafAt] as Buffer));
            logSize += 1;
            if (wanted.has(logSize)) wanted.set(logSize, frontierRoot(frontier, logSize).toString('hex'));
          }
        },
      });
      figures.restoreMs = Math.max(0, o.clock.now().getTime() - t0);
      figures.rows = Object.values(restored.rows).reduce((s, n) => s + n, 0);
      figures.bytes = restored.bytes;
      check('restore', true, `snapshot ${newest.manifest.sequence} restored: ${figures.rows} rows, ${(restored.bytes / 1048576).toFixed(1)} MiB, row counts and audit root as its manifest says`);
    } catch (e) {
      check('restore', false, `snapshot ${newest.manifest.sequence} did not restore: ${reason(e)}`);
    }
  }

  // 3, 4 and 5: the restored log, its history, and a sample of the records, with the escrowed keyring.
  if (restored === null || newest === null) {
    check('audit', false, 'nothing restored to verify');
    check('history', false, 'nothing restored to compare with the earlier snapshots');
    check('decrypt', false, 'nothing restored to decrypt');
  } else {
    const keys = new DataKeys({ store: o.scratch, kms: o.kms, clock: o.clock, random: o.random });
    try {
      const result = await verifyAuditLog({ store: o.scratch, macKey: (await keys.current('*', 'audit-mac')).key, verifierKey: auditKey, origin });
      if (result.ok) figures.auditEntries = result.size;
      check('audit', result.ok, result.ok ? `${result.size} entries and ${result.checkpoints} checkpoints verify` : `the restored audit log does not verify at entry ${result.seq}: ${result.reason}`);
    } catch (e) {
      check('audit', false, `the restored audit log could not be verified: ${reason(e)}`);
    }
    const broken = historyProblems(chain, wanted);
    check('history', broken.length === 0, broken.length === 0
      ? `the restored log extends the logs of all ${chain.length} snapshots in the chain`
      : broken.slice(0, 3).join('; '));
    const opened = await decryptSample(o.scratch, new RecordCodec({ keys, cipher: aesGcmCipher(o.random) }), picks.resources.items, picks.persons.items);
    figures.decrypted = opened.ok;
    const tried = picks.resources.items.length + picks.persons.items.length;
    check('decrypt', tried > 0 && opened.failed === 0, tried === 0
      ? 'the snapshot holds no current records to decrypt'
      : opened.failed === 0 ? `${opened.ok} sampled records (${picks.resources.items.length} results, ${picks.persons.items.length} identities) decrypt with the escrowed keyring`
        : `${opened.failed} of ${tried} sampled records did not decrypt with the escrowed keyring (${opened.first})`);
  }

  // 5. Production's log goes on from the snapshot's.
  if (newest === null) {
    check('production', false, 'no snapshot to compare production with');
  } else {
    try {
      const at = newest.manifest.audit;
      const cp = openCheckpoint(await o.production.checkpoint(), auditKey, origin);
      figures.productionSize = cp.size;
      if (cp.size < at.size) {
        check('production', false, `production's audit log has ${cp.size} entries, fewer than the ${at.size} in snapshot ${newest.manifest.sequence}: it was cut back or replaced`);
        figures.productionSize = 0;
      } else {
        const proof = at.size === 0 || at.size === cp.size ? [] : await o.production.consistency(at.size, cp.size);
        const ok = at.size === 0 || verifyConsistency(at.size, cp.size, proof, Buffer.from(at.root, 'hex'), cp.root);
        if (!ok) figures.productionSize = 0;
        check('production', ok, ok
          ? `production's audit log (${cp.size} entries, signed checkpoint) extends the ${at.size} in snapshot ${newest.manifest.sequence}`
          : `production's audit log (${cp.size} entries) does not extend the ${at.size} in snapshot ${newest.manifest.sequence}: it was rewritten`);
      }
    } catch (e) {
      check('production', false, `production's log could not be checked: ${reason(e)}`);
    }
  }

  const passed = checks.length === DRILL_CHECKS.length && checks.every((c) => c.ok);
  const report: DrillReport = {
    format: DRILL_FORMAT,
    id: randomId(o.random),
    origin,
    target: o.target.name,
    startedAt: startedAt.toISOString(),
    finishedAt: o.clock.now().toISOString(),
    outcome: passed ? 'passed' : 'failed',
    snapshot: newest === null ? null : {
      sequence: newest.manifest.sequence, id: newest.manifest.snapshot, manifest: newest.hash, createdAt: newest.manifest.createdAt,
    },
    checks,
    figures,
  };
  return { report, note: await signDrillReport(report, o.signer) };
}

/** Earlier snapshots whose log the restored one does not extend (by the roots recomputed while restoring). */
function historyProblems(chain: readonly OpenedManifest[], rootAt: ReadonlyMap<number, string>): string[] {
  const problems: string[] = [];
  const newest = chain.at(-1)!.manifest;
  let size = 0;
  for (const { manifest: m } of chain) {
    if (m.audit.size < size) problems.push(`snapshot ${m.sequence} holds a shorter audit log (${m.audit.size}) than the snapshot before it (${size}): cut back`);
    size = Math.max(size, m.audit.size);
    if (m.audit.size === 0 || m === newest) continue;
    if (m.audit.size > newest.audit.size) problems.push(`snapshot ${m.sequence} holds more of the audit log (${m.audit.size}) than the newest (${newest.audit.size}): cut back`);
    else if (rootAt.get(m.audit.size) !== m.audit.root) problems.push(`the restored log is not an extension of snapshot ${m.sequence}'s: rewritten since`);
  }
  return problems;
}

async function decryptSample(
  store: Store, codec: RecordCodec, resources: readonly (readonly SnapshotValue[])[], persons: readonly (readonly SnapshotValue[])[],
): Promise<{ ok: number; failed: number; first: string }> {
  let [ok, failed, first] = [0, 0, ''];
  const fail = (what: string): void => {
    failed += 1;
    if (first === '') first = what;
  };
  const r = (name: string): number => column('clinical_resources', name);
  for (const row of resources) {
    const [tenant, type, id, version] = [row[r('tenant')] as string, row[r('type')] as ResourceType, row[r('id')] as string, row[r('version')] as number];
    try {
      const stored = await store.getResource(tenant, type, id, version);
      const resource = stored === null ? null : await codec.openResource(stored);
      if (resource?.resourceType === type && resource.id === id) ok += 1;
      else fail(`a ${type} is not the record its row names`);
    } catch (e) {
      fail(`a ${type}: ${reason(e)}`);
    }
  }
  const p = (name: string): number => column('identity_persons', name);
  for (const row of persons) {
    const [tenant, pseudonym] = [row[p('tenant')] as string, row[p('pseudonym')] as string];
    try {
      const stored = await store.getPerson(tenant, pseudonym);
      const patient = stored === null ? null : await codec.openPerson(stored);
      if (patient?.resourceType === 'Patient' && patient.id === pseudonym) ok += 1;
      else fail('an identity is not the person its row names');
    } catch (e) {
      fail(`an identity: ${reason(e)}`);
    }
  }
  return { ok, failed, first };
}

function column(table: string, name: string): number {
  const i = snapshotSpec(table)?.columns.findIndex((c) => c.name === name) ?? -1;
  if (i < 0) throw new TypeError(`no column ${name} in ${table}`);
  return i;
}

/** A plain-word reason from an error: our own errors' messages (which carry no personal data), else its kind. */
function reason(e: unknown): string {
  return isLabkluisError(e) ? e.message : e instanceof TypeError ? 'malformed data' : 'an unexpected error';
}

/** A uniform random sample of up to `size` items of a stream of unknown length (Algorithm R). */
class Reservoir<T> {
  readonly items: T[] = [];
  #seen = 0;

  constructor(readonly size: number, private readonly random: Random) {}

  offer(item: T): void {
    this.#seen += 1;
    if (this.items.length < this.size) {
      this.items.push(item);
      return;
    }
    const j = Math.floor((this.random.bytes(4).readUInt32BE(0) / 0x1_0000_0000) * this.#seen);
    if (j < this.size) this.items[j] = item;
  }
}
