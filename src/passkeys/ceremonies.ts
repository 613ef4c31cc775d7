/**
 * Passkey ceremonies for staff sign-in (WebAuthn level 2 §7.1 and §7.2; ASVS 5.0 L3 V6):
 * registration and authentication, each in two steps around the browser. Every challenge is 32
 * bytes from the injected Random, kept by the store, valid once and for challengeTtlSeconds.
 * User verification is required both times: a passkey here is the whole sign-in.
 * Order in each finish step: parse (a malformed body changes nothing), use up the challenge (from
 * here on every failure has burnt it), our own checks with stable reasons, then
 * @simplewebauthn/server's verification, then the store's atomic write.
 */
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { LabkluisError, isLabkluisError, randomId, type Clock, type Random } from '../kernel/index.js';
import { PASSKEY_ALGORITHMS, checkAuthenticatorData, checkClientData, checkPublicKey, rpIdHashOf } from './checks.js';
import { PasskeyError } from './errors.js';
import { parseAuthenticationResponse, parsePasskeyName, parseRegistrationResponse } from './parse-response.js';
import type { ChallengePurpose, ChallengeRow, PasskeyPrincipal, PasskeyRow, PasskeyStore, PasskeysOptions } from './types.js';

export interface StartedCeremony<T> {
  /** Handle the client sends back with its response. */
  readonly challengeId: string;
  /** For navigator.credentials.create()/get() (after PublicKeyCredential.parse…OptionsFromJSON). */
  readonly options: T;
}

export interface AuthenticatedPasskey {
  readonly principalId: string;
  readonly credentialId: string;
}

type VerifiedRegistration = Awaited<ReturnType<typeof verifyRegistrationResponse>>;

const utf8 = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s);
/** A copy on a plain ArrayBuffer, the type the library's parameters ask for. */
const fromBase64url = (s: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(s, 'base64url'));
/** The user handle (§5.4.3) is the opaque principal id; at most 64 bytes. */
const userHandleOf = (principalId: string): string => Buffer.from(principalId, 'utf8').toString('base64url');

export class Passkeys {
  readonly #store: PasskeyStore;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #rpId: string;
  readonly #rpName: string;
  readonly #origins: readonly string[];
  readonly #ttlMs: number;
  readonly #rpIdHash: Buffer;

  constructor(options: PasskeysOptions) {
    const { store, clock, random, rpId, rpName, origins, challengeTtlSeconds = 300 } = options;
    validateConfig(rpId, rpName, origins, challengeTtlSeconds);
    this.#store = store;
    this.#clock = clock;
    this.#random = random;
    this.#rpId = rpId;
    this.#rpName = rpName;
    this.#origins = Object.freeze([...origins]);
    this.#ttlMs = challengeTtlSeconds * 1000;
    this.#rpIdHash = rpIdHashOf(rpId);
  }

