import { describe, expect, it } from 'vitest';
import {
  canonicalBytes, chainMac, createSealer, frontierAppend, frontierRoot, leafHash, parseCanonical, signCheckpoint,
  verifyAuditRows, type NoteSigner, type VerifyResult,
} from '../../src/audit/index.js';
import { ManualClock } from '../../src/kernel/index.js';
import type { AuditHead, AuditRow, CheckpointRow } from '../../src/store/types.js';
import { countingRandom, draft, MAC_KEY, newSigner, ORIGIN } from './fixtures.js';

const { signer, vkey } = newSigner();
const ATTACKER_KEY = Buffer.alloc(32, 9);

async function checkpointAt(rows: readonly AuditRow[], size: number, by: NoteSigner = signer): Promise<CheckpointRow> {
  const root = rows[size - 1]!.rootAfter;
  return { size, root, note: await signCheckpoint({ origin: ORIGIN, size, root }, by), createdAt: '2026-03-01T00:00:00.000Z' };
}

/** A log of n entries sealed in batches of 3, with checkpoints at 8, 16 and 20. */
async function buildLog(n = 20): Promise<{ rows: AuditRow[]; checkpoints: CheckpointRow[] }> {
  const clock = new ManualClock('2026-03-01T09:00:00Z');
  const random = countingRandom();
  let head: AuditHead = { size: 0, frontier: [], lastMac: null };
  const rows: AuditRow[] = [];
  for (let i = 0; i < n; i += 3) {
    const batch = Array.from({ length: Math.min(3, n - i) }, (_, j) => draft({ objects: [{ type: 'Observation', id: `obs-${i + j}` }] }));
    const sealed = createSealer(batch, { macKey: MAC_KEY, clock, random })(head);
    rows.push(...sealed.rows);
    head = sealed.head;
    clock.advance(1000);
  }
  const checkpoints = await Promise.all([8, 16, 20].filter((s) => s <= n).map((s) => checkpointAt(rows, s)));
  return { rows, checkpoints };
}

/** What an attacker with database access does: rewrite leaves from `from` on and recompute
 *  every seq, leafHash and rootAfter (and a MAC chain with a key of their own). */
function reseal(rows: readonly AuditRow[], from: number, edit: (entry: Record<string, unknown>) => void = () => {}): AuditRow[] {
  let frontier: Buffer[] = [];
  let prevMac: Buffer | null = null;
  return rows.map((row, i) => {
    let next = row;
    if (i >= from) {
      const entry = { ...(parseCanonical(row.leaf) as Record<string, unknown>), seq: i };
      if (i === from) edit(entry);
      const leaf = canonicalBytes(entry);
      const hash = leafHash(leaf);
      next = { ...row, seq: i, leaf, leafHash: hash, mac: chainMac(ATTACKER_KEY, prevMac, hash, i) };
    }
    frontier = frontierAppend(frontier, i, next.leafHash);
    next = { ...next, rootAfter: frontierRoot(frontier, i + 1) };
    prevMac = next.mac;
    return next;
  });
}

const withMac = { macKey: MAC_KEY, verifierKey: vkey, origin: ORIGIN };
const noMac = { macKey: null, verifierKey: vkey, origin: ORIGIN };
const pages = (rows: readonly AuditRow[], size = 7): AuditRow[][] =>
  Array.from({ length: Math.ceil(rows.length / size) }, (_, i) => rows.slice(i * size, i * size + size));

function expectBad(result: VerifyResult, seq: number, reason: RegExp): void {
  expect(result).toMatchObject({ ok: false, seq });
  if (!result.ok) expect(result.reason).toMatch(reason);
}

