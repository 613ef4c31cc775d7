/**
 * FHIR search (R4 §3.1.1) as far as labkluis supports it: per type a short list of
 * parameters, comma = OR within a parameter, repetition = AND. Anything else is refused,
 * naming the parameter: an unsupported filter silently ignored would return more data than
 * asked for.
 */
import { invalidInput, type Issue } from '../kernel/index.js';
import { BSN_SYSTEM, isValidBsn } from './bsn.js';
import { AGB_SYSTEM, BARCODE_SYSTEM } from './codes.js';
import { DIAGNOSTIC_REPORT_STATUSES } from './diagnostic-report.js';
import { isFhirDateTime, timeRange } from './fhir-time.js';
import { OBSERVATION_STATUSES } from './observation.js';
import { BARCODE_PATTERN } from './specimen.js';
import { ID_PATTERN } from './references.js';
import { SERVICE_REQUEST_STATUSES } from './service-request.js';
import { SPECIMEN_STATUSES } from './specimen.js';
import { splitEscaped } from './search-values.js';

export type SearchType = 'Patient' | 'Organization' | 'ServiceRequest' | 'Specimen' | 'Observation' | 'DiagnosticReport';

type ParamDef =
  | { readonly kind: 'subject' | 'status' | 'date' | 'bsn' | 'id' }
  | { readonly kind: 'token'; readonly param: string; readonly system?: string; readonly pattern?: RegExp }
  | { readonly kind: 'reference'; readonly param: string; readonly target: string };

const subject = { kind: 'subject' } as const;
const status = { kind: 'status' } as const;
const date = { kind: 'date' } as const;
const code = { kind: 'token', param: 'code' } as const;

/** Supported parameters per type; _count and _cursor are accepted everywhere. */
export const SEARCH_PARAMS: Readonly<Record<SearchType, Readonly<Record<string, ParamDef>>>> = Object.freeze({
  Patient: { identifier: { kind: 'bsn' }, _id: { kind: 'id' } },
  Organization: { identifier: { kind: 'token', param: 'identifier', system: AGB_SYSTEM, pattern: /^[0-9]{8}$/ } },
  ServiceRequest: { subject, status, code },
  Specimen: { identifier: { kind: 'token', param: 'identifier', system: BARCODE_SYSTEM, pattern: BARCODE_PATTERN }, subject, status },
  Observation: { subject, patient: subject, code, date, status, specimen: { kind: 'reference', param: 'specimen', target: 'Specimen' } },
  DiagnosticReport: { subject, patient: subject, code, date, status, 'based-on': { kind: 'reference', param: 'based-on', target: 'ServiceRequest' } },
});

const STATUSES: Readonly<Record<SearchType, readonly string[]>> = {
  Patient: [], Organization: [], ServiceRequest: SERVICE_REQUEST_STATUSES, Specimen: SPECIMEN_STATUSES,
  Observation: OBSERVATION_STATUSES, DiagnosticReport: DIAGNOSTIC_REPORT_STATUSES,
};

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 100;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

export interface TokenTerm {
  readonly param: string;
  readonly system?: string;
  readonly value: string;
}

export interface SearchQuery {
  /** Patient ids (pseudonyms), any of. */
  readonly subject?: string[];
  /** AND over the outer list, OR within each inner list. Specimen barcodes are tokens too. */
  readonly tokens?: TokenTerm[][];
  readonly status?: string[];
  /** Half-open ISO-8601 UTC range: dateFrom inclusive, dateTo exclusive. */
  readonly dateFrom?: string;
  readonly dateTo?: string;
  /** Patient only: the BSN to look up through the blind index. */
  readonly identifier?: { readonly system?: string; readonly value: string };
  /** Patient only: _id, any of. */
  readonly ids?: string[];
  readonly count: number;
  readonly cursor?: string;
}

const ONCE = new Set(['subject', 'status', 'bsn', 'id']);

