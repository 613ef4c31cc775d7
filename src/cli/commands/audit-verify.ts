import { verifierKeyString, verifyAuditLog, type VerifyResult } from '../../audit/index.js';
import type { App } from '../../app.js';
import type { Kms } from '../../crypto/index.js';
import { progress } from '../progress.js';

/**
 * Recomputes the whole log: leaf hashes, the MAC chain (with the keyring), every Merkle root
 * and every signed checkpoint. The verifier key comes from the keyring, not from the data
 * directory, so an attacker who rewrote the database cannot also swap the key we trust.
 */
export async function auditVerify(app: App, kms: Kms, origin: string): Promise<VerifyResult> {
  const head = await app.store.auditHead();
  const bar = progress('audit verify', head.size);
  let seen = 0;
  const macKey = (await app.keys.current('*', 'audit-mac')).key;
  const result = await verifyAuditLog({
    store: app.store,
    macKey,
    verifierKey: verifierKeyString(kms.auditSigner.name, kms.auditSigner.publicKey),
    origin,
    onProgress: (size) => {
      bar.advance(size - seen);
      seen = size;
    },
  });
  bar.stop();
  return result;
}