describe('verifyAuditRows', () => {
  it('accepts an untouched log, with and without the MAC key, and reports progress', async () => {
    const { rows, checkpoints } = await buildLog();
    const progress: number[] = [];
    const r = await verifyAuditRows(pages(rows), checkpoints, withMac, (n) => progress.push(n));
    expect(r).toMatchObject({ ok: true, size: 20, checkpoints: 3, lastCheckpointSize: 20 });
    expect(progress).toEqual([7, 14, 20]);
    expect(await verifyAuditRows([rows], checkpoints, noMac)).toMatchObject({ ok: true, size: 20 });
    expect(await verifyAuditRows([], [], withMac)).toMatchObject({ ok: true, size: 0 });
  });

  it('names an edited leaf (hash no longer matches)', async () => {
    const { rows, checkpoints } = await buildLog();
    const bad = rows.map((r) => (r.seq === 5 ? { ...r, leaf: Buffer.from(r.leaf.toString().replace('obs-5', 'obs-X')) } : r));
    expectBad(await verifyAuditRows(pages(bad), checkpoints, noMac), 5, /leafHash/);
  });

  it('names an edit with recomputed hashes and roots: by MAC with the key, by checkpoint range without', async () => {
    const { rows, checkpoints } = await buildLog();
    const bad = reseal(rows, 10, (e) => { e.patients = ['someone-else']; }).map((r, i) => (i === 10 ? { ...r, patients: ['someone-else'] } : { ...r, mac: rows[i]!.mac }));
    expectBad(await verifyAuditRows(pages(bad), checkpoints, withMac), 10, /MAC/);
    expectBad(await verifyAuditRows(pages(bad), checkpoints, noMac), 8, /8\.\.15/);
  });

  it('names a deleted entry (gap), also when later entries were renumbered', async () => {
    const { rows, checkpoints } = await buildLog();
    expectBad(await verifyAuditRows(pages(rows.filter((r) => r.seq !== 7)), checkpoints, noMac), 7, /missing/);
    const renumbered = rows.filter((r) => r.seq !== 7).map((r, i) => ({ ...r, seq: i }));
    expectBad(await verifyAuditRows(pages(renumbered), checkpoints, noMac), 7, /leaf says seq 8/);
  });

  it('names an inserted entry: a repeated seq, or a forged one resealed from there on', async () => {
    const { rows, checkpoints } = await buildLog();
    const dup = [...rows.slice(0, 8), rows[7]!, ...rows.slice(8)];
    expectBad(await verifyAuditRows(pages(dup), checkpoints, noMac), 8, /seq 7 appears again/);
    const forged = reseal([...rows.slice(0, 7), { ...rows[7]! }, ...rows.slice(7)], 7, (e) => { e.operation = 'export'; });
    expectBad(await verifyAuditRows(pages(forged), checkpoints, withMac), 7, /MAC/);
    expectBad(await verifyAuditRows(pages(forged), checkpoints, noMac), 0, /0\.\.7/);
  });

  it('names reordered entries', async () => {
    const { rows, checkpoints } = await buildLog();
    const swapped = [...rows.slice(0, 3), rows[4]!, rows[3]!, ...rows.slice(5)];
    expectBad(await verifyAuditRows(pages(swapped), checkpoints, noMac), 3, /missing|reordered/);
    const swappedRenumbered = swapped.map((r, i) => ({ ...r, seq: i }));
    expectBad(await verifyAuditRows(pages(swappedRenumbered), checkpoints, noMac), 3, /leaf says seq 4/);
  });

  it('names truncation: a signed checkpoint beyond the end of the log', async () => {
    const { rows, checkpoints } = await buildLog();
    expectBad(await verifyAuditRows(pages(rows.slice(0, 17)), checkpoints, withMac), 17, /truncated.*20/);
  });

  it('names a forged checkpoint (another key, or altered columns) by the range it claims', async () => {
    const { rows, checkpoints } = await buildLog();
    const mallory = newSigner();
    const forged = [...checkpoints.filter((c) => c.size !== 16), await checkpointAt(rows, 16, mallory.signer)];
    expectBad(await verifyAuditRows(pages(rows), forged, withMac), 8, /size 16.*signature.*8\.\.15/);
    const alteredColumn = checkpoints.map((c) => (c.size === 16 ? { ...c, root: Buffer.alloc(32) } : c));
    expectBad(await verifyAuditRows(pages(rows), alteredColumn, withMac), 8, /size 16/);
    // A log resealed after an edit, with the attacker's own checkpoints, still fails.
    const resealed = reseal(rows, 3);
    const attackerCps = await Promise.all([8, 16, 20].map((s) => checkpointAt(resealed, s, mallory.signer)));
    expectBad(await verifyAuditRows(pages(resealed), attackerCps, noMac), 0, /size 8/);
  });

  it('names a row whose index columns disagree with its leaf, and a leaf that is not canonical', async () => {
    const { rows, checkpoints } = await buildLog();
    const hidden = rows.map((r) => (r.seq === 4 ? { ...r, patients: [] } : r));
    expectBad(await verifyAuditRows(pages(hidden), checkpoints, noMac), 4, /columns/);
    const spaced = rows.map((r) => (r.seq === 6 ? { ...r, leaf: Buffer.from(` ${r.leaf.toString()}`) } : r));
    expectBad(await verifyAuditRows(pages(spaced), checkpoints, noMac), 6, /canonical/);
  });

  it('names a rootAfter that differs from the recomputed root', async () => {
    const { rows, checkpoints } = await buildLog();
    const bad = rows.map((r) => (r.seq === 12 ? { ...r, rootAfter: Buffer.alloc(32) } : r));
    expectBad(await verifyAuditRows(pages(bad), checkpoints, noMac), 12, /rootAfter/);
  });
});
