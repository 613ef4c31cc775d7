/**
 * A restore drill's report (issue 5): what the drill restored, each check it ran and how it
 * went, signed on the backup host with the drill key as a C2SP signed note (the format of the
 * audit log's checkpoints and of the backup manifests). Production stores a report only when
 * it verifies with the drill key it was configured with. It holds no personal data: counts,
 * hashes, sizes, times and the checks' plain-word outcomes.
 */
import { z } from 'zod';
import { signNote, type NoteSigner } from '../../audit/index.js';
import { openSignedJson, signedJsonText } from '../signed-json.js';
import { LabkluisError } from '../../kernel/index.js';

export const DRILL_FORMAT = 'labkluis-drill/1';
/** The name the drill key signs under (its verifier key string starts with it). */
export const DRILL_KEY_NAME = 'labkluis-restore-drill';

/** The checks a drill runs, in order. */
export const DRILL_CHECKS = ['chain', 'restore', 'audit', 'history', 'decrypt', 'production'] as const;
export type DrillCheckName = (typeof DRILL_CHECKS)[number];

const CheckSchema = z.object({
  name: z.enum(DRILL_CHECKS),
  ok: z.boolean(),
  /** One line in plain words; never personal data. */
  detail: z.string().max(2000),
}).strict();

const ReportSchema = z.object({
  format: z.literal(DRILL_FORMAT),
  id: z.string().regex(/^[a-z2-7]{26}$/),
  /** The vault's origin (its audit log's name). */
  origin: z.string().min(1).max(200),
  target: z.string().min(1).max(500),
  /** UTC with milliseconds (as toISOString writes it), so that text order is time order. */
  startedAt: z.iso.datetime({ precision: 3 }),
  finishedAt: z.iso.datetime({ precision: 3 }),
  outcome: z.enum(['passed', 'failed']),
  /** The snapshot restored; null when the drill could not get that far. */
  snapshot: z.object({
    sequence: z.number().int().positive(),
    id: z.string().regex(/^[a-z2-7]{26}$/),
    manifest: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: z.iso.datetime(),
  }).strict().nullable(),
  checks: z.array(CheckSchema).max(DRILL_CHECKS.length),
  figures: z.object({
    rows: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    restoreMs: z.number().int().nonnegative(),
    auditEntries: z.number().int().nonnegative(),
    decrypted: z.number().int().nonnegative(),
    /** The production log's size the drill found consistent with the snapshot's (0: not reached). */
    productionSize: z.number().int().nonnegative(),
  }).strict(),
}).strict()
  .refine((r) => r.checks.every((c, i) => c.name === DRILL_CHECKS[i]), { message: 'the checks are the drill\'s, in its order' })
  .refine((r) => r.startedAt <= r.finishedAt, { message: 'a drill finishes after it starts' })
  .refine((r) => (r.outcome === 'passed') === (r.checks.length === DRILL_CHECKS.length && r.checks.every((c) => c.ok)), {
    message: 'a drill passes exactly when every check ran and passed',
  });

export type DrillReport = z.infer<typeof ReportSchema>;
export type DrillCheck = z.infer<typeof CheckSchema>;

export async function signDrillReport(r: DrillReport, signer: NoteSigner): Promise<string> {
  const checked = ReportSchema.safeParse(r);
  if (!checked.success) throw new LabkluisError('ERR_INVALID_INPUT', `drill report: ${checked.error.issues[0]?.message ?? 'malformed'}`);
  return signNote(signedJsonText(checked.data), signer);
}

/**
 * A report note whose signature verifies with the drill key, in canonical form (nothing added
 * or reordered); ERR_INVALID_INPUT for anything else (it comes from outside).
 */
export function openDrillReport(note: string, key: string): DrillReport {
  return openSignedJson(note, key, ReportSchema, {
    code: 'ERR_INVALID_INPUT',
    signature: 'the drill report does not verify with the configured drill key',
    json: 'the drill report is not JSON',
    shape: 'not a labkluis drill report in canonical form',
  }).value;
}

/**
 * The drill's requests to production (its audit checkpoint and consistency proofs) are signed
 * with the drill key too, so only the drill host can ask for them: the log's size and growth
 * stay private, and no one else can make production read its whole log for a proof. The
 * header is `<at> <base64 Ed25519 signature>` over this context, the method, the path with its
 * query, and `at` (an ISO time production accepts within 5 minutes of its clock).
 */
export const DRILL_REQUEST_HEADER = 'x-labkluis-drill-signature';
const REQUEST_CONTEXT = 'labkluis-drill-request\n';

export function drillRequestMessage(method: string, pathAndQuery: string, at: string): Buffer {
  return Buffer.from(`${REQUEST_CONTEXT}${method.toUpperCase()} ${pathAndQuery}\n${at}`, 'utf8');
}

export async function signDrillRequest(signer: NoteSigner, method: string, pathAndQuery: string, at: string): Promise<string> {
  return `${at} ${Buffer.from(await signer.sign(drillRequestMessage(method, pathAndQuery, at))).toString('base64')}`;
}
