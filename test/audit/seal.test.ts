import { describe, expect, it } from 'vitest';
import {
  canonicalBytes, chainMac, checkDraft, createSealer, frontierRoot, leafHash, merkleRoot, parseCanonical,
} from '../../src/audit/index.js';
import { ManualClock, isLabkluisError } from '../../src/kernel/index.js';
import type { AuditHead } from '../../src/store/types.js';
import { countingRandom, draft, MAC_KEY } from './fixtures.js';

const EMPTY: AuditHead = { size: 0, frontier: [], lastMac: null };
const deps = () => ({ macKey: MAC_KEY, clock: new ManualClock('2026-03-01T10:00:00Z'), random: countingRandom() });

describe('audit draft', () => {
  it('keeps exactly the NEN 7513 fields and drops foreign ones', () => {
    const d = { ...draft(), name: 'Jansen' } as unknown as Parameters<typeof checkDraft>[0];
    expect(Object.keys(checkDraft(d)).sort()).toEqual([
      'accessPoint', 'actingFor', 'action', 'emergency', 'errorCode', 'objects', 'operation', 'outcome', 'patients',
      'principal', 'purposeOfUse', 'tenant',
    ]);
  });

  it.each([
    ['a BSN as a patient', { patients: ['111222333'] }],
    ['a name as a patient', { patients: ['Jan Jansen'] }],
    ['a BSN in a query', { objects: [{ type: 'Patient', query: { identifier: ['123456782'] } }] }],
    ['an unknown action', { action: 'X' }],
    ['an unknown purpose', { purposeOfUse: 'SNOOP' }],
    ['emergency without ETREAT', { emergency: true }],
    ['ETREAT without emergency', { purposeOfUse: 'ETREAT' }],
    ['a failure without a code', { outcome: 'failed' }],
    ['a success with a code', { errorCode: 'ERR_FORBIDDEN' }],
  ])('refuses %s', (_name, override) => {
    expect(() => checkDraft(draft(override as never))).toThrow(TypeError);
  });

  it('accepts break-glass and refusals without a principal', () => {
    expect(checkDraft(draft({ purposeOfUse: 'ETREAT', emergency: true })).emergency).toBe(true);
    expect(checkDraft(draft({ principal: null, operation: 'token-refused', outcome: 'denied', errorCode: 'ERR_UNAUTHENTICATED', patients: [], objects: [] })).principal).toBeNull();
  });
});

describe('createSealer', () => {
  it('is deterministic: same drafts, clock, random and head give identical rows', () => {
    const drafts = [draft(), draft({ action: 'C', operation: 'create' })];
    const a = createSealer(drafts, deps())(EMPTY);
    const b = createSealer(drafts, deps())(EMPTY);
    expect(a).toEqual(b);
    // And the sealer itself is pure: calling it twice (a store retrying) gives the same rows.
    const sealer = createSealer(drafts, deps());
    expect(sealer(EMPTY)).toEqual(sealer(EMPTY));
  });

  it('assigns seq from the head, hashes the canonical leaf, chains the MAC and tracks the root', () => {
    const first = createSealer([draft(), draft(), draft()], deps())(EMPTY);
    const second = createSealer([draft({ action: 'U', operation: 'update' })], deps())(first.head);
    const rows = [...first.rows, ...second.rows];
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(second.head.size).toBe(4);
    rows.forEach((row, i) => {
      const entry = parseCanonical(row.leaf) as Record<string, unknown>;
      expect(entry.seq).toBe(i);
      expect(entry.v).toBe(1);
      expect(canonicalBytes(entry)).toEqual(row.leaf);
      expect(row.leafHash).toEqual(leafHash(row.leaf));
      expect(row.mac).toEqual(chainMac(MAC_KEY, i === 0 ? null : rows[i - 1]!.mac, row.leafHash, i));
      expect(row.rootAfter).toEqual(merkleRoot(rows.slice(0, i + 1).map((r) => r.leafHash)));
      expect(row.principalId).toBe('p-analyst-07');
      expect(row.time).toBe('2026-03-01T10:00:00.000Z');
    });
    expect(frontierRoot(second.head.frontier, 4)).toEqual(rows[3]!.rootAfter);
    expect(second.head.lastMac).toEqual(rows[3]!.mac);
    // seq 0 chains from 32 zero bytes.
    expect(rows[0]!.mac).toEqual(chainMac(MAC_KEY, Buffer.alloc(32), rows[0]!.leafHash, 0));
  });

  it('refuses a short MAC key and an inconsistent head', () => {
    expect(() => createSealer([draft()], { ...deps(), macKey: Buffer.alloc(16) })).toThrow(TypeError);
    const sealer = createSealer([draft()], deps());
    for (const head of [{ size: 1, frontier: [], lastMac: Buffer.alloc(32) }, { size: 1, frontier: [Buffer.alloc(32)], lastMac: null }]) {
      let err: unknown;
      try { sealer(head); } catch (e) { err = e; }
      expect(isLabkluisError(err, 'ERR_INTEGRITY')).toBe(true);
    }
  });
});