  async startRegistration(principal: PasskeyPrincipal): Promise<StartedCeremony<PublicKeyCredentialCreationOptionsJSON>> {
    const userId = utf8(principal.id);
    if (userId.length === 0 || userId.length > 64) throw new TypeError('principal id must be 1–64 bytes of UTF-8');
    const existing = await this.#store.listCredentials(principal.id);
    const { id, challenge } = await this.#newChallenge('register', principal.id);
    const options = await generateRegistrationOptions({
      rpName: this.#rpName,
      rpID: this.#rpId,
      userID: userId,
      userName: principal.username,
      userDisplayName: principal.displayName,
      challenge: fromBase64url(challenge),
      timeout: this.#ttlMs,
      attestationType: 'none',
      // An authenticator already holding one of these refuses to make a second credential (§5.4).
      excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: [...c.transports] })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      supportedAlgorithmIDs: [...PASSKEY_ALGORITHMS],
    });
    return Object.freeze({ challengeId: id, options });
  }

  async finishRegistration(principalId: string, challengeId: string, body: unknown, name: string): Promise<PasskeyRow> {
    const label = parsePasskeyName(name);
    const parsed = parseRegistrationResponse(body);
    const challenge = await this.#useChallenge(challengeId, 'register');
    if (challenge.principalId !== principalId) throw new PasskeyError('principal');
    checkClientData(parsed.clientData, { type: 'webauthn.create', challenge: challenge.challenge, origins: this.#origins });
    checkAuthenticatorData(parsed.authData, this.#rpIdHash);
    checkPublicKey(parsed.publicKey);
    if ((await this.#store.getCredential(parsed.credentialId)) !== null) throw new PasskeyError('duplicate');

    let info: VerifiedRegistration['registrationInfo'] | null;
    try {
      const result = await verifyRegistrationResponse({
        response: parsed.response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: [...this.#origins],
        expectedRPID: this.#rpId,
        requireUserPresence: true,
        requireUserVerification: true,
        supportedAlgorithmIDs: [...PASSKEY_ALGORITHMS],
      });
      info = result.verified ? result.registrationInfo : null;
    } catch {
      info = null; // the library's message quotes the challenge and origin: never passed on
    }
    if (info === null || info.credential.id !== parsed.credentialId) throw new PasskeyError('attestation');

    const row: PasskeyRow = Object.freeze({
      credentialId: parsed.credentialId,
      principalId,
      publicKey: Buffer.from(info.credential.publicKey),
      counter: info.credential.counter,
      transports: Object.freeze([...parsed.transports]),
      backedUp: info.credentialBackedUp,
      deviceType: info.credentialDeviceType,
      createdAt: this.#now(),
      lastUsedAt: null,
      name: label,
    });
    try {
      await this.#store.saveCredential(row);
    } catch (e) {
      if (isLabkluisError(e, 'ERR_CONFLICT')) throw new PasskeyError('duplicate'); // lost a race
      throw e;
    }
    return row;
  }

  /** principalId null starts a usernameless sign-in: any discoverable credential may answer. */
  async startAuthentication(principalId: string | null): Promise<StartedCeremony<PublicKeyCredentialRequestOptionsJSON>> {
    const allow = principalId === null ? [] : await this.#store.listCredentials(principalId);
    const { id, challenge } = await this.#newChallenge('authenticate', principalId);
    const options = await generateAuthenticationOptions({
      rpID: this.#rpId,
      allowCredentials: allow.map((c) => ({ id: c.credentialId, transports: [...c.transports] })),
      challenge: fromBase64url(challenge),
      timeout: this.#ttlMs,
      userVerification: 'required',
    });
    return Object.freeze({ challengeId: id, options });
  }

  async finishAuthentication(challengeId: string, body: unknown, expectedPrincipalId?: string): Promise<AuthenticatedPasskey> {
    const parsed = parseAuthenticationResponse(body);
    const challenge = await this.#useChallenge(challengeId, 'authenticate');
    checkClientData(parsed.clientData, { type: 'webauthn.get', challenge: challenge.challenge, origins: this.#origins });
    const credential = await this.#store.getCredential(parsed.response.id);
    if (credential === null) throw new PasskeyError('unknown-credential');
    const owner = credential.principalId;
    if (challenge.principalId !== null && challenge.principalId !== owner) throw new PasskeyError('principal');
    if (expectedPrincipalId !== undefined && expectedPrincipalId !== owner) throw new PasskeyError('principal');
    // §7.2 step 6: a returned user handle must name the credential's owner.
    if (parsed.userHandle !== null && parsed.userHandle !== userHandleOf(owner)) throw new PasskeyError('principal');
    checkAuthenticatorData(parsed.authData, this.#rpIdHash);

    let verified = false;
    try {
      const result = await verifyAuthenticationResponse({
        response: parsed.response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: [...this.#origins],
        expectedRPID: this.#rpId,
        requireUserVerification: true,
        // Counter 0 switches off the library's own counter check, which runs before the signature
        // check and would report a forged assertion as a clone. Ours runs after it, below.
        credential: { id: credential.credentialId, publicKey: new Uint8Array(credential.publicKey), counter: 0 },
      });
      verified = result.verified && result.authenticationInfo.credentialID === credential.credentialId;
    } catch {
      verified = false;
    }
    if (!verified) throw new PasskeyError('signature');

    // §7.2 step 21 (§6.1.1): with either counter non-zero, the new one must be greater; else the
    // authenticator may be cloned. Refused (not just flagged) and never lowered in the store.
    const counter = parsed.authData.counter;
    if ((counter > 0 || credential.counter > 0) && counter <= credential.counter) throw new PasskeyError('counter');
    if (!(await this.#store.updateCounter(credential.credentialId, counter, this.#now()))) throw new PasskeyError('counter');
    return Object.freeze({ principalId: owner, credentialId: credential.credentialId });
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }

  async #newChallenge(purpose: ChallengePurpose, principalId: string | null): Promise<ChallengeRow> {
    const now = this.#clock.now();
    const row: ChallengeRow = Object.freeze({
      id: randomId(this.#random),
      challenge: this.#random.bytes(32).toString('base64url'),
      purpose,
      principalId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.#ttlMs).toISOString(),
      usedAt: null,
    });
    await this.#store.saveChallenge(row);
    return row;
  }

  /** Single use: the store marks it used before anything else is checked. */
  async #useChallenge(challengeId: string, purpose: ChallengePurpose): Promise<ChallengeRow> {
    if (typeof challengeId !== 'string' || challengeId.length === 0 || challengeId.length > 128) {
      throw new PasskeyError('malformed');
    }
    const row = await this.#store.consumeChallenge(challengeId, this.#now());
    if (row === null || row.purpose !== purpose) throw new PasskeyError('challenge');
    return row;
  }
}

const RP_ID = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Configuration errors fail at start-up (ERR_CONFIG), never at the first sign-in. */
function validateConfig(rpId: string, rpName: string, origins: readonly string[], ttl: number): void {
  const bad = (what: string): LabkluisError => new LabkluisError('ERR_CONFIG', `passkeys: ${what}`);
  if (typeof rpId !== 'string' || !RP_ID.test(rpId)) throw bad('rpId must be a lowercase host name');
  if (typeof rpName !== 'string' || rpName.trim() === '') throw bad('rpName is required');
  if (!Number.isInteger(ttl) || ttl < 30 || ttl > 600) throw bad('challengeTtlSeconds must be an integer 30–600');
  if (!Array.isArray(origins) || origins.length === 0) throw bad('at least one origin is required');
  for (const origin of origins) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw bad('origins must be URLs');
    }
    const local = url.hostname === 'localhost' && url.protocol === 'http:';
    if (url.origin !== origin || !(url.protocol === 'https:' || local)) throw bad('origins must be https origins');
    // §5.1.4.1 / HTML: the RP id must be the origin's host or a registrable suffix of it.
    if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`)) throw bad('every origin must lie within rpId');
  }
}