export function parseSearch(type: SearchType, params: URLSearchParams): SearchQuery {
  const defs = SEARCH_PARAMS[type];
  if (defs === undefined) throw invalidInput(`${String(type)} cannot be searched`);
  const issues: Issue[] = [];
  const bad = (name: string, diagnostics: string): void => void issues.push({ expression: name, diagnostics });
  const q: { -readonly [K in keyof SearchQuery]: SearchQuery[K] } = { count: DEFAULT_COUNT };
  const seen = new Map<string, number>();
  const froms: number[] = [];
  const tos: number[] = [];

  for (const [name, raw] of params) {
    const times = (seen.get(name) ?? 0) + 1;
    seen.set(name, times);
    if (raw === '') { bad(name, 'must have a value'); continue; }
    if (name === '_count') {
      if (times > 1) bad(name, 'may appear only once');
      else if (!/^[0-9]{1,6}$/.test(raw) || Number(raw) < 1) bad(name, 'must be a whole number of at least 1');
      else q.count = Math.min(Number(raw), MAX_COUNT);
      continue;
    }
    if (name === '_cursor') {
      if (times > 1) bad(name, 'may appear only once');
      else if (!CURSOR_PATTERN.test(raw)) bad(name, 'is malformed');
      else q.cursor = raw;
      continue;
    }
    const def = Object.hasOwn(defs, name) ? defs[name] : undefined;
    if (def === undefined) { bad(name, `is not a supported ${type} search parameter (supported: ${[...Object.keys(defs), '_count', '_cursor'].join(', ')})`); continue; }
    if (ONCE.has(def.kind) && times > 1) { bad(name, 'may appear only once'); continue; }
    const values = splitEscaped(raw, ',');
    if (values.some((v) => v === '')) { bad(name, 'has an empty value'); continue; }

    switch (def.kind) {
      case 'subject': {
        const ids = values.map((v) => v.replace(/^Patient\//, ''));
        if (q.subject !== undefined) bad(name, 'subject and patient may not both be given');
        else if (ids.every((id) => ID_PATTERN.test(id))) q.subject = ids;
        else bad(name, 'must be Patient/<id> or <id>');
        break;
      }
      case 'status':
        if (values.every((v) => STATUSES[type].includes(v))) q.status = values;
        else bad(name, `must be one of ${STATUSES[type].join(', ')}`);
        break;
      case 'id':
        if (values.every((v) => ID_PATTERN.test(v))) q.ids = values;
        else bad(name, 'must be a FHIR id');
        break;
      case 'bsn': {
        const parts = values.length === 1 ? splitEscaped(values[0]!, '|') : [];
        const [system, value] = parts.length === 2 ? parts : [undefined, parts[0]];
        if (values.length !== 1 || parts.length > 2) bad(name, 'must be one BSN, as system|value or value');
        else if (system !== undefined && system !== BSN_SYSTEM) bad(name, `system must be ${BSN_SYSTEM}`);
        else if (value === undefined || !isValidBsn(value)) bad(name, 'must be a BSN that passes the 11-check');
        else q.identifier = { system: BSN_SYSTEM, value };
        break;
      }
      case 'date': {
        const m = /^(eq|ge|gt|le|lt)?(.*)$/.exec(raw)!;
        const range = values.length === 1 && isFhirDateTime(m[2]!) ? timeRange(m[2]!) : undefined;
        if (range === undefined) { bad(name, 'must be one FHIR date or dateTime with an optional prefix eq, ge, gt, le or lt'); break; }
        const prefix = m[1] ?? 'eq';
        if (prefix === 'eq') { froms.push(range.start); tos.push(range.end); }
        if (prefix === 'ge') froms.push(range.start);
        if (prefix === 'gt') froms.push(range.end);
        if (prefix === 'lt') tos.push(range.start);
        if (prefix === 'le') tos.push(range.end);
        break;
      }
      case 'token': {
        const group: TokenTerm[] = [];
        for (const v of values) {
          const parts = splitEscaped(v, '|');
          const [system, value] = parts.length === 2 ? parts : [undefined, parts[0]];
          if (parts.length > 2 || value === undefined || value === '' || system === '') { bad(name, 'must be code or system|code'); break; }
          if (def.system !== undefined && system !== undefined && system !== def.system) { bad(name, `system must be ${def.system}`); break; }
          if (def.pattern !== undefined && !def.pattern.test(value)) { bad(name, 'has a malformed value'); break; }
          group.push({ param: def.param, ...(system !== undefined ? { system } : {}), value });
        }
        if (group.length === values.length) (q.tokens ??= []).push(group);
        break;
      }
      case 'reference': {
        const group = values.map((v) => (v.includes('/') ? v : `${def.target}/${v}`));
        if (group.every((r) => r.startsWith(`${def.target}/`) && ID_PATTERN.test(r.slice(def.target.length + 1)))) {
          (q.tokens ??= []).push(group.map((value) => ({ param: def.param, value })));
        } else bad(name, `must be ${def.target}/<id> or <id>`);
        break;
      }
    }
  }
  if (froms.length > 0) q.dateFrom = new Date(Math.max(...froms)).toISOString();
  if (tos.length > 0) q.dateTo = new Date(Math.min(...tos)).toISOString();
  if (issues.length > 0) throw invalidInput(`invalid ${type} search: ${issues.map((i) => i.expression).join(', ')}`, issues);
  return q;
}
