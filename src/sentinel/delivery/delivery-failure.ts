/**
 * Why one attempt to deliver an alert failed. `reason` is short, stable and machine-readable: it
 * goes into DeliveryRow.lastError and the log. It never carries payload text, a URL, a secret or
 * a peer's error message (those can quote what was sent).
 */
export type DeliveryFailureReason =
  | 'timeout' // no answer (or no connection) within the channel's timeout
  | `http-${number}` // the webhook answered with a status outside 2xx (redirects included: never followed)
  | 'dns' // the host name did not resolve
  | 'connection-refused'
  | 'connection-reset'
  | 'connection-closed' // the peer closed the connection before the message was written
  | 'tls' // the TLS handshake failed (certificate not trusted, name mismatch, protocol)
  | 'too-large' // the message does not fit the transport (a UDP datagram)
  | 'not-configured' // the row's channel is no longer configured
  | 'network'; // any other transport failure

export class DeliveryFailure extends Error {
  readonly reason: DeliveryFailureReason;

  constructor(reason: DeliveryFailureReason, options: { cause?: unknown } = {}) {
    super(`alert delivery failed: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeliveryFailure';
    this.reason = reason;
  }
}

/** Maps a Node socket, DNS or TLS error to a reason by its `code`, never by its message. */
export function failureFromError(e: unknown): DeliveryFailure {
  if (e instanceof DeliveryFailure) return e;
  // fetch wraps the socket's error in `cause`; a failed dual-stack connect is an AggregateError.
  const cause = (e as { cause?: unknown } | null)?.cause;
  const first = (x: unknown) => (x as { errors?: unknown[] } | null)?.errors?.[0];
  const code = errorCode(e) ?? errorCode(cause) ?? errorCode(first(e)) ?? errorCode(first(cause));
  return new DeliveryFailure(reasonForCode(code), { cause: e });
}

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function reasonForCode(code: string | undefined): DeliveryFailureReason {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return 'dns';
    case 'ECONNREFUSED':
      return 'connection-refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection-reset';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timeout';
    case 'EMSGSIZE':
      return 'too-large';
    case undefined:
      return 'network';
    default:
      // OpenSSL verification codes (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, ...) and Node's TLS errors.
      return /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|HOSTNAME_)/.test(code) ? 'tls' : 'network';
  }
}
