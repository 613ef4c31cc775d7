import { userInfo } from 'node:os';
import type { AuditDraft } from '../audit/index.js';
import type { App } from '../app.js';
import { localImporter, type Principal } from '../auth/index.js';
import type { ErrorCode } from '../kernel/index.js';

/** The person at this machine, as the audit log records CLI actions. */
export function operator(): Principal {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    /* no passwd entry (containers): keep 'unknown' */
  }
  return localImporter(name);
}

/**
 * Audits an administrative CLI action (principal created, token issued, log verified, account
 * reset). A refused one is 'denied' with the refusal's code; 'failed' defaults to ERR_INTEGRITY.
 */
export async function auditOperatorAction(
  app: App,
  action: AuditDraft['action'],
  operation: string,
  objects: AuditDraft['objects'],
  outcome: 'success' | 'failed' | 'denied' = 'success',
  errorCode: ErrorCode = 'ERR_INTEGRITY',
): Promise<void> {
  const who = operator();
  await app.audit.append([{
    action, operation, principal: { id: who.id, role: 'admin', handle: who.displayName }, actingFor: null, purposeOfUse: 'HSYSADMIN',
    tenant: null, patients: [], objects, outcome, errorCode: outcome === 'success' ? null : errorCode,
    accessPoint: { ip: 'local', userAgent: 'labkluis-cli', node: 'cli' }, emergency: false,
  }]);
}
