/**
 * Passkey registration (WebAuthn L2 §7.1): the options we hand out, and every refusal of
 * finishRegistration failing closed with its stable reason and a message that quotes nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, isLabkluisError, systemRandom } from '../../src/kernel/index.js';
import {
  MemoryPasskeyStore, PASSKEY_ALGORITHMS, Passkeys, isPasskeyError, type PasskeyFailureReason, type PasskeyPrincipal,
} from '../../src/passkeys/index.js';
import { SoftAuthenticator, type SoftAuthenticatorOptions } from '../support/soft-authenticator.js';

const RP_ID = 'lab.example';
const ORIGIN = 'https://lab.example';
const alice: PasskeyPrincipal = { id: 'prn-alice-7f3k2', username: 'alice', displayName: 'Alice Analist' };
const bob: PasskeyPrincipal = { id: 'prn-bob-9q8w1', username: 'bob', displayName: 'Bob Validator' };

let clock: ManualClock;
let store: MemoryPasskeyStore;
let passkeys: Passkeys;

beforeEach(() => {
  clock = new ManualClock('2026-03-01T12:00:00Z');
  store = new MemoryPasskeyStore();
  passkeys = new Passkeys({ store, clock, random: systemRandom, rpId: RP_ID, rpName: 'labkluis', origins: [ORIGIN] });
});

const device = (over: Partial<SoftAuthenticatorOptions> = {}): SoftAuthenticator =>
  new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID, ...over });

async function register(principal: PasskeyPrincipal, auth: SoftAuthenticator = device(), name = 'lab laptop') {
  const { challengeId, options } = await passkeys.startRegistration(principal);
  const row = await passkeys.finishRegistration(principal.id, challengeId, auth.createResponse(options), name);
  return { auth, row };
}

/** Refused with this reason; the message names none of the secrets. */
async function expectRefusal(p: Promise<unknown>, reason: PasskeyFailureReason, secrets: readonly string[] = []): Promise<void> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(isPasskeyError(e) ? e.reason : e).toBe(reason);
  expect(isLabkluisError(e, reason === 'malformed' ? 'ERR_INVALID_INPUT' : 'ERR_UNAUTHENTICATED')).toBe(true);
  for (const s of [...secrets, alice.id, alice.username, alice.displayName, ORIGIN]) {
    expect((e as Error).message).not.toContain(s);
  }
}

describe('registration options', () => {
  it('require a discoverable credential with user verification, no attestation, our algorithms only', async () => {
    const { challengeId, options } = await passkeys.startRegistration(alice);
    expect(challengeId).toMatch(/^[a-z2-7]{26}$/);
    expect(options.rp).toEqual({ id: RP_ID, name: 'labkluis' });
    expect(options.user).toEqual({ id: Buffer.from(alice.id).toString('base64url'), name: 'alice', displayName: 'Alice Analist' });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', requireResidentKey: true, userVerification: 'required' });
    expect(options.attestation).toBe('none');
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-7, -8, -257]);
    expect(PASSKEY_ALGORITHMS).toEqual([-7, -8, -257]);
    expect(options.timeout).toBe(300_000);
    expect(Buffer.from(options.challenge, 'base64url')).toHaveLength(32);
    expect(options.excludeCredentials).toEqual([]);
    const again = await passkeys.startRegistration(alice);
    expect(again.options.challenge).not.toBe(options.challenge);
  });

  it('exclude every credential the principal already has', async () => {
    const first = await register(alice);
    const second = await register(alice);
    await register(bob);
    const { options } = await passkeys.startRegistration(alice);
    expect(options.excludeCredentials).toEqual([
      { id: first.row.credentialId, type: 'public-key', transports: ['internal', 'hybrid'] },
      { id: second.row.credentialId, type: 'public-key', transports: ['internal', 'hybrid'] },
    ]);
  });

  it('refuse a principal id that cannot be a user handle (over 64 bytes)', async () => {
    await expect(passkeys.startRegistration({ ...alice, id: 'x'.repeat(65) })).rejects.toBeInstanceOf(TypeError);
  });

  it('refuse bad configuration at construction', () => {
    const base = { store, clock, random: systemRandom, rpId: RP_ID, rpName: 'labkluis', origins: [ORIGIN] };
    const bad = [
      { origins: [] }, { origins: ['http://lab.example'] }, { origins: ['https://evil.example'] },
      { origins: ['https://lab.example/'] }, { rpId: 'https://lab.example' }, { rpId: 'Lab.Example' },
      { rpName: ' ' }, { challengeTtlSeconds: 5 }, { challengeTtlSeconds: 3600 },
    ];
    for (const over of bad) {
      expect(() => new Passkeys({ ...base, ...over }), JSON.stringify(over)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
    }
    expect(() => new Passkeys({ ...base, origins: ['https://app.lab.example', 'http://localhost:5173'], rpId: 'lab.example' })).toThrow();
    expect(new Passkeys({ ...base, origins: ['https://app.lab.example', 'https://lab.example'] })).toBeInstanceOf(Passkeys);
  });
});

