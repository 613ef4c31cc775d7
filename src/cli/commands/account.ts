/**
 * `labkluis account reset <username>` and `labkluis account list`: recovery when everything is
 * lost, run on the server itself by whoever holds the data directory and the keyring. The reset
 * is the only way back into an admin or security-officer account (no admin may reset those by
 * link): it removes every factor, ends every session and prints a fresh one-time enrolment link
 * (24 hours). Both are operator actions in the audit log; a refused reset is audited too.
 */
import type { App } from '../../app.js';
import type { AccountSummary, OperatorReset } from '../../accounts/index.js';
import { isLabkluisError, systemClock } from '../../kernel/index.js';
import { auditOperatorAction, operator } from '../operator.js';

const FACTS = { ip: 'local', userAgent: 'labkluis-cli account' } as const;
/** Refusals that are the operator's input, not a fault: audited as denied. */
const REFUSED = new Set(['ERR_INVALID_INPUT', 'ERR_NOT_FOUND', 'ERR_CONFLICT', 'ERR_FORBIDDEN']);

export async function accountReset(app: App, username: string, out: (line: string) => void): Promise<void> {
  let reset: OperatorReset;
  try {
    reset = await app.accounts.resetByOperator(operator(), username, FACTS);
  } catch (e) {
    if (isLabkluisError(e) && REFUSED.has(e.code)) {
      await auditOperatorAction(app, 'U', 'account-reset', [{ type: 'Account' }], 'denied', e.code).catch(() => {});
    }
    throw e;
  }
  try {
    await auditOperatorAction(app, 'U', 'account-reset', [{ type: 'Account', id: reset.principalId }]);
  } catch (e) {
    // No way into an account without its audit entry: the link dies before the failure is reported.
    await app.store.accounts.voidEnrolmentLinksOf(reset.principalId, systemClock.now().toISOString());
    throw e;
  }
  out(`account ${reset.username} (${reset.role}) reset: ${reset.sessionsEnded} session(s) ended, ${reset.passkeysRemoved} passkey(s) and any TOTP and recovery codes removed, ${reset.linksVoided} earlier link(s) voided`);
  out(`one-time enrolment link, valid until ${reset.expiresAt}; hand it to ${reset.username} in person (whoever opens it first owns the account):`);
  out(`${app.publicUrl}/enrol#${reset.secret}`);
}

export async function accountList(app: App, out: (line: string) => void): Promise<AccountSummary[]> {
  const accounts = await app.accounts.listForOperator(operator());
  await auditOperatorAction(app, 'R', 'account-list', [{ type: 'Account' }]);
  const rows = [
    ['USERNAME', 'ROLE', 'STATUS', 'PASSKEYS', 'TOTP', 'RECOVERY-CODES'],
    ...accounts.map((a) => [a.username, a.role, a.disabled ? 'disabled' : 'active', String(a.passkeys), a.totp ? 'yes' : 'no', String(a.recoveryCodes)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  return accounts;
}
