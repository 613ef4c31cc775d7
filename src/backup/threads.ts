/**
 * Worker threads of a backup (pack-worker.ts, thread-source.ts): each runs an entry file beside
 * this one, the compiled .js; from the TypeScript sources (tests, benchmarks, which run through
 * tsx) the .ts file, with tsx's loader registered in the thread first (a loader does not reach
 * worker threads by itself on Node 20).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Buffers smaller than this may be slices of Node's shared Buffer pool: copied, never moved between threads. */
export const MOVABLE_BYTES = 64 * 1024;

/** The ArrayBuffer behind a piece, when it can be moved to another thread (else null: copy it). */
export function movable(piece: Uint8Array): ArrayBuffer | null {
  return piece.buffer instanceof ArrayBuffer && piece.buffer.byteLength >= MOVABLE_BYTES ? piece.buffer : null;
}

export function startThread(entry: 'pack-worker-thread' | 'source-thread', workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${entry}.js`, import.meta.url), { workerData });
  const code = `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL(`./${entry}.ts`, import.meta.url).href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/** tsx's ESM API (its module.register hooks), as its package exports it. */
function tsxApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const entry = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
  return pathToFileURL(join(dirname(manifest), entry)).href;
}
