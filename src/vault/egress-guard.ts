import type { AccessContext } from './context.js';
import type { FhirType } from './policy.js';

/** What one response is about to hand out, as the vault knows it just before the audit entry. */
export interface Release {
  readonly operation: 'read' | 'vread' | 'search';
  readonly type: FhirType;
  /** Pseudonyms of the patients the response concerns (deduplicated). */
  readonly patients: readonly string[];
  /**
   * For each of `patients`: when its newest record in the response was last changed, or null
   * when the response shows the person only (identity). Old records alone mean a look into the
   * archive rather than at current work.
   */
  readonly lastChanged: readonly (string | null)[];
  /**
   * For each of `patients`: whether every one of its records in the response is work in
   * progress (an open order, a result or report not yet final): a lab's daily batch work.
   */
  readonly inProgress: readonly boolean[];
  /** Resources in the response. */
  readonly records: number;
  /** The response's records as stored (sealed), in bytes: slightly more than their JSON. */
  readonly bytes: number;
  /** What a search asked for (null for a read by id). Weighed in memory, never stored or logged. */
  readonly query: SearchShape | null;
}

/** The shape of a search as the sentinel weighs it. */
export interface SearchShape {
  /** Names no one: no subject, id, identifier or reference; only status, date or code filters. */
  readonly broad: boolean;
  /** Specimen barcodes searched for, to see a walk through a sequence. */
  readonly identifiers: readonly string[];
}

/**
 * Where the sentinel stands in the vault's path (DESIGN.md "Shape": sentinel.before and
 * sentinel.after). The vault calls admit() before a write touches anything for a principal, and
 * release() after a read has fetched and decrypted a response but before the audit entry and
 * before any of it leaves. Either may refuse by throwing; a refusal from release() means
 * nothing of that response is handed out. Reads have no admit(): release() checks containment
 * (as authentication read it with the principal, or in the store call that counts the
 * response), which keeps the read path to at most one call.
 */
export interface EgressGuard {
  admit(ctx: AccessContext): Promise<void>;
  release(ctx: AccessContext, release: Release): Promise<void>;
  /** A read that was refused (not found, forbidden, bad input): many in a row is probing. */
  refused(ctx: AccessContext): void;
}

/** No sentinel: everything passes (tests of the vault alone, tools). */
export const OPEN_GUARD: EgressGuard = Object.freeze({
  admit: async () => {},
  release: async () => {},
  refused: () => {},
});
