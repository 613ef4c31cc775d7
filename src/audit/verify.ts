/**
 * Verifies an audit log from its rows and signed checkpoints, recomputing everything: seq
 * continuity, canonical leaves, RFC 6962 leaf hashes, the HMAC chain, every rootAfter (through
 * the compact range, RFC 6962 §2.1) and each checkpoint's Ed25519 signature and root.
 * It stops at the FIRST bad entry and names it:
 * - with the MAC key, an edited entry is pinpointed even when the editor recomputed the hashes
 *   and roots, because the chain is keyed outside the store;
 * - without it, such an edit shows only as a signed checkpoint whose root no longer matches,
 *   and the verifier names the first entry after the previous good checkpoint and the range.
 * Deletion and truncation show as a gap in seq, or as a checkpoint larger than the log.
 */
import type { AuditRow, CheckpointRow, Store } from '../store/types.js';
import { parseCanonical } from './canonical-json.js';
import { openCheckpoint, parseVerifierKey, type VerifierKey } from './checkpoint.js';
import { EMPTY_ROOT, frontierAppend, frontierRoot, leafHash } from './merkle.js';
import { chainMac, checkMacKey } from './seal.js';

export interface VerifyOptions {
  /** The audit MAC key; null verifies hashes and checkpoints only (e.g. an external auditor). */
  readonly macKey: Uint8Array | null;
  readonly verifierKey: string;
  readonly origin: string;
}

export type VerifyResult =
  | { readonly ok: true; readonly size: number; readonly root: Buffer; readonly checkpoints: number; readonly lastCheckpointSize: number }
  | { readonly ok: false; readonly seq: number; readonly reason: string };

interface CheckedCheckpoint { readonly size: number; readonly root: Buffer | null } // root null: bad note

function checkCheckpoints(rows: readonly CheckpointRow[], key: VerifierKey, origin: string): CheckedCheckpoint[] {
  return rows.map((row) => {
    try {
      const cp = openCheckpoint(row.note, key, origin);
      // The stored columns must say what the signed note says.
      const good = cp.size === row.size && cp.root.equals(row.root);
      return { size: row.size, root: good ? cp.root : null };
    } catch {
      return { size: row.size, root: null };
    }
  }).sort((a, b) => a.size - b.size);
}

const sameStrings = (a: unknown, b: readonly string[]): boolean =>
  Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);

/** Why a row's leaf or columns are wrong, or null when they agree. */
function leafProblem(row: AuditRow): string | null {
  let entry: Record<string, unknown>;
  try {
    const v = parseCanonical(row.leaf);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'leaf is not an entry object';
    entry = v as Record<string, unknown>;
  } catch {
    return 'leaf is not canonical JSON';
  }
  if (entry.v !== 1) return 'leaf has an unknown entry version';
  if (entry.seq !== row.seq) return `leaf says seq ${String(entry.seq)}, row says ${row.seq}`;
  const principal = entry.principal as { id?: unknown } | null;
  const columnsAgree = entry.time === row.time && entry.action === row.action && entry.tenant === row.tenant
    && (principal === null ? row.principalId === null : principal?.id === row.principalId)
    && sameStrings(entry.patients, row.patients);
  return columnsAgree ? null : 'row columns (time, action, principal, tenant, patients) differ from the leaf';
}

