import { hkdfSync } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { LabkluisError, type Random } from '../kernel/index.js';
import { openAesGcm, sealAesGcm } from './aead.js';
import { ed25519FromSeed, ed25519Sign } from './ed25519.js';
import type { Kms } from './kms.js';

/**
 * The default KMS: a keyring file, mode 0600, that must live outside the data directory,
 * so that a copy of the data directory (database, WAL, backups of it) holds only ciphertext.
 * It holds the key-encryption key and the audit checkpoint signing seed; data keys are
 * stored wrapped in the database.
 */
const KeyringFile = z.strictObject({
  format: z.literal('labkluis-keyring/1'),
  kek: z.strictObject({ id: z.string().regex(/^[a-z0-9-]{4,64}$/), key: z.base64() }),
  audit: z.strictObject({ name: z.string().regex(/^[\x21-\x2a\x2c-\x7e]{1,64}$/), seed: z.base64() }),
});
type KeyringFile = z.infer<typeof KeyringFile>;

export interface CreateKeyringOptions {
  readonly path: string;
  readonly dataDir: string;
  readonly signerName: string;
  readonly random: Random;
}

/** Writes a new keyring. Refuses to overwrite an existing file or to sit inside the data dir. */
export function createLocalKeyring({ path, dataDir, signerName, random }: CreateKeyringOptions): Kms {
  assertOutsideDataDir(path, dataDir);
  if (existsSync(path)) throw new LabkluisError('ERR_KEYRING', 'a keyring already exists at that path; refusing to overwrite it');
  const file: KeyringFile = {
    format: 'labkluis-keyring/1',
    kek: { id: `kek-${random.bytes(6).toString('hex')}`, key: random.bytes(32).toString('base64') },
    audit: { name: signerName, seed: random.bytes(32).toString('base64') },
  };
  mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600); // O_EXCL: never clobber a keyring
  } catch (e) {
    throw new LabkluisError('ERR_KEYRING', 'cannot create the keyring file', { cause: e });
  }
  try {
    writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return kmsFromFile(file, random);
}

export function loadLocalKeyring({ path, dataDir, random }: { path: string; dataDir: string; random: Random }): Kms {
  assertOutsideDataDir(path, dataDir);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LabkluisError('ERR_KEYRING', 'cannot read the keyring file', { cause: e });
  }
  const parsed = KeyringFile.safeParse(raw);
  if (!parsed.success) throw new LabkluisError('ERR_KEYRING', 'the keyring file is not a labkluis keyring');
  return kmsFromFile(parsed.data, random);
}

/**
 * The keyring file's text, checked to be a labkluis keyring: what `keyring escrow` encrypts to
 * the offline recipients. It never leaves this process unencrypted.
 */
export function readKeyringText({ path, dataDir }: { path: string; dataDir: string }): string {
  assertOutsideDataDir(path, dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LabkluisError('ERR_KEYRING', 'cannot read the keyring file', { cause: e });
  }
  checkKeyringText(text);
  return text;
}

/**
 * Writes a keyring recovered from escrow as a new keyring file (mode 0600, outside the data
 * directory), after checking it is one. Never overwrites an existing file.
 */
export function installKeyringText({ text, path, dataDir }: { text: string; path: string; dataDir: string }): void {
  assertOutsideDataDir(path, dataDir);
  checkKeyringText(text);
  mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    throw new LabkluisError('ERR_KEYRING', (e as NodeJS.ErrnoException).code === 'EEXIST'
      ? 'a keyring already exists at that path; refusing to overwrite it'
      : 'cannot create the keyring file', { cause: e });
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A keyring held in memory only, from its text (as escrow gives it back): for a restore drill,
 * which must not leave the keys on the backup host's disk if it is killed half-way.
 */
export function keyringFromText(text: string, random: Random): Kms {
  checkKeyringText(text);
  return kmsFromFile(KeyringFile.parse(JSON.parse(text)), random);
}

function checkKeyringText(text: string): void {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LabkluisError('ERR_KEYRING', 'not a labkluis keyring (not JSON)');
  }
  const parsed = KeyringFile.safeParse(raw);
  if (!parsed.success) throw new LabkluisError('ERR_KEYRING', 'not a labkluis keyring');
  if (Buffer.from(parsed.data.kek.key, 'base64').length !== 32 || Buffer.from(parsed.data.audit.seed, 'base64').length !== 32) {
    throw new LabkluisError('ERR_KEYRING', 'the keyring holds keys of the wrong size');
  }
}

function kmsFromFile(file: KeyringFile, random: Random): Kms {
  const kek = Buffer.from(file.kek.key, 'base64');
  const seed = Buffer.from(file.audit.seed, 'base64');
  if (kek.length !== 32 || seed.length !== 32) throw new LabkluisError('ERR_KEYRING', 'the keyring file holds keys of the wrong size');
  const pair = ed25519FromSeed(seed);
  // The backup key: derived from the audit seed for a purpose of its own (HKDF), so a keyring
  // file of this format holds it without a new field, and escrow carries it along.
  const backup = ed25519FromSeed(Buffer.from(hkdfSync('sha256', seed, 'labkluis', 'backup-manifest-signing/v1', 32)));
  const aad = (kekId: string, context: string) => Buffer.from(`labkluis-wrap/v1\x1f${kekId}\x1f${context}`, 'utf8');
  return Object.freeze({
    kekId: file.kek.id,
    wrap: async (key: Buffer, context: string) => sealAesGcm(kek, random.bytes(12), key, aad(file.kek.id, context)),
    unwrap: async (wrapped: Buffer, kekId: string, context: string) => {
      if (kekId !== file.kek.id) throw new LabkluisError('ERR_KEYRING', 'this keyring does not hold the key that wrapped this data key');
      return openAesGcm(kek, wrapped, aad(kekId, context));
    },
    auditSigner: Object.freeze({
      name: file.audit.name,
      publicKey: pair.publicKey,
      sign: (message: Buffer) => ed25519Sign(pair.privateKey, message),
    }),
    backupSigner: Object.freeze({
      name: `${file.audit.name}/backup`,
      publicKey: backup.publicKey,
      sign: (message: Buffer) => ed25519Sign(backup.privateKey, message),
    }),
  });
}

/** The keyring may not sit inside the data directory (nor be the directory itself). */
export function assertOutsideDataDir(keyringPath: string, dataDir: string): void {
  const k = realish(keyringPath);
  const d = realish(dataDir);
  const rel = relative(d, k);
  const outside = rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  if (rel === '' || !outside) {
    throw new LabkluisError('ERR_KEYRING', 'the keyring may not be inside the data directory: keep it on another path (or host)');
  }
}

/** realpath of the longest existing prefix, so symlinked parents cannot hide containment. */
function realish(p: string): string {
  let cur = resolve(p);
  const tail: string[] = [];
  while (!existsSync(cur)) {
    const parent = dirname(cur);
    if (parent === cur) break;
    tail.unshift(cur.slice(parent.length + 1));
    cur = parent;
  }
  return resolve(realpathSync(cur), ...tail);
}
