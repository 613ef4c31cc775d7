import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

type IssueCode = OperationOutcomeIssue['code'];
import { isLabkluisError, type ErrorCode } from '../kernel/index.js';

/**
 * The one place where error codes become HTTP statuses and FHIR OperationOutcomes
 * (STYLE.md §4). Client mistakes are 4xx and name the problem; server faults are a bare 5xx
 * that says nothing about internals.
 */
const MAP: Record<ErrorCode, { status: number; code: IssueCode; expose: boolean }> = {
  ERR_INVALID_INPUT: { status: 400, code: 'invalid', expose: true },
  ERR_INVALID_RESOURCE: { status: 400, code: 'invalid', expose: true },
  ERR_UNSUPPORTED: { status: 400, code: 'not-supported', expose: true },
  ERR_UNAUTHENTICATED: { status: 401, code: 'login', expose: true },
  ERR_FORBIDDEN: { status: 403, code: 'forbidden', expose: true },
  ERR_NOT_FOUND: { status: 404, code: 'not-found', expose: true },
  ERR_CONFLICT: { status: 409, code: 'conflict', expose: true },
  ERR_RATE_LIMITED: { status: 429, code: 'throttled', expose: true },
  ERR_AUDIT_UNAVAILABLE: { status: 503, code: 'transient', expose: true },
  ERR_STORE: { status: 503, code: 'transient', expose: false },
  ERR_DECRYPTION_FAILED: { status: 500, code: 'exception', expose: false },
  ERR_KEYRING: { status: 500, code: 'exception', expose: false },
  ERR_CONFIG: { status: 500, code: 'exception', expose: false },
  ERR_INTEGRITY: { status: 500, code: 'exception', expose: false },
};

export interface HttpOutcome {
  readonly status: number;
  readonly body: OperationOutcome;
  readonly errorCode: string;
}

export function outcomeOf(error: unknown): HttpOutcome {
  if (isLabkluisError(error)) {
    const m = MAP[error.code];
    const issues = m.expose && error.issues.length > 0
      ? error.issues.map((i) => ({
        severity: 'error' as const,
        code: m.code,
        diagnostics: i.diagnostics,
        ...(i.expression ? { expression: [i.expression] } : {}),
      }))
      : [{ severity: 'error' as const, code: m.code, diagnostics: m.expose ? error.message : 'the server could not complete the request' }];
    if (m.expose && error.issues.length > 0) issues.unshift({ severity: 'error', code: m.code, diagnostics: error.message });
    return { status: m.status, errorCode: error.code, body: { resourceType: 'OperationOutcome', issue: issues } };
  }
  const http = httpClientError(error);
  if (http) return { status: http.status, errorCode: 'ERR_INVALID_INPUT', body: simple('invalid', http.message) };
  return { status: 500, errorCode: 'ERR_INTERNAL', body: simple('exception', 'the server could not complete the request') };
}

export function simple(code: IssueCode, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

/** Fastify's own client errors (bad JSON, wrong media type, body too large) stay 4xx. */
function httpClientError(error: unknown): { status: number; message: string } | null {
  const e = error as { statusCode?: unknown; code?: unknown };
  if (typeof e?.statusCode !== 'number' || e.statusCode < 400 || e.statusCode >= 500) return null;
  const messages: Record<string, string> = {
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'send application/fhir+json',
    FST_ERR_CTP_BODY_TOO_LARGE: 'the request body is too large',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'the request body is empty',
    FST_ERR_CTP_INVALID_JSON_BODY: 'the request body is not valid JSON',
  };
  const code = typeof e.code === 'string' ? e.code : '';
  return { status: e.statusCode, message: messages[code] ?? (e.statusCode === 400 ? 'the request body is not valid JSON' : 'the request was not understood') };
}
