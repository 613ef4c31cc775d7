/**
 * A software WebAuthn authenticator and client for tests, no browser needed. It plays the
 * external party (authenticator plus browser), not our code: it holds a real key pair
 * (node:crypto), a credential id and a signature counter, and answers creation and request
 * options with RegistrationResponseJSON (attestation 'none', WebAuthn L2 §6.5.4 / §8.7) and
 * AuthenticationResponseJSON (§6.3.3). Like a hostile client it does not honour
 * excludeCredentials or allowCredentials, and each response can be bent (origin, RP id,
 * flags, counter, signing key) so tests can show every refusal.
 */
import {
  createHash, generateKeyPairSync, randomBytes, sign, type KeyObject, type JsonWebKey,
} from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type {
  AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

export type SoftAlgorithm = 'ES256' | 'ES384' | 'EdDSA' | 'RS256';

export interface SoftAuthenticatorOptions {
  readonly origin: string;
  readonly rpId: string;
  readonly algorithm?: SoftAlgorithm; // default ES256
  readonly rsaModulusLength?: number; // RS256 only; default 2048
  /** Starting signature counter; 0 means "does not count" (like most synced passkeys). */
  readonly counter?: number;
  /** Backup eligible (BE) and backed up (BS): a synced passkey. */
  readonly synced?: boolean;
}

/** Per-response distortions; anything left out behaves like an honest authenticator. */
export interface Bend {
  readonly origin?: string;
  readonly rpId?: string;
  readonly challenge?: string;
  readonly type?: string;
  readonly crossOrigin?: boolean;
  readonly userPresent?: boolean;
  readonly userVerified?: boolean;
  /** Report this counter instead of the next one (the internal counter is left alone). */
  readonly counter?: number;
  /** Sign with some other private key. */
  readonly signWith?: KeyObject;
  /** Present this credential id instead of our own. */
  readonly credentialId?: string;
  /** User handle to return; null leaves it out. Defaults to the one given at registration. */
  readonly userHandle?: string | null;
}

type CBOR = Parameters<typeof isoCBOR.encode>[0];
const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const fromB64u = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

function u32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n >>> 0);
  return out;
}

export function generateSoftKey(algorithm: SoftAlgorithm, rsaModulusLength = 2048): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (algorithm) {
    case 'ES256': return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ES384': return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'EdDSA': return generateKeyPairSync('ed25519');
    case 'RS256': return generateKeyPairSync('rsa', { modulusLength: rsaModulusLength });
  }
}

/** The credential public key as a COSE_Key (RFC 9053 §7, RFC 8230 §4). */
function coseKey(algorithm: SoftAlgorithm, publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' }) as JsonWebKey;
  const map = new Map<number, CBOR>();
  if (algorithm === 'ES256' || algorithm === 'ES384') {
    map.set(1, 2).set(3, algorithm === 'ES256' ? -7 : -35).set(-1, algorithm === 'ES256' ? 1 : 2);
    map.set(-2, fromB64u(jwk.x)).set(-3, fromB64u(jwk.y));
  } else if (algorithm === 'EdDSA') {
    map.set(1, 1).set(3, -8).set(-1, 6).set(-2, fromB64u(jwk.x));
  } else {
    map.set(1, 3).set(3, -257).set(-1, fromB64u(jwk.n)).set(-2, fromB64u(jwk.e));
  }
  return isoCBOR.encode(map);
}

export class SoftAuthenticator {
  readonly algorithm: SoftAlgorithm;
  readonly credentialId: string;
  /** The last counter value used; the next assertion reports counter + 1 (unless it is 0). */
  counter: number;
  /** The user handle received at registration (options.user.id). */
  userHandle: string | null = null;
  readonly #origin: string;
  readonly #rpId: string;
  readonly #synced: boolean;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  constructor(options: SoftAuthenticatorOptions, keys?: { privateKey: KeyObject; publicKey: KeyObject }, credentialId?: string) {
    this.algorithm = options.algorithm ?? 'ES256';
    this.#origin = options.origin;
    this.#rpId = options.rpId;
    this.#synced = options.synced ?? false;
    this.counter = options.counter ?? 0;
    const pair = keys ?? generateSoftKey(this.algorithm, options.rsaModulusLength);
    this.#privateKey = pair.privateKey;
    this.#publicKey = pair.publicKey;
    this.credentialId = credentialId ?? b64u(randomBytes(32));
  }

  /** A second device with the same key, id and counter: what an attacker's clone would be. */
  clone(): SoftAuthenticator {
    const copy = new SoftAuthenticator(
      { origin: this.#origin, rpId: this.#rpId, algorithm: this.algorithm, counter: this.counter, synced: this.#synced },
      { privateKey: this.#privateKey, publicKey: this.#publicKey },
      this.credentialId,
    );
    copy.userHandle = this.userHandle;
    return copy;
  }

  /** navigator.credentials.create() answered by this authenticator. */
  createResponse(options: PublicKeyCredentialCreationOptionsJSON, bend: Bend = {}): RegistrationResponseJSON {
    this.userHandle = options.user.id;
    const clientDataJSON = this.#clientData('webauthn.create', options.challenge, bend);
    const credentialId = fromB64u(bend.credentialId ?? this.credentialId);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const authData = Buffer.concat([
      this.#authDataHead(bend, FLAG.AT, bend.counter ?? this.counter),
      Buffer.alloc(16), // AAGUID: all zeros, as with attestation 'none'
      idLength,
      credentialId,
      coseKey(this.algorithm, this.#publicKey),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, CBOR>([['fmt', 'none'], ['attStmt', new Map<string, CBOR>()], ['authData', authData]]),
    );
    const id = b64u(credentialId);
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ['internal', 'hybrid'] },
      authenticatorAttachment: 'platform',
      clientExtensionResults: { credProps: { rk: true } },
    };
  }

  /** navigator.credentials.get() answered by this authenticator; bumps the counter if it counts. */
  getResponse(options: PublicKeyCredentialRequestOptionsJSON, bend: Bend = {}): AuthenticationResponseJSON {
    if (this.counter > 0) this.counter += 1;
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge, bend);
    const authData = this.#authDataHead(bend, 0, bend.counter ?? this.counter);
    const signed = Buffer.concat([authData, sha256(clientDataJSON)]);
    const key = bend.signWith ?? this.#privateKey;
    const signature = sign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', signed, key); // ECDSA: DER
    const id = bend.credentialId ?? this.credentialId;
    const userHandle = bend.userHandle === undefined ? this.userHandle : bend.userHandle;
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  #clientData(type: string, challenge: string, bend: Bend): Buffer {
    return Buffer.from(JSON.stringify({
      type: bend.type ?? type,
      challenge: bend.challenge ?? challenge,
      origin: bend.origin ?? this.#origin,
      crossOrigin: bend.crossOrigin ?? false,
    }));
  }

  /** rpIdHash ‖ flags ‖ signCount (§6.1). */
  #authDataHead(bend: Bend, extraFlags: number, counter: number): Buffer {
    let flags = extraFlags;
    if (bend.userPresent ?? true) flags |= FLAG.UP;
    if (bend.userVerified ?? true) flags |= FLAG.UV;
    if (this.#synced) flags |= FLAG.BE | FLAG.BS;
    return Buffer.concat([sha256(bend.rpId ?? this.#rpId), Buffer.from([flags]), u32(counter)]);
  }
}
