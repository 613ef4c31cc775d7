/**
 * Releases of one principal that arrive while its previous release statement runs are merged
 * into the next statement: a group commit for the sentinel's counts, as the audit log groups its
 * appends. Without it, concurrent responses to one principal (a system fetching in parallel, a
 * bulk read) each run the statement and queue on the same minute and hour bucket rows; with it
 * they share one statement, one bucket update and one commit.
 *
 * A batch holds releases of one principal, role and tenant whose times fall in one UTC minute
 * (counts are kept per minute: recording them all at the latest of their times moves no patient
 * into another bucket or window, nor into another day). Its patients are the union, its
 * records and bytes the sums. Every caller gets the batch's outcome: its containment, its
 * totals under the caller's own window starts (they include the other releases of the batch,
 * which the contract allows: a total never counts less than the release itself), and of its
 * canaries those among the caller's own patients. Each release is checked on its own before it
 * joins a batch, so a malformed one fails alone; a failing statement fails every caller of its
 * batch, as each would have failed on its own.
 */
import { planRelease } from '../sentinel-rows.js';
import type { ReleaseOutcome, ReleaseRow } from '../sentinel-types.js';

type Run = (release: ReleaseRow, windows: readonly string[]) => Promise<ReleaseOutcome>;

interface Waiting {
  readonly release: ReleaseRow;
  readonly windows: readonly string[];
  readonly minute: string;
  readonly resolve: (outcome: ReleaseOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** At most this many releases in one statement (its pseudonym array stays small). */
const MAX_BATCH = 64;

export class ReleaseBatches {
  readonly #run: Run;
  /** Per principal, role, tenant and number of windows: the releases waiting for the running one. */
  readonly #lanes = new Map<string, Waiting[]>();

  constructor(run: Run) {
    this.#run = run;
  }

  record(release: ReleaseRow, windows: readonly string[]): Promise<ReleaseOutcome> {
    // Checked here, alone: a malformed release must not fail the others of its batch.
    planRelease(release, windows);
    const key = `${release.principalId}\u0000${release.role}\u0000${release.tenant}\u0000${windows.length}`;
    return new Promise<ReleaseOutcome>((resolve, reject) => {
      const waiting: Waiting = { release, windows, minute: release.at.slice(0, 16), resolve, reject };
      const lane = this.#lanes.get(key);
      if (lane) {
        lane.push(waiting);
        return;
      }
      this.#lanes.set(key, [waiting]);
      void this.#drain(key);
    });
  }

  /** Runs the lane's batches one after another until no release waits; then the lane ends. */
  async #drain(key: string): Promise<void> {
    const lane = this.#lanes.get(key)!;
    while (lane.length > 0) {
      const minute = lane[0]!.minute;
      const batch: Waiting[] = [];
      for (let i = 0; i < lane.length && batch.length < MAX_BATCH;) {
        if (lane[i]!.minute === minute) batch.push(...lane.splice(i, 1));
        else i += 1;
      }
      try {
        const outcome = await this.#run(...merged(batch));
        for (const w of batch) w.resolve(forCaller(outcome, w));
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
    this.#lanes.delete(key);
  }
}

/**
 * One release for the batch: the union of patients, the sums, the latest time, and per window
 * the earliest start (so no caller's window counts less than its own would).
 */
function merged(batch: readonly Waiting[]): [ReleaseRow, readonly string[]] {
  if (batch.length === 1) return [batch[0]!.release, batch[0]!.windows];
  let latest = batch[0]!.release;
  let records = 0;
  let bytes = 0;
  const pseudonyms = new Set<string>();
  const windows = [...batch[0]!.windows];
  for (const w of batch) {
    if (w.release.at > latest.at) latest = w.release;
    records += w.release.records;
    bytes += w.release.bytes;
    for (const p of w.release.pseudonyms) pseudonyms.add(p);
    w.windows.forEach((since, i) => {
      if (since < windows[i]!) windows[i] = since;
    });
  }
  return [{ ...latest, pseudonyms: [...pseudonyms], records, bytes }, windows];
}

function forCaller(outcome: ReleaseOutcome, w: Waiting): ReleaseOutcome {
  const canaries = new Set(outcome.canaries);
  return {
    containment: outcome.containment,
    canaries: [...new Set(w.release.pseudonyms.filter((p) => canaries.has(p)))],
    totals: outcome.totals.map((t, i) => ({ ...t, since: w.windows[i]! })),
    lease: null, // releases with a lease are never merged
  };
}
