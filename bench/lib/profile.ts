/**
 * Where the time goes: a V8 CPU profile of one phase (node:inspector, the same sampler as
 * `node --cpu-prof`, but scoped to the phase), folded into cost centres.
 *
 * Each sample is charged to the innermost frame on its stack that marks a cost centre, so
 * Merkle hashing inside a SQLite commit counts as audit sealing, and the HMAC inside
 * blindToken counts as blind index, not as generic crypto. Native work (SQLite statements,
 * fsync in COMMIT, OpenSSL) is charged to the JavaScript frame that called it.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { round } from './stats.js';

export interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface CostCentre { readonly centre: string; readonly ms: number; readonly percent: number }
export interface ProfileSummary {
  readonly label: string;
  readonly wallMs: number;
  readonly sampledMs: number;
  /** Per unit of work (resource or request): busy (non-idle) CPU time of the main thread. */
  readonly busyMsPerUnit: number;
  readonly units: number;
  readonly unit: string;
  readonly centres: readonly CostCentre[];
  readonly topSelf: readonly { readonly frame: string; readonly ms: number; readonly percent: number }[];
  /** BEGIN IMMEDIATE and COMMIT of better-sqlite3's transaction wrapper (WAL write + fsync). */
  readonly sqliteBeginCommitMs: number;
}

/** Profiles `work` on the main thread. */
export async function profiled<T>(work: () => Promise<T>): Promise<{ result: T; profile: CpuProfile; wallMs: number }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    const t0 = performance.now();
    const result = await work();
    const wallMs = performance.now() - t0;
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    await session.post('Profiler.disable');
    return { result, profile, wallMs };
  } finally {
    session.disconnect();
  }
}

export function saveProfile(profile: CpuProfile, path: string): void {
  writeFileSync(path, JSON.stringify(profile));
}

const SQLITE_BEGIN_COMMIT = 'SQLite BEGIN IMMEDIATE / COMMIT (WAL write + fsync, checkpoints)';

/** A cost centre and the frames that mark it (innermost match on a sample's stack wins). */
export type Rule = readonly [centre: string, test: (f: CallFrame) => boolean];

const has = (f: CallFrame, s: string) => f.url.includes(s);
const fn = (f: CallFrame, ...names: string[]) => names.includes(f.functionName);

/** Innermost match wins; order only matters for a frame that two rules would both match. */
const RULES: readonly Rule[] = [
  ['GC', (f) => fn(f, '(garbage collector)')],
  ['idle (event loop waiting: PostgreSQL, sockets)', (f) => fn(f, '(idle)')],
  ['blind index (HMAC-SHA256 tokens)', (f) => fn(f, 'blindToken')],
  ['encryption (AES-256-GCM seal/open, nonce)', (f) => has(f, '/src/crypto/aead.ts') || has(f, '/src/crypto/envelope.ts')],
  ['SQLite statements (inserts, index updates, selects)', (f) => has(f, '/src/store/sqlite/') || has(f, '/better-sqlite3/')],
  ['PostgreSQL client (pg driver, protocol, row parsing)', (f) => has(f, '/src/store/postgres/') || /\/node_modules\/pg[-/]/.test(f.url) || has(f, '/node_modules/pg/')],
  ['audit sealing (canonical JSON, Merkle, MAC chain, checkpoints)', (f) => has(f, '/src/audit/')],
  ['FHIR validation (zod schemas + rules)', (f) => fn(f, 'validateResource') || has(f, '/node_modules/zod/')],
  ['references + index fields', (f) => fn(f, 'indexFieldsOf', 'rewriteReferences', 'listReferences')],
  ['record encode/decode (JSON.stringify/parse, row build)', (f) => has(f, '/src/vault/records.ts')],
  ['authentication (token + principal lookup)', (f) => has(f, '/src/auth/')],
  // Socket frames (node:net, streams) are left to whoever called them: pg's writes count as
  // PostgreSQL client, a response's writes as HTTP.
  ['HTTP (Fastify, node:http)', (f) => has(f, '/src/api/') || has(f, '/fastify/') || has(f, '/find-my-way/') || has(f, '/fast-json-stringify/') || has(f, '/avvio/')
    || has(f, '/light-my-request/') || f.url.startsWith('node:_http') || f.url.startsWith('node:http') || f.url.startsWith('node:internal/http')],
  ['vault logic (plan, policy, rules, trail, ids)', (f) => has(f, '/src/vault/')],
  ['bench harness + demo data', (f) => has(f, '/bench/') || has(f, '/src/demo/')],
];

