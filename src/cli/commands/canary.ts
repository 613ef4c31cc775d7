/**
 * `labkluis canary seed --tenant <t> --count <n>` and `labkluis canary list --tenant <t>`: canary
 * patients (issue 4, sentinel/canaries.ts) managed by the operator on the server, who holds the
 * data directory and the keyring (the security officer does the same over /auth/canaries). The
 * records are written under the operator's own principal, as an import is; each command is also
 * an operator action in the audit log, and a refused one is audited as denied.
 */
import type { App } from '../../app.js';
import { isLabkluisError } from '../../kernel/index.js';
import type { CanaryRow } from '../../store/index.js';
import { auditOperatorAction, operator } from '../operator.js';

const FACTS = { ip: 'local', userAgent: 'labkluis-cli canary' } as const;
/** Refusals that are the operator's input, not a fault: audited as denied. */
const REFUSED = new Set(['ERR_INVALID_INPUT', 'ERR_NOT_FOUND', 'ERR_CONFLICT', 'ERR_FORBIDDEN']);

export async function canarySeed(app: App, o: { tenant: string; count: number }, out: (line: string) => void, facts: { ip: string; userAgent: string } = FACTS): Promise<CanaryRow[]> {
  let seeded: CanaryRow[];
  try {
    seeded = await app.canaries.seed(operator(), o.tenant, o.count, facts);
  } catch (e) {
    if (isLabkluisError(e) && REFUSED.has(e.code)) await auditOperatorAction(app, 'C', 'canary-seed', [{ type: 'Canary' }], 'denied', e.code).catch(() => {});
    throw e;
  }
  await auditOperatorAction(app, 'C', 'canary-seed', seeded.map((c) => ({ type: 'Canary', id: c.pseudonym })));
  out(`seeded ${seeded.length} canary patient(s) in tenant ${o.tenant}: ${seeded.map((c) => c.pseudonym).join(' ')}`);
  return seeded;
}

export async function canaryList(app: App, tenant: string, out: (line: string) => void): Promise<CanaryRow[]> {
  let rows: CanaryRow[];
  try {
    rows = await app.canaries.list(operator(), tenant, FACTS);
  } catch (e) {
    if (isLabkluisError(e) && REFUSED.has(e.code)) await auditOperatorAction(app, 'R', 'canary-list', [{ type: 'Canary' }], 'denied', e.code).catch(() => {});
    throw e;
  }
  await auditOperatorAction(app, 'R', 'canary-list', [{ type: 'Canary' }]);
  const table = [['PSEUDONYM', 'CREATED', 'BY'], ...rows.map((c) => [c.pseudonym, c.createdAt, c.createdBy])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const r of table) out(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  return rows;
}
