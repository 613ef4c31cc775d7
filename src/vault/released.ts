import type { Store } from '../store/index.js';
import { RELEASED_REPORT_STATUSES } from './policy.js';
import type { RecordCodec } from './records.js';

/**
 * Whether a result is part of a report that a validator authorised (the current version is
 * final or amended). Requesters see a result only then; nobody changes it then without
 * reopening the report first. Looked up through the report's blind-indexed 'result' token.
 */
export async function inAuthorisedReport(store: Store, codec: RecordCodec, tenant: string, observationId: string): Promise<boolean> {
  const token = await codec.token(tenant, 'result', undefined, `Observation/${observationId}`);
  const rows = await store.searchResources({ tenant, type: 'DiagnosticReport', tokens: [[token]], statuses: RELEASED_REPORT_STATUSES, limit: 1 });
  return rows.length > 0;
}
