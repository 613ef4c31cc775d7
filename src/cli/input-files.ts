import { readFile } from 'node:fs/promises';
import { LabkluisError } from '../kernel/index.js';

/** A file an operator named on the command line; unreadable is ERR_INVALID_INPUT (one line, exit 2). */
export async function readInputFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new LabkluisError('ERR_INVALID_INPUT', `cannot read the ${what} file ${file}`);
  }
}

/** The identities in an age identity file (as age-keygen writes it: comment lines start with #). */
export async function readIdentityFile(file: string): Promise<string[]> {
  return (await readInputFile(file, 'identity')).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}