function shortFrame(f: CallFrame): string {
  const url = f.url.replace(/^file:\/\//, '').replace(/^.*?\/(src|bench|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${url || '(native)'}${url ? `:${f.lineNumber + 1}` : ''}`;
}

/** `rules`: the cost centres (default: the vault's, for ingest and reads; the backup bench brings its own). */
export function summariseProfile(profile: CpuProfile, label: string, wallMs: number, units: number, unit: string, rules: readonly Rule[] = RULES): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Time per node: a sample lasts until the next one.
  const timeOf = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    timeOf.set(profile.samples[i]!, (timeOf.get(profile.samples[i]!) ?? 0) + dt);
  }
  const centres = new Map<string, number>();
  const self = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let beginCommit = 0;
  const centreCache = new Map<number, string>();
  const centreOf = (id: number): string => {
    const cached = centreCache.get(id);
    if (cached) return cached;
    let cur: number | undefined = id;
    let child: CallFrame | null = null;
    let found = 'other (socket reads, microtasks, Node internals)';
    while (cur !== undefined) {
      const frame = byId.get(cur)!.callFrame;
      // The transaction wrapper itself, or a native call made directly by it, is BEGIN or COMMIT.
      if (frame.functionName === 'sqliteTransaction' && (child === null || child.url === '')) {
        found = SQLITE_BEGIN_COMMIT;
        break;
      }
      // Once hot, V8 may inline the wrapper into the store's `run(() => db.transaction(...))`
      // lambda; a native call whose caller is that lambda is then BEGIN or COMMIT too.
      if (child !== null && child.url === '' && child.functionName === 'run' && frame.functionName === '' && has(frame, '/src/store/sqlite/')) {
        const up = parent.get(cur);
        const above = up === undefined ? null : byId.get(up)!.callFrame;
        if (above && above.functionName === 'run' && has(above, '/src/store/sqlite/')) {
          found = SQLITE_BEGIN_COMMIT;
          break;
        }
      }
      const rule = rules.find(([, test]) => test(frame));
      if (rule) {
        found = rule[0];
        break;
      }
      child = frame;
      cur = parent.get(cur);
    }
    centreCache.set(id, found);
    return found;
  };
  for (const [id, ms] of timeOf) {
    const node = byId.get(id)!;
    total += ms;
    if (node.callFrame.functionName === '(idle)') idle += ms;
    const c = centreOf(id);
    if (c === SQLITE_BEGIN_COMMIT) beginCommit += ms;
    centres.set(c, (centres.get(c) ?? 0) + ms);
    const k = shortFrame(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + ms);
  }
  const pct = (ms: number) => round((ms / Math.max(total, 1e-9)) * 100, 1);
  return {
    label,
    wallMs: round(wallMs, 0),
    sampledMs: round(total, 0),
    busyMsPerUnit: round((total - idle) / Math.max(units, 1), 4),
    units,
    unit,
    centres: [...centres].sort((a, b) => b[1] - a[1]).map(([centre, ms]) => ({ centre, ms: round(ms, 0), percent: pct(ms) })),
    topSelf: [...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([frame, ms]) => ({ frame, ms: round(ms, 0), percent: pct(ms) })),
    sqliteBeginCommitMs: round(beginCommit, 0),
  };
}