export async function verifyAuditRows(
  pages: AsyncIterable<readonly AuditRow[]> | Iterable<readonly AuditRow[]>,
  checkpointRows: readonly CheckpointRow[],
  options: VerifyOptions,
  onProgress?: (verifiedSize: number) => void,
): Promise<VerifyResult> {
  if (options.macKey !== null) checkMacKey(options.macKey);
  const key = parseVerifierKey(options.verifierKey); // a bad key is configuration, not tampering
  const checkpoints = checkCheckpoints(checkpointRows, key, options.origin);
  let next = 0; // index into checkpoints, sorted by size
  let anchored = 0; // size of the last good checkpoint
  let goodCheckpoints = 0;
  const fail = (seq: number, reason: string): VerifyResult => ({ ok: false, seq, reason });

  // Checks every checkpoint of this size against the root we recomputed.
  const atSize = (size: number, root: Buffer): VerifyResult | null => {
    for (; next < checkpoints.length && checkpoints[next]!.size === size; next++) {
      const cp = checkpoints[next]!;
      const range = `entries ${anchored}..${size - 1} are not proven`;
      if (cp.root === null) return fail(anchored, `checkpoint at size ${size} has no valid signature for this log; ${range}`);
      if (!cp.root.equals(root)) {
        return fail(anchored, `root at size ${size} differs from its signed checkpoint: an entry in ${anchored}..${size - 1} was changed`);
      }
      anchored = size;
      goodCheckpoints += 1;
    }
    return null;
  };

  let size = 0;
  let frontier: Buffer[] = [];
  let root = EMPTY_ROOT;
  let prevMac: Buffer | null = null;
  const early = atSize(0, EMPTY_ROOT);
  if (early) return early;

  for await (const page of pages) {
    for (const row of page) {
      if (row.seq > size) return fail(size, `entry ${size} is missing (next row is seq ${row.seq}): deleted or reordered`);
      if (row.seq < size) return fail(size, `seq ${row.seq} appears again at position ${size}: inserted or reordered`);
      const problem = leafProblem(row);
      if (problem) return fail(size, problem);
      const hash = leafHash(row.leaf);
      if (!hash.equals(row.leafHash)) return fail(size, 'leafHash does not match the leaf');
      if (options.macKey !== null) {
        if (!chainMac(options.macKey, prevMac, hash, size).equals(row.mac)) return fail(size, 'MAC chain breaks: entry altered');
      }
      frontier = frontierAppend(frontier, size, hash);
      root = frontierRoot(frontier, size + 1);
      if (!root.equals(row.rootAfter)) return fail(size, 'rootAfter differs from the recomputed Merkle root');
      prevMac = row.mac;
      size += 1;
      const bad = atSize(size, root);
      if (bad) return bad;
    }
    onProgress?.(size);
  }
  // Anything left is a signed checkpoint beyond the end of the log (or one whose size no row reached).
  const beyond = checkpoints[next];
  if (beyond) {
    return fail(size, `log truncated: checkpoint at size ${beyond.size} but the log ends at ${size}`);
  }
  return { ok: true, size, root, checkpoints: goodCheckpoints, lastCheckpointSize: anchored };
}

async function* readPages(store: Store, pageSize: number): AsyncGenerator<readonly AuditRow[]> {
  for (let from = 0; ;) {
    const page = await store.readAudit(from, pageSize);
    if (page.length > 0) yield page;
    const last = page[page.length - 1];
    if (page.length < pageSize || last === undefined || last.seq + 1 <= from) return;
    from = last.seq + 1;
  }
}

export interface VerifyAuditLogOptions extends VerifyOptions {
  readonly store: Store;
  readonly pageSize?: number;
  readonly onProgress?: (verifiedSize: number) => void;
}

/** Pages through the store's log, verifies it, then checks the head the next append will use. */
export async function verifyAuditLog(options: VerifyAuditLogOptions): Promise<VerifyResult> {
  const { store, pageSize = 1000, onProgress } = options;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new TypeError('pageSize must be a positive integer');
  const checkpoints = await store.listCheckpoints();
  const result = await verifyAuditRows(readPages(store, pageSize), checkpoints, options, onProgress);
  if (!result.ok) return result;
  const head = await store.auditHead();
  if (head.size > result.size) return { ok: false, seq: result.size, reason: `log truncated: head says size ${head.size}, rows end at ${result.size}` };
  if (head.size < result.size) return { ok: false, seq: head.size, reason: `head says size ${head.size} but rows continue to ${result.size}` };
  const headRoot = (() => { try { return frontierRoot(head.frontier, head.size); } catch { return null; } })();
  const [lastRow] = result.size > 0 ? await store.readAudit(result.size - 1, 1) : [];
  const macAgrees = lastRow === undefined ? head.lastMac === null : head.lastMac?.equals(lastRow.mac) === true;
  if (headRoot === null || !headRoot.equals(result.root) || !macAgrees) {
    return { ok: false, seq: result.size, reason: 'the log head does not match the rows: the next append would break the tree' };
  }
  return result;
}
