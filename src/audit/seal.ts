/**
 * The sealer: turns prepared NEN 7513 entries into audit rows at the log's right edge.
 *
 * Each row carries three layers of tamper evidence:
 * - leafHash: RFC 6962 §2.1 leaf hash of the canonical entry, which includes its own seq;
 * - mac: HMAC-SHA256(macKey, prevMac || leafHash || seq as uint64 big-endian), a chain keyed
 *   outside the store (prevMac is 32 zero bytes for seq 0), so an editor with database access
 *   but no key cannot recompute it;
 * - rootAfter: the Merkle root of the tree of size seq+1, which signed checkpoints commit to.
 *
 * Ids and times are drawn when the sealer is created, outside the store's lock, so the sealer
 * itself is a pure function of the head: a store that retries a transaction gets the same rows.
 */
import { createHmac } from 'node:crypto';
import { LabkluisError, type Clock, type Random } from '../kernel/index.js';
import type { AuditHead, AuditRow, AuditSealer } from '../store/types.js';
import { canonicalBytes } from './canonical-json.js';
import { buildEntry, prepareEntry, type AuditDraft, type AuditEntry, type PreparedEntry } from './entry.js';
import { frontierAppend, frontierRoot, leafHash } from './merkle.js';

export const MAC_SIZE = 32;
const ZERO_MAC = Buffer.alloc(MAC_SIZE);

/** Minimum audit MAC key length: the HMAC-SHA256 block-size-independent security level. */
export const MIN_MAC_KEY_BYTES = 32;

export function checkMacKey(macKey: Uint8Array): void {
  if (!(macKey instanceof Uint8Array) || macKey.length < MIN_MAC_KEY_BYTES) {
    throw new TypeError(`audit MAC key must be at least ${MIN_MAC_KEY_BYTES} bytes`);
  }
}

function u64be(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** One link of the MAC chain. prevMac is null for seq 0. */
export function chainMac(macKey: Uint8Array, prevMac: Uint8Array | null, leafHashBytes: Uint8Array, seq: number): Buffer {
  return createHmac('sha256', macKey).update(prevMac ?? ZERO_MAC).update(leafHashBytes).update(u64be(seq)).digest();
}

/** The row columns a store indexes, taken from the entry so they cannot disagree with the leaf. */
export function rowColumns(entry: AuditEntry): Pick<AuditRow, 'seq' | 'time' | 'action' | 'principalId' | 'tenant' | 'patients'> {
  return {
    seq: entry.seq,
    time: entry.time,
    action: entry.action,
    principalId: entry.principal?.id ?? null,
    tenant: entry.tenant,
    patients: entry.patients,
  };
}

function checkHead(head: AuditHead): void {
  const okSize = Number.isSafeInteger(head.size) && head.size >= 0;
  const okMac = head.size === 0 ? head.lastMac === null : head.lastMac?.length === MAC_SIZE;
  if (!okSize || !okMac) throw new LabkluisError('ERR_INTEGRITY', 'audit head is inconsistent');
}

/** A pure sealer over entries that already carry their id and time. */
export function sealPrepared(prepared: readonly PreparedEntry[], macKey: Uint8Array): AuditSealer {
  checkMacKey(macKey);
  const key = Buffer.from(macKey); // a private copy: later changes by the caller do not leak in
  const entries = Object.freeze([...prepared]);
  return (head: AuditHead) => {
    checkHead(head);
    let frontier: Buffer[] = [...head.frontier];
    let prevMac: Buffer | null = head.lastMac;
    let size = head.size;
    const rows: AuditRow[] = [];
    for (const p of entries) {
      const entry = buildEntry(p, size);
      const leaf = canonicalBytes(entry);
      const hash = leafHash(leaf);
      let next: Buffer[];
      try {
        next = frontierAppend(frontier, size, hash);
      } catch (cause) {
        throw new LabkluisError('ERR_INTEGRITY', 'audit head frontier does not match its size', { cause });
      }
      frontier = next;
      const mac = chainMac(key, prevMac, hash, size);
      rows.push(Object.freeze({
        ...rowColumns(entry), leaf, leafHash: hash, mac, rootAfter: frontierRoot(frontier, size + 1),
      }));
      prevMac = mac;
      size += 1;
    }
    return { rows, head: { size, frontier, lastMac: prevMac } };
  };
}

export interface SealerDeps {
  readonly macKey: Uint8Array;
  readonly clock: Clock;
  readonly random: Random;
}

/**
 * Checks and stamps the drafts now (bad drafts throw TypeError here, before any store call)
 * and returns the sealer the store calls with its head locked: seq = head.size + i.
 */
export function createSealer(drafts: readonly AuditDraft[], deps: SealerDeps): AuditSealer {
  checkMacKey(deps.macKey);
  return sealPrepared(drafts.map((d) => prepareEntry(d, deps)), deps.macKey);
}
