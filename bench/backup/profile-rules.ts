/**
 * Cost centres of a backup (bench/lib/profile.ts folds a CPU profile into them): each sample
 * goes to the innermost frame on its stack that marks one, native work (hashing, OpenSSL,
 * SQLite) to the JavaScript that called it. The profile is of the main thread: a backup's
 * chunking, MACs and sealing run in the packing thread (pack-worker.ts) and show here only as
 * the messages to and from it; a restore's all show.
 */
import type { CallFrame, Rule } from '../lib/profile.js';

const has = (f: CallFrame, s: string) => f.url.includes(s);

export const BACKUP_RULES: readonly Rule[] = [
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['idle (waiting: file reads, writes and fsync in the thread pool)', (f) => f.functionName === '(idle)'],
  ['object ids (SHA-256 of the sealed bytes)', (f) => f.functionName === 'objectId'],
  ['chunk MACs (HMAC-SHA256 of the plaintext)', (f) => f.functionName === 'mac' && has(f, '/src/backup/objects.ts')],
  ['age (X25519 per object, ChaCha20-Poly1305)', (f) => has(f, '/node_modules/age-encryption/') || has(f, '/node_modules/@noble/')
    || has(f, '/src/backup/age-x25519.ts') || (['seal', 'open', 'openObject'].includes(f.functionName) && has(f, '/src/backup/objects.ts'))],
  ['content-defined chunking (FastCDC)', (f) => has(f, '/src/backup/chunker.ts')],
  ['row encoding / decoding (rows/2)', (f) => has(f, '/src/backup/row-encoding.ts') || has(f, '/src/backup/snapshot-codec.ts')],
  ['handing pieces to the packing thread and packs back', (f) => has(f, '/src/backup/pack-worker.ts') || f.url === 'node:internal/worker' || f.url.startsWith('node:internal/worker/')],
  ['the store: snapshot reads, restore inserts (SQLite)', (f) => has(f, '/src/store/sqlite/') || has(f, '/better-sqlite3/')],
  ['the store: restore (PostgreSQL)', (f) => has(f, '/src/store/postgres/') || has(f, '/node_modules/pg')],
  ['audit log check on restore (Merkle frontier)', (f) => has(f, '/src/audit/')],
  ['target reads and writes (files, fsync, link)', (f) => has(f, '/src/backup/targets/') || f.url.startsWith('node:internal/fs')],
  ['writer / restore bookkeeping (dedup, index, manifest, row checks)', (f) => has(f, '/src/backup/')],
];
