import { writeFile } from 'node:fs/promises';
import { escrowKeyring, openEscrow } from '../../backup/escrow.js';
import { installKeyringText, readKeyringText } from '../../crypto/index.js';
import { LabkluisError } from '../../kernel/index.js';
import { auditOperatorAction } from '../operator.js';
import { openApp } from '../open-app.js';
import { readIdentityFile, readInputFile } from '../input-files.js';
import type { Paths } from '../paths.js';

/**
 * `labkluis keyring escrow --to <age1…> [--to …] --out <file>`: the keyring sealed to offline
 * recipients (each can recover it alone), written to a new file; audited as an operator action.
 */
export async function keyringEscrow(ps: Paths, o: { to: readonly string[]; out: string }, out: (line: string) => void): Promise<void> {
  const text = readKeyringText({ path: ps.keyringPath, dataDir: ps.dataDir });
  const armoured = await escrowKeyring(text, o.to);
  try {
    await writeFile(o.out, armoured, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    throw new LabkluisError('ERR_INVALID_INPUT', (e as NodeJS.ErrnoException).code === 'EEXIST' ? `${o.out} exists; choose a new file` : `cannot write ${o.out}`);
  }
  const app = await openApp(ps);
  try {
    await auditOperatorAction(app, 'E', 'keyring-escrow', [{ type: 'Keyring', id: `recipients-${o.to.length}` }]);
  } finally {
    await app.close();
  }
  out(`keyring escrowed to ${o.to.length} recipient(s) in ${o.out}; keep it apart from the backups, and test a recovery`);
}

/**
 * `labkluis keyring restore --escrow <file> --identity <file>`: recovers the keyring from an
 * escrow file with one recipient's identity, as a new keyring file at --keyring (never over
 * an existing one, never inside the data directory).
 */
export async function keyringRestore(ps: Paths, o: { escrow: string; identity: string }, out: (line: string) => void): Promise<void> {
  const [armoured, identities] = [await readInputFile(o.escrow, 'escrow'), await readIdentityFile(o.identity)];
  const text = await openEscrow(armoured, identities);
  installKeyringText({ text, path: ps.keyringPath, dataDir: ps.dataDir });
  out(`keyring recovered to ${ps.keyringPath}`);
}
