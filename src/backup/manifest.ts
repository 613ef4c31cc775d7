/**
 * A snapshot's manifest (issue 5): what the snapshot is made of and what it vouches for, signed
 * by the server's backup key as a C2SP signed note (the format of the audit log's checkpoints),
 * and chained to the manifest before it by that one's hash, so a deleted, replaced or reordered
 * snapshot shows as a break in the chain.
 *
 * The manifest is readable without the offline decryption key: it names every object by the
 * SHA-256 of its stored (encrypted) bytes, so `backup verify` checks every object and every
 * signature without decrypting anything. Objects are packs of chunks (packer.ts); the manifest
 * says where in which pack each chunk of the snapshot lies. It holds no personal data: object
 * hashes and sizes, keyed MACs of chunk contents (for deduplication; opaque without the
 * backup's MAC key) and their places, row counts per table and the audit log's checkpoint.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { signNote, type NoteSigner, type VerifierKey } from '../audit/index.js';
import { LabkluisError } from '../kernel/index.js';
import { openSignedJson, signedJsonText } from './signed-json.js';

/** /2: objects are packs of chunks (/1, one chunk per object, was written before session 8 only). */
export const MANIFEST_FORMAT = 'labkluis-backup/2';

const HEX64 = /^[0-9a-f]{64}$/;

const ObjectSchema = z.object({
  /** SHA-256 (hex) of the object's stored bytes: its name at every target. */
  id: z.string().regex(HEX64),
  size: z.number().int().nonnegative(),
}).strict();

const ChunkSchema = z.object({
  /** HMAC-SHA256 (hex) of the chunk's plaintext under the backup's MAC key: the same chunk, the same MAC. */
  mac: z.string().regex(HEX64),
  /** The pack (an object id) holding it, and where in the pack's plaintext. */
  object: z.string().regex(HEX64),
  offset: z.number().int().nonnegative(),
  length: z.number().int().positive(),
}).strict();

const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  snapshot: z.string().regex(/^[a-z2-7]{26}$/),
  /** 1 for a chain's first snapshot, then one more each time. */
  sequence: z.number().int().positive(),
  /** The hash (manifestHash) of the manifest before it; null for the first. */
  previous: z.string().regex(HEX64).nullable(),
  createdAt: z.iso.datetime(),
  backend: z.enum(['sqlite', 'postgres']),
  /** The age recipients every object is encrypted to (public keys). */
  recipients: z.array(z.string().min(1)).min(1),
  /** The object holding the snapshot's table of contents (which chunks make which table), encrypted like the rest. */
  index: z.string().regex(HEX64),
  objects: z.array(ObjectSchema),
  /** Every chunk the snapshot's tables are made of, once each, by MAC. */
  chunks: z.array(ChunkSchema),
  /** The audit log as the snapshot holds it: its size and Merkle root (hex), as its checkpoint signs them. */
  audit: z.object({ size: z.number().int().nonnegative(), root: z.string().regex(HEX64) }).strict(),
  /** Rows per table in the snapshot. */
  counts: z.record(z.string(), z.number().int().nonnegative()),
}).strict().refine((m) => {
  // Every chunk in an object the manifest lists, and so is the index: what verify checks is all a restore reads.
  const ids = new Set(m.objects.map((o) => o.id));
  return ids.has(m.index) && m.chunks.every((c) => ids.has(c.object));
}, { message: 'a chunk or the index lies in an object the manifest does not list' });

export type ManifestObject = z.infer<typeof ObjectSchema>;
export type ManifestChunk = z.infer<typeof ChunkSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;

/** A manifest whose signature checked, with its hash (what the next manifest names as previous). */
export interface OpenedManifest {
  readonly manifest: Manifest;
  readonly hash: string;
}

/** The signed text: the manifest as canonical JSON on one line. */
export function manifestText(m: Manifest): string {
  return signedJsonText(ManifestSchema.parse(m));
}

/** SHA-256 (hex) of the manifest's signed text. */
export function manifestHash(m: Manifest): string {
  return createHash('sha256').update(manifestText(m), 'utf8').digest('hex');
}

/** Checks the manifest's shape and signs it; returns the note as stored at the targets. */
export async function signManifest(m: Manifest, signer: NoteSigner): Promise<string> {
  const problem = ManifestSchema.safeParse(m);
  if (!problem.success) throw new LabkluisError('ERR_INVALID_INPUT', `backup manifest: ${problem.error.issues[0]?.message ?? 'malformed'}`);
  return signNote(manifestText(problem.data), signer);
}

/**
 * Checks a stored manifest note's signature against the backup key and its shape; the text
 * must be exactly the canonical form of what it says (nothing added or reordered).
 */
export function openManifest(note: string, key: string | VerifierKey): OpenedManifest {
  const { value, text } = openSignedJson(note, key, ManifestSchema, {
    code: 'ERR_INTEGRITY',
    signature: 'backup manifest: signature does not verify with the backup key',
    json: 'backup manifest: signed text is not JSON',
    shape: 'backup manifest: not a labkluis manifest in canonical form',
  });
  return { manifest: value, hash: createHash('sha256').update(text, 'utf8').digest('hex') };
}

/** What is wrong with a chain of manifests, in plain words, each naming the snapshot. */
export interface ChainProblem {
  readonly snapshot: string;
  readonly sequence: number;
  readonly problem: string;
}

/**
 * Checks that opened manifests form one chain: sequences 1, 2, 3, … without a gap or a
 * repeat, each naming the one before by its hash. `newest`, when known from elsewhere (the
 * production server's record, a drill report), catches a chain cut back at its end.
 */
export function checkChain(opened: readonly OpenedManifest[], newest?: { sequence: number; hash: string }): ChainProblem[] {
  const problems: ChainProblem[] = [];
  const sorted = [...opened].sort((a, b) => a.manifest.sequence - b.manifest.sequence);
  sorted.forEach((o, i) => {
    const m = o.manifest;
    const before = sorted[i - 1];
    const say = (problem: string) => problems.push({ snapshot: m.snapshot, sequence: m.sequence, problem });
    if (before === undefined) {
      if (m.sequence !== 1 && m.previous === null) say('claims to start a chain but is not sequence 1');
      return;
    }
    if (m.sequence === before.manifest.sequence) say(`a second manifest with sequence ${m.sequence}`);
    else if (m.sequence !== before.manifest.sequence + 1) say(`manifests ${before.manifest.sequence + 1}..${m.sequence - 1} are missing`);
    else if (m.previous !== before.hash) say(`does not follow manifest ${before.manifest.sequence} (its previous hash differs)`);
  });
  if (sorted.length > 0 && sorted[0]!.manifest.sequence !== 1) {
    const first = sorted[0]!.manifest;
    problems.push({ snapshot: first.snapshot, sequence: first.sequence, problem: `manifests 1..${first.sequence - 1} are missing` });
  }
  if (newest !== undefined) {
    const last = sorted[sorted.length - 1];
    if (last === undefined || last.manifest.sequence < newest.sequence) {
      problems.push({ snapshot: last?.manifest.snapshot ?? '-', sequence: last?.manifest.sequence ?? 0, problem: `the chain ends before manifest ${newest.sequence}, the newest known: rolled back` });
    } else {
      const at = sorted.find((o) => o.manifest.sequence === newest.sequence);
      if (at !== undefined && at.hash !== newest.hash) problems.push({ snapshot: at.manifest.snapshot, sequence: newest.sequence, problem: 'is not the manifest the newest known record names' });
    }
  }
  return problems;
}
