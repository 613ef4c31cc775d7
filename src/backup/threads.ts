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
import { Worker, type Transferable } from 'node:worker_threads';
import { isLabkluisError, LabkluisError, type ErrorCode } from '../kernel/index.js';

/** Buffers smaller than this may be slices of Node's shared Buffer pool: copied, never moved between threads. */
export const MOVABLE_BYTES = 64 * 1024;

/** The ArrayBuffer behind a piece, when it can be moved to another thread (else null: copy it). */
export function movable(piece: Uint8Array): ArrayBuffer | null {
  return piece.buffer instanceof ArrayBuffer && piece.buffer.byteLength >= MOVABLE_BYTES ? piece.buffer : null;
}

export function startThread(entry: 'pack-worker-thread' | 'source-thread', workerData: unknown, transferList: Transferable[] = []): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${entry}.js`, import.meta.url), { workerData, transferList });
  const code = `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL(`./${entry}.ts`, import.meta.url).href)}); });`;
  return new Worker(code, { eval: true, workerData, transferList });
}

/** An error as one thread tells another: its stable code when it has one, and its message. */
export interface ThreadError {
  readonly code?: string;
  readonly message: string;
}

export function toThreadError(e: unknown): ThreadError {
  return { code: isLabkluisError(e) ? e.code : undefined, message: e instanceof Error ? e.message : String(e) };
}

export function fromThreadError(e: ThreadError): Error {
  return e.code !== undefined ? new LabkluisError(e.code as ErrorCode, e.message) : new Error(e.message);
}

/** A thread's messages in order, with its failure or exit as a last one. */
export class Mailbox<T> {
  readonly #items: T[] = [];
  #waiting: ((m: T) => void) | null = null;

  /**
   * Listens to `worker`; `failed` turns a thread's failure or exit into a message. With
   * `doneAtZero`, a thread that ends by itself (exit 0) has just finished its work: not a failure.
   */
  listen(worker: Worker, failed: (message: string) => T, o: { doneAtZero?: boolean } = {}): this {
    worker.on('message', (m: T) => this.put(m));
    worker.on('error', (e: Error) => this.put(failed(e.message)));
    worker.on('exit', (code) => {
      if (code !== 0 || o.doneAtZero !== true) this.put(failed(`a backup thread stopped (exit ${code})`));
    });
    return this;
  }

  put(m: T): void {
    if (this.#waiting !== null) {
      const w = this.#waiting;
      this.#waiting = null;
      w(m);
    } else {
      this.#items.push(m);
    }
  }

  next(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return new Promise((resolve) => (this.#waiting = resolve));
  }
}

/** tsx's ESM API (its module.register hooks), as its package exports it. */
function tsxApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const entry = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
  return pathToFileURL(join(dirname(manifest), entry)).href;
}
