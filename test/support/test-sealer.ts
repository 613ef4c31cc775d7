/**
 * A small but real AuditSealer for store tests: RFC 6962 leaf hashes, a compact-range
 * frontier and roots, and a chained mac. The production sealer (src/audit/) signs and keys
 * its mac; this one uses plain SHA-256 so tests need no keys. Not imported from src/audit on
 * purpose: the store must be testable on its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AuditHead, AuditRow, AuditSealer } from '../../src/store/index.js';

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6962 §2.1: leaf hash = SHA-256(0x00 || leaf); node hash = SHA-256(0x01 || left || right). */
export const leafHash = (leaf: Buffer): Buffer => sha256(Buffer.from([0x00]), leaf);
export const nodeHash = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.from([0x01]), left, right);

/**
 * Appends one leaf hash to the compact range of [0, size): the frontier holds the roots of
 * the perfect subtrees for the set bits of size, largest first. Each trailing 1 bit of size
 * is a subtree the new leaf completes, so merge that many times (like a binary increment).
 */
export function appendLeaf(frontier: readonly Buffer[], size: number, hash: Buffer): Buffer[] {
  const out = [...frontier];
  let node = hash;
  for (let n = size; n % 2 === 1; n = Math.floor(n / 2)) {
    const left = out.pop();
    if (left === undefined) throw new Error('frontier does not match size');
    node = nodeHash(left, node);
  }
  out.push(node);
  return out;
}

/** Root of the tree the frontier describes: fold from the smallest subtree leftwards. */
export function frontierRoot(frontier: readonly Buffer[]): Buffer {
  if (frontier.length === 0) return sha256(); // RFC 6962: MTH of the empty list
  let root = frontier[frontier.length - 1] as Buffer;
  for (let i = frontier.length - 2; i >= 0; i--) root = nodeHash(frontier[i] as Buffer, root);
  return root;
}

/** RFC 6962 MTH computed from all leaf hashes, to check the incremental result against. */
export function merkleRoot(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return sha256();
  if (hashes.length === 1) return hashes[0] as Buffer;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2; // largest power of two smaller than n
  return nodeHash(merkleRoot(hashes.slice(0, k)), merkleRoot(hashes.slice(k)));
}

export const chainMac = (prev: Buffer | null, hash: Buffer): Buffer => sha256(prev ?? Buffer.alloc(0), hash);

/** What a test wants logged; leaf bytes default to random (clearly synthetic) bytes. */
export interface TestEntry {
  readonly time: string;
  readonly action?: AuditRow['action'];
  readonly principalId?: string | null;
  readonly tenant?: string | null;
  readonly patients?: readonly string[];
  readonly leaf?: Buffer;
}

/** Seals `entries` onto whatever head the store passes in. Counts its calls. */
export function testSealer(entries: readonly TestEntry[]): AuditSealer & { calls: number } {
  const seal = (head: AuditHead): { rows: AuditRow[]; head: AuditHead } => {
    seal.calls++;
    let frontier = [...head.frontier];
    let lastMac = head.lastMac;
    const rows = entries.map((e, i): AuditRow => {
      const seq = head.size + i;
      const leaf = e.leaf ?? randomBytes(48);
      const hash = leafHash(leaf);
      frontier = appendLeaf(frontier, seq, hash);
      lastMac = chainMac(lastMac, hash);
      return {
        seq, time: e.time, action: e.action ?? 'R', principalId: e.principalId ?? null, tenant: e.tenant ?? null,
        patients: e.patients ?? [], leaf, leafHash: hash, mac: lastMac, rootAfter: frontierRoot(frontier),
      };
    });
    return { rows, head: { size: head.size + rows.length, frontier, lastMac } };
  };
  seal.calls = 0;
  return seal;
}

/** A sealer that fails, as the production one does when its key is unavailable. */
export function throwingSealer(): AuditSealer {
  return () => {
    throw new Error('sealer unavailable');
  };
}

/** A sealer that returns rows at the wrong position (a buggy or hostile sealer). */
export function skippingSealer(): AuditSealer {
  return (head) => {
    const sealed = testSealer([{ time: '2026-01-01T00:00:00.000Z' }])(head);
    const row = sealed.rows[0] as AuditRow;
    return { rows: [{ ...row, seq: row.seq + 1 }], head: { ...sealed.head, size: sealed.head.size + 1 } };
  };
}
