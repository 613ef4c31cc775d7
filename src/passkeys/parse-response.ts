/**
 * Untrusted input first: checks the shape and size of a browser's RegistrationResponseJSON or
 * AuthenticationResponseJSON (WebAuthn L2 §5.1, L3 §5.1.2/§5.1.3) and decodes the parts the
 * ceremonies check themselves. It is pure, so a malformed body is refused (ERR_INVALID_INPUT,
 * reason 'malformed') before anything changes, such as a challenge being used up.
 * The result carries a fresh copy of the response holding only the validated members.
 */
import {
  decodeAttestationObject, parseAuthenticatorData, type ParsedAuthenticatorData,
} from '@simplewebauthn/server/helpers';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { PasskeyError } from './errors.js';

export interface ClientData {
  readonly type: string;
  readonly challenge: string;
  readonly origin: string;
  readonly crossOrigin: boolean;
  readonly topOrigin: string | undefined;
}

export interface ParsedRegistration {
  readonly response: RegistrationResponseJSON;
  readonly clientData: ClientData;
  readonly authData: ParsedAuthenticatorData;
  readonly credentialId: string;
  readonly publicKey: Uint8Array;
  readonly transports: string[];
}

export interface ParsedAssertion {
  readonly response: AuthenticationResponseJSON;
  readonly clientData: ClientData;
  readonly authData: ParsedAuthenticatorData;
  /** The user handle of a discoverable credential (base64url), or null. */
  readonly userHandle: string | null;
}

// Byte limits: generous for real authenticators (a TPM attestation with its chain is a few KiB).
const MAX = { credentialId: 1023, clientData: 4096, attestation: 32768, authData: 4096, signature: 1024, userHandle: 64 };
const B64URL = /^[A-Za-z0-9_-]*$/;
const TRANSPORT = /^[a-z][a-z-]{0,31}$/;
const UNSAFE_NAME = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

const malformed = (): PasskeyError => new PasskeyError('malformed');

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strict, canonical base64url without padding, decoded; refuses anything else. */
function bytes(v: unknown, min: number, max: number): Buffer {
  if (typeof v !== 'string' || v.length > Math.ceil((max * 4) / 3) || !B64URL.test(v)) throw malformed();
  const out = Buffer.from(v, 'base64url');
  if (out.length < min || out.length > max || out.toString('base64url') !== v) throw malformed();
  return out;
}

function clientData(v: unknown): ClientData {
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes(v, 2, MAX.clientData)));
  } catch {
    throw malformed();
  }
  if (!isRecord(data)) throw malformed();
  const { type, challenge, origin, crossOrigin, topOrigin } = data;
  if (typeof type !== 'string' || typeof challenge !== 'string' || typeof origin !== 'string') throw malformed();
  if (crossOrigin !== undefined && typeof crossOrigin !== 'boolean') throw malformed();
  if (topOrigin !== undefined && typeof topOrigin !== 'string') throw malformed();
  return { type, challenge, origin, crossOrigin: crossOrigin === true, topOrigin };
}

function authenticatorData(raw: Uint8Array): ParsedAuthenticatorData {
  try {
    return parseAuthenticatorData(new Uint8Array(raw)); // a copy: the parser may patch bytes in place
  } catch {
    throw malformed();
  }
}

/** The common envelope: id === rawId, canonical base64url, type 'public-key', response object. */
function envelope(body: unknown): { id: string; response: Record<string, unknown>; attachment: unknown } {
  if (!isRecord(body) || body.type !== 'public-key' || body.id !== body.rawId || !isRecord(body.response)) throw malformed();
  bytes(body.id, 16, MAX.credentialId);
  const attachment = body.authenticatorAttachment;
  if (attachment !== undefined && attachment !== 'platform' && attachment !== 'cross-platform') throw malformed();
  return { id: body.id as string, response: body.response, attachment };
}

function transports(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 8 || !v.every((t) => typeof t === 'string' && TRANSPORT.test(t))) throw malformed();
  return [...new Set(v as string[])];
}

export function parseRegistrationResponse(body: unknown): ParsedRegistration {
  const { id, response, attachment } = envelope(body);
  const data = clientData(response.clientDataJSON);
  let rawAuthData: Uint8Array;
  try {
    const attestation = decodeAttestationObject(new Uint8Array(bytes(response.attestationObject, 37, MAX.attestation)));
    const fmt: unknown = attestation.get('fmt');
    rawAuthData = attestation.get('authData');
    if (typeof fmt !== 'string' || !(rawAuthData instanceof Uint8Array)) throw malformed();
  } catch {
    throw malformed();
  }
  const authData = authenticatorData(rawAuthData);
  const { credentialID, credentialPublicKey } = authData;
  // The library stores the id from authData and never compares it with response.id; we insist.
  if (!authData.flags.at || credentialID === undefined || credentialPublicKey === undefined) throw malformed();
  if (Buffer.from(credentialID).toString('base64url') !== id) throw malformed();
  const list = transports(response.transports);
  const copy: RegistrationResponseJSON = {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: response.clientDataJSON as string,
      attestationObject: response.attestationObject as string,
      transports: list,
    },
    clientExtensionResults: {},
    ...(attachment === undefined ? {} : { authenticatorAttachment: attachment as 'platform' | 'cross-platform' }),
  };
  return { response: copy, clientData: data, authData, credentialId: id, publicKey: credentialPublicKey, transports: list };
}

export function parseAuthenticationResponse(body: unknown): ParsedAssertion {
  const { id, response, attachment } = envelope(body);
  const data = clientData(response.clientDataJSON);
  const authData = authenticatorData(bytes(response.authenticatorData, 37, MAX.authData));
  bytes(response.signature, 8, MAX.signature);
  const handle = response.userHandle;
  const userHandle = handle === undefined || handle === null || handle === '' ? null : handle;
  if (userHandle !== null) bytes(userHandle, 1, MAX.userHandle);
  const copy: AuthenticationResponseJSON = {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: response.clientDataJSON as string,
      authenticatorData: response.authenticatorData as string,
      signature: response.signature as string,
      ...(userHandle === null ? {} : { userHandle: userHandle as string }),
    },
    clientExtensionResults: {},
    ...(attachment === undefined ? {} : { authenticatorAttachment: attachment as 'platform' | 'cross-platform' }),
  };
  return { response: copy, clientData: data, authData, userHandle: userHandle as string | null };
}

/** A passkey's label: 1–64 characters after trimming, no control or bidi-override characters. */
export function parsePasskeyName(name: unknown): string {
  if (typeof name !== 'string') throw malformed();
  const out = name.normalize('NFC').trim();
  if (out.length === 0 || [...out].length > 64 || UNSAFE_NAME.test(out)) throw malformed();
  return out;
}
