import type { AccessContext } from './context.js';
import type { FhirType } from './policy.js';

/** What one response is about to hand out, as the vault knows it just before the audit entry. */
export interface Release {
  readonly operation: 'read' | 'vread' | 'search';
  readonly type: FhirType;
  /** Pseudonyms of the patients the response concerns (deduplicated). */
  readonly patients: readonly string[];
  /** Resources in the response. */
  readonly records: number;
  /** The response's resources as JSON, in bytes. */
  readonly bytes: number;
}

/**
 * Where the sentinel stands in the vault's path (DESIGN.md "Shape": sentinel.before and
 * sentinel.after). The vault calls admit() before it touches anything for a principal, and
 * release() after it has fetched and decrypted a response but before the audit entry and before
 * any of it leaves. Either may refuse by throwing; a refusal from release() means nothing of
 * that response is handed out.
 */
export interface EgressGuard {
  admit(ctx: AccessContext): Promise<void>;
  release(ctx: AccessContext, release: Release): Promise<void>;
}

/** No sentinel: everything passes (tests of the vault alone, tools). */
export const OPEN_GUARD: EgressGuard = Object.freeze({
  admit: async () => {},
  release: async () => {},
});
