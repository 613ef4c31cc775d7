/**
 * The PasskeyStore contract, shown on its in-memory reference implementation: a challenge is
 * consumed once and never at or after expiry, credential ids are unique across principals, the
 * counter only moves forward (compare-and-set), and rows handed out cannot change stored ones.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { isLabkluisError } from '../../src/kernel/index.js';
import { MemoryPasskeyStore, type ChallengeRow, type PasskeyRow } from '../../src/passkeys/index.js';

const challenge = (over: Partial<ChallengeRow> = {}): ChallengeRow => ({
  id: 'ch1', challenge: 'AAAA', purpose: 'authenticate', principalId: null,
  createdAt: '2026-03-01T12:00:00.000Z', expiresAt: '2026-03-01T12:05:00.000Z', usedAt: null, ...over,
});
const credential = (over: Partial<PasskeyRow> = {}): PasskeyRow => ({
  credentialId: 'cred-1', principalId: 'prn-a', publicKey: Buffer.from([1, 2, 3]), counter: 0, transports: ['usb'],
  backedUp: false, deviceType: 'singleDevice', createdAt: '2026-03-01T12:00:00.000Z', lastUsedAt: null, name: 'key', ...over,
});

let store: MemoryPasskeyStore;
beforeEach(() => {
  store = new MemoryPasskeyStore();
});

describe('challenges', () => {
  it('are consumed once, and only before they expire', async () => {
    await store.saveChallenge(challenge());
    await store.saveChallenge(challenge({ id: 'ch2' }));
    expect(await store.consumeChallenge('ch1', '2026-03-01T12:04:59.999Z')).toMatchObject({ id: 'ch1', usedAt: '2026-03-01T12:04:59.999Z' });
    expect(await store.consumeChallenge('ch1', '2026-03-01T12:04:59.999Z')).toBeNull();
    expect(await store.consumeChallenge('ch2', '2026-03-01T12:05:00.000Z')).toBeNull();
    expect(await store.consumeChallenge('nope', '2026-03-01T12:00:00.000Z')).toBeNull();
  });

  it('refuse a reused challenge id', async () => {
    await store.saveChallenge(challenge());
    await expect(store.saveChallenge(challenge())).rejects.toSatisfy((e) => isLabkluisError(e, 'ERR_CONFLICT'));
  });
});

describe('credentials', () => {
  it('are unique by credential id across principals', async () => {
    await store.saveCredential(credential());
    await expect(store.saveCredential(credential({ principalId: 'prn-b' }))).rejects.toSatisfy((e) => isLabkluisError(e, 'ERR_CONFLICT'));
  });

  it('list per principal, oldest first', async () => {
    await store.saveCredential(credential({ credentialId: 'c2', createdAt: '2026-03-02T00:00:00.000Z' }));
    await store.saveCredential(credential({ credentialId: 'c1' }));
    await store.saveCredential(credential({ credentialId: 'c3', principalId: 'prn-b' }));
    expect((await store.listCredentials('prn-a')).map((c) => c.credentialId)).toEqual(['c1', 'c2']);
  });

  it('move the counter forward only (or keep 0 at 0)', async () => {
    await store.saveCredential(credential());
    expect(await store.updateCounter('cred-1', 0, '2026-03-01T13:00:00.000Z')).toBe(true);
    expect(await store.updateCounter('cred-1', 5, '2026-03-01T13:01:00.000Z')).toBe(true);
    expect(await store.updateCounter('cred-1', 5, '2026-03-01T13:02:00.000Z')).toBe(false);
    expect(await store.updateCounter('cred-1', 0, '2026-03-01T13:03:00.000Z')).toBe(false);
    expect(await store.updateCounter('missing', 9, '2026-03-01T13:03:00.000Z')).toBe(false);
    expect(await store.getCredential('cred-1')).toMatchObject({ counter: 5, lastUsedAt: '2026-03-01T13:01:00.000Z' });
  });

  it('are deleted only by their owner', async () => {
    await store.saveCredential(credential());
    expect(await store.deleteCredential('prn-b', 'cred-1')).toBe(false);
    expect(await store.deleteCredential('prn-a', 'cred-1')).toBe(true);
    expect(await store.getCredential('cred-1')).toBeNull();
  });

  it('hand out copies: changing one does not change the store', async () => {
    const row = credential();
    await store.saveCredential(row);
    row.publicKey[0] = 99;
    const got = await store.getCredential('cred-1');
    expect(got?.publicKey[0]).toBe(1);
    got!.publicKey[0] = 42;
    expect(() => (got!.transports as string[]).push('nfc')).toThrow();
    expect((await store.getCredential('cred-1'))?.publicKey[0]).toBe(1);
  });
});
