/**
 * A JSON document signed as a C2SP note (backup manifests, drill reports): the signed text is
 * the document as canonical JSON on one line, so a note opens only when its signature verifies
 * and its text is exactly the canonical form of what the schema accepts (nothing added or
 * reordered). Each caller names its own error code and words.
 */
import type { z } from 'zod';
import { canonicalJson, openNote, type JsonValue, type VerifierKey } from '../audit/index.js';
import { LabkluisError, type ErrorCode } from '../kernel/index.js';

export function signedJsonText(value: unknown): string {
  return `${canonicalJson(value as JsonValue)}\n`;
}

export interface SignedJsonRefusals {
  readonly code: ErrorCode;
  /** The signature does not verify with the key. */
  readonly signature: string;
  readonly json: string;
  /** Not of the schema, or not in canonical form. */
  readonly shape: string;
}

/** The document and the exact signed text. */
export function openSignedJson<T>(note: string, key: string | VerifierKey, schema: z.ZodType<T>, refuse: SignedJsonRefusals): { value: T; text: string } {
  let text: string;
  try {
    text = openNote(note, key);
  } catch {
    throw new LabkluisError(refuse.code, refuse.signature);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LabkluisError(refuse.code, refuse.json);
  }
  const checked = schema.safeParse(parsed);
  if (!checked.success || signedJsonText(checked.data) !== text) throw new LabkluisError(refuse.code, refuse.shape);
  return { value: checked.data, text };
}
