import { writeFile } from 'node:fs/promises';
import { generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { ed25519NoteSigner, verifierKeyString, type NoteSigner } from '../audit/index.js';
import { ed25519FromSeed } from '../crypto/index.js';
import { LabkluisError, systemClock, type Random } from '../kernel/index.js';
import { readInputFile } from './input-files.js';

/**
 * Offline Ed25519 keys kept in a file of their own (the receiver's admin key, the restore
 * drill's key): a 32-byte seed in base64, mode 0600, in a new file. The public half is printed
 * as a verifier key string under the key's name, for whoever checks its signatures.
 */
export async function createSeedKeyFile(file: string, name: string, random: Random): Promise<string> {
  const seed = random.bytes(32);
  try {
    await writeFile(file, `${seed.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch {
    throw new LabkluisError('ERR_INVALID_INPUT', `cannot create ${file} (it must not exist)`);
  }
  return verifierKeyString(name, ed25519FromSeed(seed).publicKey);
}

/** The seed in a key file made by createSeedKeyFile; ERR_INVALID_INPUT for anything else. */
export async function readSeedKeyFile(file: string, what: string): Promise<Buffer> {
  const seed = Buffer.from((await readInputFile(file, what)).trim(), 'base64');
  if (seed.length !== 32) throw new LabkluisError('ERR_INVALID_INPUT', `the ${what} file does not hold a key`);
  return seed;
}

/** A note signer over the key in a key file. */
export async function seedKeySigner(file: string, name: string, what: string): Promise<NoteSigner> {
  return ed25519NoteSigner(name, ed25519FromSeed(await readSeedKeyFile(file, what)).privateKey);
}

/**
 * An offline age identity (X25519, or the post-quantum hybrid) in a new file, mode 0600, as
 * age-keygen writes one; returns its recipient. For the backup host and the security officers.
 */
export async function createIdentityFile(file: string, postQuantum: boolean): Promise<string> {
  const identity = postQuantum ? await generateHybridIdentity() : await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  try {
    await writeFile(file, `# created: ${systemClock.now().toISOString()}\n# public key: ${recipient}\n${identity}\n`, { flag: 'wx', mode: 0o600 });
  } catch {
    throw new LabkluisError('ERR_INVALID_INPUT', `cannot create ${file} (it must not exist)`);
  }
  return recipient;
}