describe('finishRegistration', () => {
  it('stores the credential with its public key, counter, transports and name', async () => {
    const { auth, row } = await register(alice, device({ counter: 7 }), '  YubiKey 5  ');
    expect(row).toMatchObject({
      credentialId: auth.credentialId, principalId: alice.id, counter: 7, transports: ['internal', 'hybrid'],
      backedUp: false, deviceType: 'singleDevice', createdAt: '2026-03-01T12:00:00.000Z', lastUsedAt: null, name: 'YubiKey 5',
    });
    expect(row.publicKey.length).toBeGreaterThan(64);
    expect(await store.getCredential(auth.credentialId)).toEqual(row);
    const synced = await register(alice, device({ synced: true }));
    expect(synced.row).toMatchObject({ backedUp: true, deviceType: 'multiDevice' });
  });

  it('accepts EdDSA (Ed25519 through WebCrypto on this Node) and RS256 with a 2048-bit key', async () => {
    for (const algorithm of ['EdDSA', 'RS256'] as const) {
      const { auth } = await register(alice, device({ algorithm }));
      const { challengeId, options } = await passkeys.startAuthentication(alice.id);
      await expect(passkeys.finishAuthentication(challengeId, auth.getResponse(options))).resolves.toEqual({
        principalId: alice.id, credentialId: auth.credentialId,
      });
    }
  });

  it('refuses algorithms off the list and RSA keys under 2048 bits', async () => {
    for (const auth of [device({ algorithm: 'ES384' }), device({ algorithm: 'RS256', rsaModulusLength: 1024 })]) {
      const { challengeId, options } = await passkeys.startRegistration(alice);
      await expectRefusal(passkeys.finishRegistration(alice.id, challengeId, auth.createResponse(options), 'k'), 'algorithm');
    }
    expect(await store.listCredentials(alice.id)).toEqual([]);
  });

  it('refuses a credential id that is already registered, to anyone', async () => {
    const { auth } = await register(alice);
    await expectRefusal(register(alice, auth), 'duplicate', [auth.credentialId]);
    await expectRefusal(register(bob, auth), 'duplicate', [auth.credentialId]);
    expect((await store.getCredential(auth.credentialId))?.principalId).toBe(alice.id);
  });

  it('uses a challenge once', async () => {
    const { challengeId, options } = await passkeys.startRegistration(alice);
    await passkeys.finishRegistration(alice.id, challengeId, device().createResponse(options), 'a');
    await expectRefusal(passkeys.finishRegistration(alice.id, challengeId, device().createResponse(options), 'b'), 'challenge', [options.challenge]);
  });

  it('refuses an expired challenge', async () => {
    const { challengeId, options } = await passkeys.startRegistration(alice);
    clock.advance(300_000);
    await expectRefusal(passkeys.finishRegistration(alice.id, challengeId, device().createResponse(options), 'a'), 'challenge');
  });

  it("refuses another principal's challenge, and an authentication challenge", async () => {
    const reg = await passkeys.startRegistration(bob);
    await expectRefusal(passkeys.finishRegistration(alice.id, reg.challengeId, device().createResponse(reg.options), 'a'), 'principal');
    const auth = await passkeys.startAuthentication(null);
    const response = device().createResponse({ ...reg.options, challenge: auth.options.challenge });
    await expectRefusal(passkeys.finishRegistration(alice.id, auth.challengeId, response, 'a'), 'challenge');
  });

  it('refuses a response to another challenge, a wrong origin or RP id, and a missing UV or UP flag', async () => {
    const cases: Array<[Parameters<SoftAuthenticator['createResponse']>[1], PasskeyFailureReason]> = [
      [{ challenge: Buffer.alloc(32, 1).toString('base64url') }, 'challenge'],
      [{ type: 'webauthn.get' }, 'challenge'],
      [{ origin: 'https://lab.example.evil.test' }, 'origin'],
      [{ crossOrigin: true }, 'origin'],
      [{ rpId: 'evil.test' }, 'rp'],
      [{ userVerified: false }, 'user-verification'],
      [{ userPresent: false }, 'user-verification'],
    ];
    for (const [bend, reason] of cases) {
      const { challengeId, options } = await passkeys.startRegistration(alice);
      const auth = device();
      await expectRefusal(passkeys.finishRegistration(alice.id, challengeId, auth.createResponse(options, bend), 'k'), reason, [
        options.challenge, auth.credentialId,
      ]);
    }
    expect(await store.listCredentials(alice.id)).toEqual([]);
  });

  it('refuses malformed bodies and names without using up the challenge', async () => {
    const { challengeId, options } = await passkeys.startRegistration(alice);
    const good = device().createResponse(options);
    const bodies: unknown[] = [
      null, 'x', {}, { ...good, type: 'password' }, { ...good, rawId: 'AAAA' + good.id },
      { ...good, id: Buffer.alloc(32, 9).toString('base64url'), rawId: Buffer.alloc(32, 9).toString('base64url') },
      { ...good, response: { ...good.response, clientDataJSON: 'not json!' } },
      { ...good, response: { ...good.response, clientDataJSON: Buffer.from('[1]').toString('base64url') } },
      { ...good, response: { ...good.response, attestationObject: 'AAAA' } },
      { ...good, response: { ...good.response, transports: ['usb', 42] } },
    ];
    for (const body of bodies) await expectRefusal(passkeys.finishRegistration(alice.id, challengeId, body as never, 'k'), 'malformed');
    for (const name of ['', '   ', 'x'.repeat(65), 'bad\u0000name', 'evil\u202Eexe']) {
      await expectRefusal(passkeys.finishRegistration(alice.id, challengeId, good, name), 'malformed');
    }
    await expect(passkeys.finishRegistration(alice.id, challengeId, good, 'ok')).resolves.toMatchObject({ name: 'ok' });
  });
});
