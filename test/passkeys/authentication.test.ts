/**
 * Passkey sign-in (WebAuthn L2 §7.2): a registered authenticator signs in; a replayed, expired,
 * misdirected, unverified, forged or cloned assertion is refused with its stable reason, and no
 * refusal's message quotes a challenge, a credential id or anything about the person.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { ManualClock, isLabkluisError, systemRandom } from '../../src/kernel/index.js';
import {
  MemoryPasskeyStore, Passkeys, isPasskeyError, type PasskeyFailureReason, type PasskeyPrincipal,
} from '../../src/passkeys/index.js';
import { SoftAuthenticator, type Bend, type SoftAuthenticatorOptions } from '../support/soft-authenticator.js';

const RP_ID = 'lab.example';
const ORIGIN = 'https://lab.example';
const alice: PasskeyPrincipal = { id: 'prn-alice-7f3k2', username: 'alice', displayName: 'Alice Analist' };
const bob: PasskeyPrincipal = { id: 'prn-bob-9q8w1', username: 'bob', displayName: 'Bob Validator' };

let clock: ManualClock;
let store: MemoryPasskeyStore;
let passkeys: Passkeys;
/** Every value a refusal's message must not quote; grows as tests hand out challenges and ids. */
let secrets: string[];

beforeEach(() => {
  clock = new ManualClock('2026-03-01T12:00:00Z');
  store = new MemoryPasskeyStore();
  passkeys = new Passkeys({ store, clock, random: systemRandom, rpId: RP_ID, rpName: 'labkluis', origins: [ORIGIN] });
  secrets = [ORIGIN, ...[alice, bob].flatMap((p) => [p.id, p.username, p.displayName])];
});

async function register(principal: PasskeyPrincipal, over: Partial<SoftAuthenticatorOptions> = {}): Promise<SoftAuthenticator> {
  const auth = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID, ...over });
  const { challengeId, options } = await passkeys.startRegistration(principal);
  await passkeys.finishRegistration(principal.id, challengeId, auth.createResponse(options), 'laptop');
  secrets.push(auth.credentialId, options.challenge);
  return auth;
}

/** One sign-in attempt: a fresh challenge for `forPrincipal`, answered by `auth`. */
async function signIn(auth: SoftAuthenticator, forPrincipal: string | null, bend: Bend = {}, expected?: string) {
  const { challengeId, options } = await passkeys.startAuthentication(forPrincipal);
  secrets.push(options.challenge, challengeId);
  return passkeys.finishAuthentication(challengeId, auth.getResponse(options, bend), expected);
}

async function expectRefusal(p: Promise<unknown>, reason: PasskeyFailureReason): Promise<void> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(isPasskeyError(e) ? e.reason : e).toBe(reason);
  expect(isLabkluisError(e, reason === 'malformed' ? 'ERR_INVALID_INPUT' : 'ERR_UNAUTHENTICATED')).toBe(true);
  const text = `${(e as Error).message} ${String((e as Error).cause ?? '')}`;
  for (const s of secrets) expect(text).not.toContain(s);
}

