import { timeRange } from '../domain/index.js';
import { invalidInput, type Issue } from '../kernel/index.js';
import type { ExportScope } from '../store/index.js';
import { EXPORT_TYPES, type ExportView } from '../vault/index.js';
import { parseRecipientKey } from './recipient.js';

/**
 * The body of POST /export/jobs, checked before anything is stored. Every problem names the
 * element (never its value: a reason or a label may hold anything):
 *
 *   { "tenant": "huisarts-a",                     (optional when the person acts for one tenant)
 *     "scope": { "from": "2026-01-01", "to": "2026-04-01",   (optional: the whole tenant)
 *                "types": ["Patient", "DiagnosticReport"],   (optional: all the view holds)
 *                "identity": true },                         (optional, default true)
 *     "recipient": { "key": "age1…", "label": "Bevolkingsonderzoek Midden-West" },
 *     "purpose": { "code": "PUBHLTH", "reason": "Round 2026-Q1 hand-over for the screening register" } }
 *
 * from and to are FHIR dates or instants; a date starts at midnight in Europe/Amsterdam (as in
 * search); the period is [from, to) on each record's clinical date.
 */
export interface ExportRequest {
  readonly tenant: string | null;
  readonly scope: ExportScope;
  readonly recipient: string;
  readonly recipientLabel: string;
  readonly purposeOfUse: string | null;
  readonly reason: string;
}

const TOP = new Set(['tenant', 'scope', 'recipient', 'purpose']);
const SCOPE = new Set(['from', 'to', 'types', 'identity']);
const RECIPIENT = new Set(['key', 'label']);
const PURPOSE = new Set(['code', 'reason']);
/** A label is printable text on one line (it is shown to the approver and kept in the job). */
const LABEL = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,200}$/u;

export function parseExportRequest(body: unknown, view: ExportView): ExportRequest {
  const b = object(body, 'the request', TOP);
  const tenant = b.tenant === undefined || b.tenant === null ? null : text(b.tenant, 'tenant', 64);
  const scope = parseScope(b.scope === undefined ? {} : object(b.scope, 'scope', SCOPE), view);
  const r = object(b.recipient, 'recipient', RECIPIENT);
  const recipient = parseRecipientKey(r.key);
  const recipientLabel = typeof r.label === 'string' ? r.label.trim() : '';
  if (!LABEL.test(recipientLabel)) bad('name the recipient (an organisation or department): 1 to 200 characters on one line', 'recipient.label');
  const p = object(b.purpose, 'purpose', PURPOSE);
  const purposeOfUse = p.code === undefined ? null : text(p.code, 'purpose.code', 16);
  const reason = typeof p.reason === 'string' ? p.reason.trim() : '';
  if (reason.length < 10 || reason.length > 1000) bad('give the reason for this export (10 to 1000 characters): what for, and for whom', 'purpose.reason');
  return Object.freeze({ tenant, scope, recipient, recipientLabel, purposeOfUse, reason });
}

function parseScope(s: Record<string, unknown>, view: ExportView): ExportScope {
  const from = s.from === undefined || s.from === null ? null : instant(s.from, 'scope.from');
  const to = s.to === undefined || s.to === null ? null : instant(s.to, 'scope.to');
  if (from !== null && to !== null && from >= to) bad('scope.from must come before scope.to', 'scope.to');
  const allowed: readonly string[] = EXPORT_TYPES[view];
  let types: string[] = [...allowed];
  if (s.types !== undefined) {
    if (!Array.isArray(s.types) || s.types.length === 0 || s.types.length > 10) bad('scope.types is a list of resource types', 'scope.types');
    types = [];
    (s.types as unknown[]).forEach((t, i) => {
      if (typeof t !== 'string' || !allowed.includes(t)) bad(`an export of this kind holds only: ${allowed.join(', ')}`, `scope.types[${i}]`);
      if (!types.includes(t)) types.push(t);
    });
  }
  if (s.identity !== undefined && typeof s.identity !== 'boolean') bad('scope.identity is true or false', 'scope.identity');
  return Object.freeze({ from, to, types: Object.freeze(types), identity: s.identity !== false });
}

function instant(value: unknown, expression: string): string {
  const range = typeof value === 'string' ? timeRange(value) : undefined;
  if (range === undefined) bad('a date (YYYY-MM-DD) or an instant with its time zone', expression);
  return new Date(range.start).toISOString();
}

function object(value: unknown, expression: string, keys: ReadonlySet<string>): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(`${expression} must be a JSON object`, expression);
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!keys.has(k)) bad(`unknown element (expected: ${[...keys].join(', ')})`, expression === 'the request' ? 'request' : `${expression}`);
  }
  return o;
}

function text(value: unknown, expression: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) bad(`${expression} must be a string`, expression);
  return value;
}

function bad(message: string, expression: string): never {
  const issue: Issue = { expression, diagnostics: message };
  throw invalidInput(message, [issue]);
}
