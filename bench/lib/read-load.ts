/**
 * Single-report read latency over HTTP: the real Fastify server on 127.0.0.1 (port 0), a
 * requester token of one tenant, and a worker-thread load generator (read-client.mjs). Every
 * read appends a durable audit entry through the group-committing AuditLog; that stays on.
 *
 * The store's appendAudit is wrapped (on the instance, in the benchmark only) to count how
 * many audit entries each durable append carries: the group-commit batch size.
 */
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import type { App } from '../../src/app.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import { accessTokenHash, createDpopProof } from '../../src/sessions/index.js';
import type { AuditSealer, Store } from '../../src/store/index.js';
import { requesterToken } from './fixtures.js';
import { cpuSince, cpuSnapshot, type CpuUse } from './machine.js';
import { pgQueries } from './pg-count.js';
import { round, summarise, type LatencySummary } from './stats.js';

/** What the worker (read-client.mjs) is started with, and what one phase returns. */
interface ClientSetup {
  readonly baseUrl: string;
  /** The server's public URL: the base of each proof's htu (the port it listens on is not part of it). */
  readonly publicUrl: string;
  readonly token: string;
  readonly ath: string;
  readonly privateJwk: Readonly<Record<string, unknown>>;
  readonly ids: readonly string[];
}
interface RawPhase {
  readonly requests: number;
  readonly result: PhaseResult;
  readonly cpu: CpuUse;
  readonly wallSeconds: number;
  readonly calls: number;
  readonly entries: number;
  readonly pgQueries: number;
}
interface PhaseResult {
  readonly latenciesMs: Float64Array;
  readonly seconds: number;
  readonly statuses: Record<string, number>;
  readonly bytes: number;
}

export interface ReadPhase {
  readonly requests: number;
  /** Closed loop: clients, each waiting for its answer. 0 for an open-loop phase. */
  readonly concurrency: number;
  /** Open loop only: requests started per second on a fixed schedule. */
  readonly offeredRate?: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: LatencySummary;
  readonly statuses: Record<string, number>;
  readonly meanResponseBytes: number;
  /** Durable audit appends during the phase, and entries per append (group-commit batch size). */
  readonly auditAppends: { readonly calls: number; readonly entries: number; readonly entriesPerAppend: number };
  /** This process's CPU (server and client threads) and other processes' load during the phase. */
  readonly cpu: CpuUse;
  /** PostgreSQL only: Client.query calls (round trips) per HTTP request. */
  readonly pgRoundTripsPerRequest?: number;
}

/** What-if switch for an experiment: yield one macrotask before each durable append. */
export type AppendMode = 'as-is' | 'yield-before-append';

export class ReadSession {
  readonly #worker: Worker;
  readonly #close: () => Promise<void>;
  readonly #counter: { calls: number; entries: number; mode: AppendMode };
  readonly #backend: string;
  readonly concurrency: number;
  readonly baseUrl: string;

  private constructor(worker: Worker, close: () => Promise<void>, counter: { calls: number; entries: number; mode: AppendMode }, concurrency: number, baseUrl: string, backend: string) {
    this.#worker = worker;
    this.#backend = backend;
    this.#close = close;
    this.#counter = counter;
    this.concurrency = concurrency;
    this.baseUrl = baseUrl;
  }

  static async start(app: App, tenant: string, ids: readonly string[], concurrency: number): Promise<ReadSession> {
    if (ids.length === 0) throw new Error('no report ids to read');
    const counter = countAuditAppends(app.store);
    const publicUrl = 'http://127.0.0.1';
    const server = app.server({ baseUrl: publicUrl });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    const { token, key } = await requesterToken(app, tenant);
    // One read from here first: a wrong setup fails loudly instead of timing 401s or 404s.
    const path = `/fhir/DiagnosticReport/${ids[0]}`;
    const dpop = await createDpopProof(key, { method: 'GET', url: publicUrl + path, accessToken: token, clock: systemClock, random: systemRandom });
    const probe = await fetch(baseUrl + path, { headers: { authorization: `DPoP ${token}`, dpop } });
    const probeBody = await probe.text();
    if (probe.status !== 200) throw new Error(`probe read failed: ${probe.status} ${probeBody.slice(0, 200)}`);
    const setup: ClientSetup = { baseUrl, publicUrl, token, ath: accessTokenHash(token), privateJwk: { ...key.privateJwk }, ids: [...ids] };
    const worker = new Worker(new URL('./read-client.mjs', import.meta.url), { workerData: setup });
    worker.unref();
    const close = async () => {
      await worker.terminate();
      await server.close();
    };
    return new ReadSession(worker, close, counter, concurrency, baseUrl, app.store.backend);
  }

  /** One phase: `requests` reads by `concurrency` clients. */
  async run(requests: number, concurrency = this.concurrency): Promise<ReadPhase> {
    return this.#merge([await this.#raw(requests, concurrency)], concurrency);
  }

