/**
 * The PasskeyStore contract's reference implementation, used by tests and by a single-process
 * dev server. It keeps everything in Maps, hands out frozen copies (a caller cannot change a
 * stored row through a returned one), and is atomic because JavaScript runs each method to
 * completion without awaiting in between. A database implementation must give the same
 * guarantees with a unique key on credentialId and single-statement conditional updates.
 */
import { conflict } from '../kernel/index.js';
import type { ChallengeRow, PasskeyRow, PasskeyStore } from './types.js';

const freezeCredential = (row: PasskeyRow): PasskeyRow =>
  Object.freeze({ ...row, publicKey: Buffer.from(row.publicKey), transports: Object.freeze([...row.transports]) });

export class MemoryPasskeyStore implements PasskeyStore {
  readonly #credentials = new Map<string, PasskeyRow>();
  readonly #challenges = new Map<string, ChallengeRow>();

  async saveCredential(row: PasskeyRow): Promise<void> {
    if (this.#credentials.has(row.credentialId)) throw conflict('credential already registered');
    this.#credentials.set(row.credentialId, freezeCredential(row));
  }

  async getCredential(credentialId: string): Promise<PasskeyRow | null> {
    const row = this.#credentials.get(credentialId);
    return row === undefined ? null : freezeCredential(row);
  }

  async listCredentials(principalId: string): Promise<PasskeyRow[]> {
    return [...this.#credentials.values()]
      .filter((row) => row.principalId === principalId)
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))
      .map(freezeCredential);
  }

  async updateCounter(credentialId: string, counter: number, lastUsedAt: string): Promise<boolean> {
    const row = this.#credentials.get(credentialId);
    if (row === undefined) return false;
    const advances = counter > row.counter || (counter === 0 && row.counter === 0);
    if (!advances) return false;
    this.#credentials.set(credentialId, freezeCredential({ ...row, counter, lastUsedAt }));
    return true;
  }

  async deleteCredential(principalId: string, credentialId: string): Promise<boolean> {
    const row = this.#credentials.get(credentialId);
    if (row === undefined || row.principalId !== principalId) return false;
    return this.#credentials.delete(credentialId);
  }

  async deleteCredentialUnlessLast(principalId: string, credentialId: string): Promise<'deleted' | 'unknown' | 'last'> {
    const row = this.#credentials.get(credentialId);
    if (row === undefined || row.principalId !== principalId) return 'unknown';
    const owned = [...this.#credentials.values()].filter((r) => r.principalId === principalId).length;
    if (owned <= 1) return 'last';
    this.#credentials.delete(credentialId);
    return 'deleted';
  }

  async saveChallenge(row: ChallengeRow): Promise<void> {
    if (this.#challenges.has(row.id)) throw conflict('challenge id already used');
    // Expired challenges are useless; dropping them here keeps a long-running dev server bounded.
    const now = Date.parse(row.createdAt);
    for (const [id, old] of this.#challenges) if (Date.parse(old.expiresAt) <= now) this.#challenges.delete(id);
    this.#challenges.set(row.id, Object.freeze({ ...row }));
  }

  async consumeChallenge(id: string, at: string): Promise<ChallengeRow | null> {
    const row = this.#challenges.get(id);
    if (row === undefined || row.usedAt !== null) return null;
    if (!(Date.parse(at) < Date.parse(row.expiresAt))) return null;
    const used = Object.freeze({ ...row, usedAt: at });
    this.#challenges.set(id, used);
    return used;
  }

  async deleteExpiredChallenges(before: string): Promise<number> {
    const cutoff = Date.parse(before);
    let deleted = 0;
    for (const [id, row] of this.#challenges) {
      if (Date.parse(row.expiresAt) <= cutoff && this.#challenges.delete(id)) deleted++;
    }
    return deleted;
  }
}
