/** An alert as the sentinel raises one: ids only, a code-made summary. */
import { randomBytes } from 'node:crypto';
import type { DeliverableAlert } from '../../../src/sentinel/delivery/index.js';

const rid = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

export function alert(overrides: Partial<DeliverableAlert> = {}): DeliverableAlert {
  return {
    id: rid('alert'), kind: 'sentinel:canary', principalId: rid('prn'), tenant: rid('org'), subject: rid('cnt'),
    createdAt: '2026-03-04T05:06:07.089Z', severity: 'critical', summary: 'canary patient touched; access contained',
    evidence: [41, 42], ...overrides,
  };
}
