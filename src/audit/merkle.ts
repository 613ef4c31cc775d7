/**
 * RFC 6962 Merkle tree hashing (§2.1), proof generation (§2.1.1 PATH, §2.1.2 PROOF) and
 * verification (RFC 9162 §2.1.3.2 inclusion, §2.1.4.2 consistency), plus the compact range
 * ("frontier") that lets the sealer extend the tree from its right edge without reading it.
 *
 * Generation works on arrays of leaf hashes with safe-integer sizes. Verification takes
 * sizes as number or bigint and does its bit arithmetic in bigint, so a hostile 2^64-1
 * index is rejected rather than wrapped by 32-bit operators.
 */
import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256() (RFC 6962 §2.1). */
export const EMPTY_ROOT: Buffer = sha256();

/** MTH({d}) = SHA-256(0x00 || d) (RFC 6962 §2.1). */
export function leafHash(data: Uint8Array): Buffer {
  return sha256(LEAF_PREFIX, data);
}

/** Interior node: SHA-256(0x01 || left || right) (RFC 6962 §2.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(NODE_PREFIX, left, right);
}

/** Largest power of two strictly below n (n > 1): the split point k of RFC 6962 §2.1. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function mth(leaves: readonly Buffer[], lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[lo]!;
  const k = splitPoint(n);
  return nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}

/** The Merkle Tree Hash of a list of leaf hashes (RFC 6962 §2.1). */
export function merkleRoot(leafHashes: readonly Buffer[]): Buffer {
  return mth(leafHashes, 0, leafHashes.length);
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

function checkSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new TypeError(`${what} must be a non-negative safe integer`);
}

/**
 * Appends one leaf hash to a compact range of [0, size): the roots of the perfect subtrees
 * for each set bit of size, largest (leftmost) first. Returns a new array.
 */
export function frontierAppend(frontier: readonly Buffer[], size: number, leaf: Buffer): Buffer[] {
  checkSize(size, 'size');
  if (frontier.length !== popcount(size)) throw new TypeError('frontier does not match size');
  const next = [...frontier];
  let h = leaf;
  // Each trailing one bit of size is a perfect subtree of the same height as h: merge them.
  for (let s = size; s % 2 === 1; s = Math.floor(s / 2)) h = nodeHash(next.pop()!, h);
  next.push(h);
  return next;
}

/** The root of the tree a compact range stands for: fold right to left (RFC 6962 §2.1). */
export function frontierRoot(frontier: readonly Buffer[], size: number): Buffer {
  checkSize(size, 'size');
  if (frontier.length !== popcount(size)) throw new TypeError('frontier does not match size');
  if (frontier.length === 0) return EMPTY_ROOT;
  let r = frontier[frontier.length - 1]!;
  for (let i = frontier.length - 2; i >= 0; i--) r = nodeHash(frontier[i]!, r);
  return r;
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path for leaf `index`, bottom first. */
export function inclusionProof(index: number, leafHashes: readonly Buffer[]): Buffer[] {
  checkSize(index, 'index');
  if (index >= leafHashes.length) throw new RangeError('index outside the tree');
  const path = (m: number, lo: number, hi: number): Buffer[] => {
    const n = hi - lo;
    if (n <= 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...path(m, lo, lo + k), mth(leafHashes, lo + k, hi)]
      : [...path(m - k, lo + k, hi), mth(leafHashes, lo, lo + k)];
  };
  return path(index, 0, leafHashes.length);
}

/** PROOF(m, D[n]) of RFC 6962 §2.1.2 for 0 < m <= n = leafHashes.length. */
export function consistencyProof(size1: number, leafHashes: readonly Buffer[]): Buffer[] {
  checkSize(size1, 'size1');
  if (size1 === 0 || size1 > leafHashes.length) throw new RangeError('size1 must be in (0, n]');
  const subproof = (m: number, lo: number, hi: number, whole: boolean): Buffer[] => {
    const n = hi - lo;
    if (m === n) return whole ? [] : [mth(leafHashes, lo, hi)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, lo, lo + k, whole), mth(leafHashes, lo + k, hi)]
      : [...subproof(m - k, lo + k, hi, false), mth(leafHashes, lo, lo + k)];
  };
  return subproof(size1, 0, leafHashes.length, true);
}

function toBig(n: number | bigint): bigint | null {
  if (typeof n === 'bigint') return n >= 0n ? n : null;
  return Number.isSafeInteger(n) && n >= 0 ? BigInt(n) : null;
}

const isHash = (b: Uint8Array): boolean => b.length === HASH_SIZE;
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  index: number | bigint, size: number | bigint, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array,
): boolean {
  const idx = toBig(index);
  const sz = toBig(size);
  if (idx === null || sz === null || idx >= sz) return false; // step 1
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
  let fn = idx; // step 2
  let sn = sz - 1n;
  let r: Uint8Array = leaf; // step 3
  for (const p of proof) { // step 4
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && same(r, root); // step 5
}

/**
 * RFC 9162 §2.1.4.2: is the tree of size1/root1 a prefix of the tree of size2/root2?
 * Equal sizes need an empty proof and equal roots. A proof from the empty tree proves nothing
 * and is refused (the algorithm requires 0 < first).
 */
export function verifyConsistency(
  size1: number | bigint, size2: number | bigint, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array,
): boolean {
  const s1 = toBig(size1);
  const s2 = toBig(size2);
  if (s1 === null || s2 === null || s1 > s2 || s1 === 0n) return false;
  if (s1 === s2) return proof.length === 0 && same(root1, root2);
  if (proof.length === 0 || !proof.every(isHash) || !isHash(root1) || !isHash(root2)) return false; // step 1
  // Step 2: a power-of-two first tree is itself a node of the second; its root starts the path.
  const path = (s1 & (s1 - 1n)) === 0n ? [root1, ...proof] : [...proof];
  let fn = s1 - 1n; // step 3
  let sn = s2 - 1n;
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; } // step 4
  let fr: Uint8Array = path[0]!; // step 5
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) { // step 6
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return same(fr, root1) && same(sr, root2) && sn === 0n; // step 7
}

/**
 * Inclusion of a leaf in the subtree [start, end) of a larger tree, as used by tlog tiles and
 * Merkle Tree Certificates: the subtree must be aligned (start a multiple of the smallest power
 * of two >= end - start), and the proof is then an ordinary RFC 9162 §2.1.3.2 proof within it.
 */
export function verifySubtreeInclusion(
  index: number | bigint, start: number | bigint, end: number | bigint,
  leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array,
): boolean {
  const i = toBig(index);
  const s = toBig(start);
  const e = toBig(end);
  if (i === null || s === null || e === null || s >= e || i < s || i >= e) return false;
  let width = 1n;
  while (width < e - s) width <<= 1n;
  if (s % width !== 0n) return false;
  return verifyInclusion(i - s, e - s, leaf, proof, root);
}
