/**
 * Errors with a stable `code` that callers switch on (never on message text).
 * One function at the API edge (api/outcome.ts) maps codes to HTTP status and a
 * FHIR OperationOutcome; the CLI maps them to a one-line message and exit code.
 */
export type ErrorCode =
  | 'ERR_INVALID_INPUT' // malformed request or file (not JSON, wrong shape)
  | 'ERR_INVALID_RESOURCE' // a FHIR resource that fails validation
  | 'ERR_UNSUPPORTED' // a valid request for something labkluis does not do
  | 'ERR_UNAUTHENTICATED' // no principal, bad or expired credential
  | 'ERR_FORBIDDEN' // principal known, action not allowed
  | 'ERR_NOT_FOUND' // absent, or present in a tenant the caller may not see
  | 'ERR_CONFLICT' // version mismatch, duplicate, or state that forbids the change
  | 'ERR_RATE_LIMITED' // too many attempts: back off and try again later
  | 'ERR_AUDIT_UNAVAILABLE' // audit append failed: the request fails closed
  | 'ERR_DECRYPTION_FAILED' // ciphertext or key does not verify (says nothing more)
  | 'ERR_KEYRING' // keyring missing, unreadable, or in a forbidden place
  | 'ERR_CONFIG' // bad configuration or data directory
  | 'ERR_STORE' // the storage backend failed
  | 'ERR_INTEGRITY'; // tamper evidence: the audit log or a record does not verify

/** One problem, pointing at the FHIRPath-like location it concerns. */
export interface Issue {
  readonly expression?: string;
  readonly diagnostics: string;
}

export class LabkluisError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly Issue[];

  constructor(code: ErrorCode, message: string, options: { issues?: readonly Issue[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LabkluisError';
    this.code = code;
    this.issues = Object.freeze([...(options.issues ?? [])]);
  }
}

export function isLabkluisError(e: unknown, code?: ErrorCode): e is LabkluisError {
  return e instanceof LabkluisError && (code === undefined || e.code === code);
}

/** Shorthands keep call sites short and the code visible. */
export const invalidResource = (message: string, issues: readonly Issue[] = []): LabkluisError =>
  new LabkluisError('ERR_INVALID_RESOURCE', message, { issues });
export const invalidInput = (message: string, issues: readonly Issue[] = []): LabkluisError =>
  new LabkluisError('ERR_INVALID_INPUT', message, { issues });
export const forbidden = (message: string): LabkluisError => new LabkluisError('ERR_FORBIDDEN', message);
export const notFound = (message: string): LabkluisError => new LabkluisError('ERR_NOT_FOUND', message);
export const conflict = (message: string): LabkluisError => new LabkluisError('ERR_CONFLICT', message);

/**
 * ERR_RATE_LIMITED with the wait a client should honour; the API edge sends it as Retry-After
 * (RFC 9110 §10.2.3, RFC 6585 §4). Whole seconds, at least one.
 */
export class RateLimitedError extends LabkluisError {
  readonly retryAfterSeconds: number;
  /** `what` says what was refused; the wait is added to the message. */
  constructor(what: string, retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super('ERR_RATE_LIMITED', `${what}: try again in ${seconds} s`);
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = seconds;
  }
}
