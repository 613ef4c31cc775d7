/**
 * Database rows of the passkey part to the contract's row types, for both backends. Transports
 * decode differently (JSON text in SQLite, text[] in PostgreSQL), and so do booleans (0/1 or
 * true/false); the counter goes through Number() because PostgreSQL keeps it as a bigint.
 */
import type { ChallengePurpose, ChallengeRow, PasskeyRow } from './passkey-types.js';
import { buf, str, strOrNull, type ColumnDecoders, type DbRow } from './row-mapping.js';


export function passkeyRowMappers({ strings, flag }: Pick<ColumnDecoders, 'strings' | 'flag'>) {
  return Object.freeze({
    toPasskey: (r: DbRow): PasskeyRow => ({
      credentialId: str(r.credential_id), principalId: str(r.principal_id), publicKey: buf(r.public_key),
      counter: Number(r.counter), transports: Object.freeze(strings(r.transports)), backedUp: flag(r.backed_up),
      deviceType: str(r.device_type) as PasskeyRow['deviceType'], createdAt: str(r.created_at),
      lastUsedAt: strOrNull(r.last_used_at), name: str(r.name),
    }),
    toChallenge: (r: DbRow): ChallengeRow => ({
      id: str(r.id), challenge: str(r.challenge), purpose: str(r.purpose) as ChallengePurpose,
      principalId: strOrNull(r.principal_id), createdAt: str(r.created_at), expiresAt: str(r.expires_at),
      usedAt: strOrNull(r.used_at),
    }),
  });
}