describe('finishAuthentication', () => {
  it('signs in a registered passkey and moves its counter forward', async () => {
    const auth = await register(alice, { counter: 10 });
    const { challengeId, options } = await passkeys.startAuthentication(alice.id);
    expect(options).toMatchObject({ rpId: RP_ID, userVerification: 'required', timeout: 300_000 });
    expect(options.allowCredentials).toEqual([{ id: auth.credentialId, type: 'public-key', transports: ['internal', 'hybrid'] }]);
    clock.advance(5_000);
    await expect(passkeys.finishAuthentication(challengeId, auth.getResponse(options), alice.id)).resolves.toEqual({
      principalId: alice.id, credentialId: auth.credentialId,
    });
    expect(await store.getCredential(auth.credentialId)).toMatchObject({ counter: 11, lastUsedAt: '2026-03-01T12:00:05.000Z' });
  });

  it('signs in usernameless with a discoverable credential (principalId null)', async () => {
    await register(bob);
    const auth = await register(alice);
    const { challengeId, options } = await passkeys.startAuthentication(null);
    expect(options.allowCredentials).toEqual([]);
    await expect(passkeys.finishAuthentication(challengeId, auth.getResponse(options))).resolves.toEqual({
      principalId: alice.id, credentialId: auth.credentialId,
    });
    await expectRefusal(signIn(auth, null, {}, bob.id), 'principal');
    await expectRefusal(signIn(auth, null, { userHandle: Buffer.from(bob.id).toString('base64url') }), 'principal');
  });

  it('uses a challenge once, even when the first answer failed', async () => {
    const auth = await register(alice);
    const { challengeId, options } = await passkeys.startAuthentication(alice.id);
    await passkeys.finishAuthentication(challengeId, auth.getResponse(options));
    await expectRefusal(passkeys.finishAuthentication(challengeId, auth.getResponse(options)), 'challenge');

    const second = await passkeys.startAuthentication(alice.id);
    await expectRefusal(passkeys.finishAuthentication(second.challengeId, auth.getResponse(second.options, { origin: 'https://evil.test' })), 'origin');
    await expectRefusal(passkeys.finishAuthentication(second.challengeId, auth.getResponse(second.options)), 'challenge');
  });

  it('lets exactly one of two concurrent answers to one challenge through', async () => {
    const auth = await register(alice);
    const { challengeId, options } = await passkeys.startAuthentication(alice.id);
    const results = await Promise.allSettled([
      passkeys.finishAuthentication(challengeId, auth.getResponse(options)),
      passkeys.finishAuthentication(challengeId, auth.getResponse(options)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('refuses an expired challenge, an unknown one, and a registration challenge', async () => {
    const auth = await register(alice);
    const late = await passkeys.startAuthentication(alice.id);
    clock.advance(299_999);
    const inTime = await passkeys.startAuthentication(alice.id);
    clock.advance(1);
    await expectRefusal(passkeys.finishAuthentication(late.challengeId, auth.getResponse(late.options)), 'challenge');
    await expect(passkeys.finishAuthentication(inTime.challengeId, auth.getResponse(inTime.options))).resolves.toBeTruthy();
    await expectRefusal(passkeys.finishAuthentication('no-such-challenge', auth.getResponse(inTime.options)), 'challenge');
    const reg = await passkeys.startRegistration(alice);
    const asGet = auth.getResponse({ challenge: reg.options.challenge, rpId: RP_ID });
    await expectRefusal(passkeys.finishAuthentication(reg.challengeId, asGet), 'challenge');
  });

  it('refuses an answer to another challenge, a wrong origin or RP id, and missing UV or UP', async () => {
    const auth = await register(alice);
    const cases: Array<[Bend, PasskeyFailureReason]> = [
      [{ challenge: Buffer.alloc(32, 7).toString('base64url') }, 'challenge'],
      [{ type: 'webauthn.create' }, 'challenge'],
      [{ origin: 'https://evil.test' }, 'origin'],
      [{ origin: 'http://lab.example' }, 'origin'],
      [{ crossOrigin: true }, 'origin'],
      [{ rpId: 'evil.test' }, 'rp'],
      [{ userVerified: false }, 'user-verification'],
      [{ userPresent: false }, 'user-verification'],
    ];
    for (const [bend, reason] of cases) await expectRefusal(signIn(auth, alice.id, bend), reason);
  });

  it('refuses an assertion signed by another key', async () => {
    const auth = await register(alice);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expectRefusal(signIn(auth, alice.id, { signWith: privateKey }), 'signature');
    const wrongKind = generateKeyPairSync('ed25519').privateKey;
    await expectRefusal(signIn(auth, alice.id, { signWith: wrongKind }), 'signature');
  });

  it('refuses an unknown credential', async () => {
    await register(alice);
    const stranger = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
    secrets.push(stranger.credentialId);
    await expectRefusal(signIn(stranger, alice.id), 'unknown-credential');
    await expectRefusal(signIn(stranger, null), 'unknown-credential');
  });

  it("refuses principal A's credential on principal B's challenge or for B", async () => {
    const authA = await register(alice);
    await register(bob);
    await expectRefusal(signIn(authA, bob.id), 'principal');
    await expectRefusal(signIn(authA, alice.id, {}, bob.id), 'principal');
    await expectRefusal(signIn(authA, alice.id, { userHandle: Buffer.from(bob.id).toString('base64url') }), 'principal');
  });

  it('refuses a cloned authenticator whose counter does not move forward', async () => {
    const auth = await register(alice, { counter: 5 });
    const clone = auth.clone();
    await signIn(auth, alice.id); // counter 6
    await expectRefusal(signIn(clone, alice.id), 'counter'); // also 6
    await expectRefusal(signIn(auth, alice.id, { counter: 3 }), 'counter');
    await expectRefusal(signIn(auth, alice.id, { counter: 0 }), 'counter'); // a reset would disable the check
    expect((await store.getCredential(auth.credentialId))?.counter).toBe(6);
    await expect(signIn(auth, alice.id)).resolves.toMatchObject({ principalId: alice.id });
  });

  it('lets an authenticator that does not count (always 0) sign in again and again', async () => {
    const auth = await register(alice);
    for (let i = 0; i < 3; i++) await expect(signIn(auth, alice.id)).resolves.toMatchObject({ principalId: alice.id });
    expect((await store.getCredential(auth.credentialId))?.counter).toBe(0);
    await expect(signIn(auth, alice.id, { counter: 1 })).resolves.toBeTruthy();
    await expectRefusal(signIn(auth, alice.id), 'counter'); // 0 after 1
  });

  it('refuses a malformed body without using up the challenge', async () => {
    const auth = await register(alice);
    const { challengeId, options } = await passkeys.startAuthentication(alice.id);
    const good = auth.getResponse(options);
    const bodies: unknown[] = [
      undefined, [], { ...good, type: 'x' }, { ...good, id: 'short', rawId: 'short' },
      { ...good, response: { ...good.response, signature: 'a+b/' } },
      { ...good, response: { ...good.response, authenticatorData: 'AAAA' } },
      { ...good, response: { ...good.response, clientDataJSON: Buffer.from('{"type":1}').toString('base64url') } },
      { ...good, response: { ...good.response, userHandle: Buffer.alloc(65).toString('base64url') } },
    ];
    for (const body of bodies) await expectRefusal(passkeys.finishAuthentication(challengeId, body as never), 'malformed');
    await expect(passkeys.finishAuthentication(challengeId, good)).resolves.toMatchObject({ principalId: alice.id });
  });

  it('never quotes a challenge, a credential id or the person in a refusal', async () => {
    const auth = await register(alice, { counter: 2 });
    const refusals: unknown[] = [];
    for (const bend of [{ origin: 'https://evil.test' }, { rpId: 'x.test' }, { userVerified: false }, { counter: 0 }]) {
      refusals.push(await signIn(auth, bob.id, bend).catch((e: unknown) => e));
      refusals.push(await signIn(auth, alice.id, bend).catch((e: unknown) => e));
    }
    expect(refusals.every((e) => isPasskeyError(e))).toBe(true);
    for (const e of refusals) {
      const err = e as Error;
      expect(err.cause).toBeUndefined();
      for (const s of secrets) expect(`${err.message} ${err.stack ?? ''}`).not.toContain(s);
    }
  });
});
