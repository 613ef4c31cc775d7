import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof, EMPTY_ROOT, frontierAppend, frontierRoot, inclusionProof, leafHash, merkleRoot,
  nodeHash, verifyConsistency, verifyInclusion, verifySubtreeInclusion,
} from '../../src/audit/index.js';

// CI checks out shared/ beside the repository: <repo>/../shared/testvectors.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectors = path.resolve(repoRoot, '..', 'shared', 'testvectors', 'rfc6962');

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : name.endsWith('.json') ? [p] : [];
  });
}

type Raw = Record<string, unknown>;
/** Reads a vector, keeping integers above 2^53 exact (e.g. leafIdx 2^64-1) as bigint. */
function load(file: string): Raw {
  const text = readFileSync(file, 'utf8').replace(/(:\s*)(\d{16,})(\s*[,}])/g, '$1"$2"$3');
  return JSON.parse(text) as Raw;
}
const int = (v: unknown): bigint => BigInt(v as string | number);
const b64 = (v: unknown): Buffer => Buffer.from((v as string | null) ?? '', 'base64');
const proofOf = (v: unknown): Buffer[] => ((v as string[] | null) ?? []).map(b64);
const rel = (f: string): string => path.relative(vectors, f);

describe('RFC 6962 vectors (transparency-dev/merkle testdata)', () => {
  const inclusion = walk(path.join(vectors, 'inclusion'));
  const consistency = walk(path.join(vectors, 'consistency'));
  const subInclusion = walk(path.join(vectors, 'subtreeinclusion'));

  it('finds the vector folders', () => {
    expect(inclusion.length).toBeGreaterThan(90);
    expect(consistency.length).toBeGreaterThan(90);
    expect(subInclusion.length).toBeGreaterThan(200);
  });

  it.each(inclusion.map((f) => [rel(f), f]))('inclusion %s', (_name, file) => {
    const v = load(file);
    const ok = verifyInclusion(int(v.leafIdx), int(v.treeSize), b64(v.leafHash), proofOf(v.proof), b64(v.root));
    expect(ok).toBe(!v.wantErr);
  });

  it.each(consistency.map((f) => [rel(f), f]))('consistency %s', (_name, file) => {
    const v = load(file);
    const ok = verifyConsistency(int(v.size1), int(v.size2), proofOf(v.proof), b64(v.root1), b64(v.root2));
    expect(ok).toBe(!v.wantErr);
  });

  // Subtree inclusion is a plain RFC 9162 inclusion proof inside an aligned subtree [start, end),
  // so it is small enough to support. Subtree *consistency* (subtreeconsistency/) is another proof
  // kind (Merkle Tree Certificates: a subtree [start, end) contained in a tree of size n, including
  // empty subtrees) that this log never produces or consumes: our checkpoints only need prefix
  // consistency (RFC 9162 §2.1.4). It is deliberately not implemented, so those vectors do not run.
  it.each(subInclusion.map((f) => [rel(f), f]))('subtree inclusion %s', (_name, file) => {
    const v = load(file);
    const ok = verifySubtreeInclusion(
      int(v.leafIdx), int(v.start), int(v.end), b64(v.leafHash), proofOf(v.proof), b64(v.root),
    );
    expect(ok).toBe(!v.wantErr);
  });
});

describe('merkle tree', () => {
  const leaves = Array.from({ length: 300 }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));

  it('hashes leaves and nodes with the RFC 6962 domain prefixes', () => {
    const sha = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(leafHash(Buffer.from('a'))).toEqual(sha(Buffer.from([0x00, 0x61])));
    expect(nodeHash(leaves[0]!, leaves[1]!)).toEqual(sha(Buffer.concat([Buffer.from([1]), leaves[0]!, leaves[1]!])));
    expect(merkleRoot([])).toEqual(EMPTY_ROOT);
    expect(merkleRoot(leaves.slice(0, 1))).toEqual(leaves[0]);
  });

  it('frontier root equals the root of all leaves for sizes 0..300', () => {
    let frontier: Buffer[] = [];
    expect(frontierRoot(frontier, 0)).toEqual(EMPTY_ROOT);
    for (let size = 0; size < leaves.length; size++) {
      frontier = frontierAppend(frontier, size, leaves[size]!);
      expect(frontierRoot(frontier, size + 1)).toEqual(merkleRoot(leaves.slice(0, size + 1)));
    }
  });

  it('refuses a frontier that does not match its size', () => {
    expect(() => frontierAppend([], 1, leaves[0]!)).toThrow(TypeError);
    expect(() => frontierRoot([leaves[0]!], 2 ** 53)).toThrow(TypeError);
  });

  it('generated inclusion proofs verify, and fail for another leaf, index or a flipped bit', () => {
    for (let n = 1; n <= 300; n += n < 40 ? 1 : 13) {
      const tree = leaves.slice(0, n);
      const root = merkleRoot(tree);
      for (let i = 0; i < n; i += n < 40 ? 1 : 7) {
        const proof = inclusionProof(i, tree);
        expect(verifyInclusion(i, n, tree[i]!, proof, root)).toBe(true);
        expect(verifyInclusion(i, n, leaves[299]!, proof, root)).toBe(false);
        if (n > 1) expect(verifyInclusion((i + 1) % n, n, tree[i]!, proof, root)).toBe(false);
        if (proof.length > 0) {
          const bad = proof.map((p) => Buffer.from(p));
          const last = bad[bad.length - 1]!;
          last.writeUInt8(last.readUInt8(0) ^ 1, 0);
          expect(verifyInclusion(i, n, tree[i]!, bad, root)).toBe(false);
        }
      }
    }
  });

  it('generated consistency proofs verify, and fail for a wrong root or a cut proof', () => {
    for (let n = 1; n <= 300; n += n < 40 ? 1 : 11) {
      const tree = leaves.slice(0, n);
      const root2 = merkleRoot(tree);
      for (let m = 1; m <= n; m += n < 40 ? 1 : 5) {
        const root1 = merkleRoot(tree.slice(0, m));
        const proof = consistencyProof(m, tree);
        expect(verifyConsistency(m, n, proof, root1, root2)).toBe(true);
        expect(verifyConsistency(m, n, proof, EMPTY_ROOT, root2)).toBe(false);
        expect(verifyConsistency(m, n, proof, root1, EMPTY_ROOT)).toBe(false);
        if (m < n) expect(verifyConsistency(m, n, proof.slice(1), root1, root2)).toBe(false);
      }
    }
  });

  it('proof generation refuses indices outside the tree', () => {
    expect(() => inclusionProof(3, leaves.slice(0, 3))).toThrow(RangeError);
    expect(() => consistencyProof(0, leaves.slice(0, 3))).toThrow(RangeError);
    expect(() => consistencyProof(4, leaves.slice(0, 3))).toThrow(RangeError);
  });
});