  /** One open-loop phase: `requests` reads started at `rate` per second. */
  async runOpen(requests: number, rate: number): Promise<ReadPhase> {
    return { ...this.#merge([await this.#raw(requests, 0, rate)], 0), offeredRate: rate };
  }

  /**
   * A/B in one stretch of time: chunks of `perChunk` requests alternate between the append
   * modes (ABBA order), so load from elsewhere falls on both alike; each mode's chunks merged.
   */
  async alternate(perChunk: number, pairs: number, concurrency = this.concurrency): Promise<Record<AppendMode, ReadPhase>> {
    const parts: Record<AppendMode, RawPhase[]> = { 'as-is': [], 'yield-before-append': [] };
    for (let i = 0; i < pairs; i++) {
      const order: AppendMode[] = i % 2 === 0 ? ['as-is', 'yield-before-append'] : ['yield-before-append', 'as-is'];
      for (const mode of order) {
        this.#counter.mode = mode;
        parts[mode].push(await this.#raw(perChunk, concurrency));
      }
    }
    this.#counter.mode = 'as-is';
    return { 'as-is': this.#merge(parts['as-is'], concurrency), 'yield-before-append': this.#merge(parts['yield-before-append'], concurrency) };
  }

  /**
   * A/B between two sessions in one stretch of time (the same store served by two apps, say
   * with the sentinel on and off): chunks of `perChunk` requests alternate in ABBA order, so
   * load from elsewhere falls on both alike; each side's chunks merged.
   */
  static async alternateSessions(a: ReadSession, b: ReadSession, perChunk: number, pairs: number, concurrency = a.concurrency): Promise<{ a: ReadPhase; b: ReadPhase }> {
    const parts: { a: RawPhase[]; b: RawPhase[] } = { a: [], b: [] };
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
      for (const side of order) parts[side].push(await (side === 'a' ? a : b).#raw(perChunk, concurrency));
    }
    return { a: a.#merge(parts.a, concurrency), b: b.#merge(parts.b, concurrency) };
  }

  async #raw(requests: number, concurrency: number, rate?: number): Promise<RawPhase> {
    this.#counter.calls = 0;
    this.#counter.entries = 0;
    const cpuStart = cpuSnapshot();
    const pgBefore = pgQueries.count;
    const result = await new Promise<PhaseResult>((resolve, reject) => {
      const onMessage = (msg: { ok: true; result: PhaseResult } | { ok: false; error: string }) => {
        this.#worker.off('error', onError);
        if (msg.ok) resolve(msg.result);
        else reject(new Error(`read client failed: ${msg.error}`));
      };
      const onError = (e: Error) => {
        this.#worker.off('message', onMessage);
        reject(e);
      };
      this.#worker.once('message', onMessage);
      this.#worker.once('error', onError);
      this.#worker.postMessage({ requests, concurrency, ...(rate ? { rate } : {}) });
    });
    const end = cpuSnapshot();
    return {
      requests, result, cpu: cpuSince(cpuStart, end), wallSeconds: (end.wallMs - cpuStart.wallMs) / 1000,
      calls: this.#counter.calls, entries: this.#counter.entries, pgQueries: pgQueries.count - pgBefore,
    };
  }

  #merge(parts: readonly RawPhase[], concurrency: number): ReadPhase {
    const requests = parts.reduce((n, p) => n + p.requests, 0);
    const seconds = parts.reduce((n, p) => n + p.result.seconds, 0);
    const wall = parts.reduce((n, p) => n + p.wallSeconds, 0);
    const latencies = new Float64Array(requests);
    let at = 0;
    const statuses: Record<string, number> = {};
    for (const p of parts) {
      latencies.set(p.result.latenciesMs, at);
      at += p.result.latenciesMs.length;
      for (const [k, v] of Object.entries(p.result.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    }
    const calls = parts.reduce((n, p) => n + p.calls, 0);
    const entries = parts.reduce((n, p) => n + p.entries, 0);
    const pgTrips = parts.reduce((n, p) => n + p.pgQueries, 0);
    return {
      requests,
      concurrency,
      seconds: round(seconds, 3),
      requestsPerSecond: round(requests / seconds, 0),
      latencyMs: summarise(latencies),
      statuses,
      meanResponseBytes: Math.round(parts.reduce((n, p) => n + p.result.bytes, 0) / requests),
      auditAppends: { calls, entries, entriesPerAppend: round(entries / Math.max(1, calls), 2) },
      cpu: {
        ownCpuSeconds: round(parts.reduce((n, p) => n + p.cpu.ownCpuSeconds, 0), 3),
        otherCores: round(parts.reduce((n, p) => n + p.cpu.otherCores * p.wallSeconds, 0) / wall, 2),
        stealCores: round(parts.reduce((n, p) => n + p.cpu.stealCores * p.wallSeconds, 0) / wall, 2),
      },
      ...(this.#backend === 'postgres' ? { pgRoundTripsPerRequest: round(pgTrips / requests, 2) } : {}),
    };
  }

  close(): Promise<void> {
    return this.#close();
  }
}

/**
 * Shadows store.appendAudit on the instance with a counting wrapper (the AuditLog calls it
 * through the same object). In 'yield-before-append' mode it first lets one macrotask pass,
 * the smallest change that lets requests already on the sockets join the next group; only
 * the what-if experiment uses it.
 */
function countAuditAppends(store: Store): { calls: number; entries: number; mode: AppendMode } {
  const counter = { calls: 0, entries: 0, mode: 'as-is' as AppendMode };
  const original = store.appendAudit.bind(store);
  (store as { appendAudit: Store['appendAudit'] }).appendAudit = async (seal: AuditSealer) => {
    if (counter.mode === 'yield-before-append') await new Promise<void>((resolve) => setImmediate(resolve));
    const rows = await original(seal);
    counter.calls += 1;
    counter.entries += rows.length;
    return rows;
  };
  return counter;
}
