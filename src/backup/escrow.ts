/**
 * Keyring escrow (issue 5): the keyring, apart from the data backups, encrypted to one or more
 * offline recipients (for example two security officers' age keys, each able to recover it
 * alone), as an ASCII-armoured age file. Recovery decrypts it with one of their identities and
 * installs it as a new keyring file; the data backups cannot be opened with it alone (they are
 * sealed to the backup recipients), nor the escrow with the backup identity unless it is one of
 * the escrow's recipients.
 */
import { armor, Decrypter, Encrypter } from 'age-encryption';
import { LabkluisError } from '../kernel/index.js';
import { checkRecipients } from './objects.js';

/** The keyring text sealed to the recipients, ASCII-armoured (it travels by mail or on paper). */
export async function escrowKeyring(keyringText: string, recipients: readonly string[]): Promise<string> {
  const e = new Encrypter();
  for (const r of checkRecipients(recipients)) e.addRecipient(r);
  return armor.encode(await e.encrypt(keyringText));
}

/** The keyring text from an escrow file, with one of the recipients' identities. */
export async function openEscrow(armoured: string, identities: readonly string[]): Promise<string> {
  let sealed: Uint8Array;
  try {
    sealed = armor.decode(armoured);
  } catch {
    throw new LabkluisError('ERR_INVALID_INPUT', 'not an age-armoured keyring escrow');
  }
  const d = new Decrypter();
  for (const i of identities) {
    try {
      d.addIdentity(i.trim());
    } catch {
      throw new LabkluisError('ERR_INVALID_INPUT', 'not an age identity (AGE-SECRET-KEY-1…, as age-keygen writes it)');
    }
  }
  try {
    return await d.decrypt(sealed, 'text');
  } catch {
    throw new LabkluisError('ERR_INTEGRITY', 'the escrow does not open with the given identity, or it was changed');
  }
}
