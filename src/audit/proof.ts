/**
 * Proofs for one entry, for a patient access report or an external auditor: an RFC 6962
 * §2.1.1 inclusion proof that entry `seq` is in the tree of `size`, checkable with
 * verifyInclusion against the root of a signed checkpoint of that size, and an RFC 6962
 * §2.1.2 consistency proof between two checkpoint sizes.
 *
 * The proofs are built from the stored leaf hashes, read page by page (O(size) reads). That is
 * fine for occasional requests; a busy log would keep tiles of interior hashes instead.
 */
import { LabkluisError } from '../kernel/index.js';
import type { Store } from '../store/types.js';
import { consistencyProof, inclusionProof } from './merkle.js';

const PAGE = 1000;

async function leafHashes(store: Store, size: number): Promise<Buffer[]> {
  const hashes: Buffer[] = [];
  while (hashes.length < size) {
    const page = await store.readAudit(hashes.length, Math.min(PAGE, size - hashes.length));
    for (const row of page) {
      // A gap would silently shift every later leaf: refuse it (verifyAuditLog names it).
      if (row.seq !== hashes.length) throw new LabkluisError('ERR_INTEGRITY', 'audit log has a gap');
      hashes.push(row.leafHash);
    }
    if (page.length === 0) throw new LabkluisError('ERR_NOT_FOUND', 'the audit log is smaller than the requested size');
  }
  return hashes;
}

function checkSizes(first: number, second: number): void {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first >= second) {
    throw new TypeError('need 0 <= first < second');
  }
}

/** The audit path for entry `seq` in the tree of `size` (bottom first). */
export async function inclusionProofFor(store: Store, seq: number, size: number): Promise<Buffer[]> {
  checkSizes(seq, size);
  return inclusionProof(seq, await leafHashes(store, size));
}

/** The consistency proof that the tree of size1 is a prefix of the tree of size2 (0 < size1 <= size2). */
export async function consistencyProofFor(store: Store, size1: number, size2: number): Promise<Buffer[]> {
  if (size1 === size2 && Number.isSafeInteger(size1) && size1 > 0) return [];
  checkSizes(size1, size2);
  if (size1 === 0) throw new TypeError('a consistency proof needs size1 > 0');
  return consistencyProof(size1, await leafHashes(store, size2));
}
