/**
 * Test set-up for people: a current training record and a current recertification written
 * straight into the store (as an admin's actions would leave them), so tests of other things
 * start from a person whose access hygiene is in order.
 */
import type { PrincipalRow, Store } from '../../src/store/index.js';

export async function clearForAccess(store: Store, principal: PrincipalRow, now = new Date()): Promise<void> {
  const at = now.toISOString();
  const later = new Date(now.getTime() + 30 * 86_400_000).toISOString();
  await store.safeguards.recordTraining({ principalId: principal.id, completedAt: at, expiresAt: later, recordedBy: 'test-admin', recordedAt: at });
  await store.safeguards.recordRecertification({ principalId: principal.id, role: principal.role, tenants: [...principal.tenants], certifiedBy: 'test-admin', certifiedAt: at, expiresAt: later });
}
