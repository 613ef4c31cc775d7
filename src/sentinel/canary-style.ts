/**
 * What a tenant's records look like, learned from a sample of its own clinical records, so that
 * its canary patients (canaries.ts) look the same: the labels every record carries (a demo
 * tenant's HTEST, a source system's tag), the specimen barcode format, how collection dates are
 * spread, who orders, and which device reports each test.
 *
 * The sample is read straight from the store and decrypted here, in memory: nothing of it is
 * handed out, logged or kept, so it is no access in the sense of DESIGN.md invariant 1 and has
 * no audit entry. Identity (Patient) records are not read. Records of existing canaries are
 * left out, so canaries never learn from canaries.
 */
import type { DataKeys, RecordCipher } from '../crypto/index.js';
import type { Random } from '../kernel/index.js';
import { HTEST, LOINC, type Coding } from '../domain/index.js';
import type { ResourceRow, ResourceType, Store } from '../store/index.js';

export interface TenantStyle {
  readonly tenant: string;
  /** The tenant's kind of work ('screening', 'gp-practice', 'hospital', 'client', ...). */
  readonly kind: string;
  /** Labels every sampled record carries; none: canaries carry no meta at all. */
  readonly security: readonly Coding[];
  readonly tag: readonly Coding[];
  /** HTEST among the labels: a synthetic (demo, test) tenant; identities then look like the demo's. */
  readonly synthetic: boolean;
  /** Barcodes of the tenant's specimens (values only, for their format); empty: the lab's default format. */
  readonly barcodes: readonly string[];
  /** Collection times (ms) of the tenant's specimens, at least MIN_AGE_DAYS old; few: the demo's spread. */
  readonly collected: readonly number[];
  /** The most common orderer; null: the tenant's own Organization. */
  readonly requester: string | null;
  /** LOINC code -> the Device reference that most often reports it. */
  readonly devices: ReadonlyMap<string, string>;
}

/** Canary episodes are at least this old: a client's routine "what is new" poll never meets one. */
export const MIN_AGE_DAYS = 10;
const DAY = 86_400_000;
const ROWS = 500; // rows whose index columns (dates) are looked at, per type
const OPENED = 60; // of those, records decrypted for their contents, per type
const PAGE = 50; // rows read at each place of a tenant's history

export interface StyleDeps {
  readonly store: Store;
  readonly keys: DataKeys;
  readonly cipher: RecordCipher;
  /** Where in the tenant's history to look. */
  readonly random: Random;
}

export async function learnStyle(d: StyleDeps, tenant: string, kind: string, nowMs: number): Promise<TenantStyle> {
  const canaries = new Set((await d.store.sentinel.listCanaries(tenant)).map((c) => c.pseudonym));
  const sample = async (type: ResourceType): Promise<ResourceRow[]> =>
    (await spreadSample(d, tenant, type)).filter((r) => r.pseudonym === null || !canaries.has(r.pseudonym));
  const open = async (row: ResourceRow): Promise<Record<string, unknown>> => {
    const key = await d.keys.version(row.tenant, 'clinical', d.cipher.keyVersionOf(row.body));
    return JSON.parse(d.cipher.open(key, { tenant: row.tenant, type: row.type, id: row.id, version: row.version }, row.body).toString('utf8')) as Record<string, unknown>;
  };
  const specimenRows = await sample('Specimen');
  const specimens = await Promise.all(spread(specimenRows, OPENED).map(open));
  const orders = await Promise.all(spread(await sample('ServiceRequest'), OPENED).map(open));
  const results = await Promise.all(spread(await sample('Observation'), OPENED).map(open));
  let labelled: Record<string, unknown>[] = [...specimens, ...orders, ...results];
  if (labelled.length === 0) {
    // Nothing to learn from yet: the tenant's own Organization tells whether it is synthetic.
    const org = await d.store.getResource(tenant, 'Organization', tenant);
    labelled = org ? [await open(org)] : [];
  }
  const security = common(labelled, 'security');
  const tag = common(labelled, 'tag');
  const cutoff = nowMs - MIN_AGE_DAYS * DAY;
  return {
    tenant, kind, security, tag,
    synthetic: security.some((c) => c.system === HTEST.system && c.code === HTEST.code),
    barcodes: specimens.flatMap((s) => ((s.identifier as { value?: unknown }[] | undefined) ?? []).map((i) => i.value).filter((v): v is string => typeof v === 'string')).slice(0, OPENED),
    collected: specimenRows.map((r) => (r.date ? Date.parse(r.date) : NaN)).filter((t) => Number.isFinite(t) && t <= cutoff),
    requester: mostCommon(orders.map((o) => (o.requester as { reference?: unknown } | undefined)?.reference).filter((r): r is string => typeof r === 'string')),
    devices: devicesByCode(results),
  };
}

/**
 * Up to ROWS rows of a type from all through the tenant's history, not only its oldest: the
 * store hands rows out in the order they were written (pos), so the sample reads PAGE rows at
 * random places in each of ROWS / PAGE equal stretches between the first and the last position.
 */
async function spreadSample(d: StyleDeps, tenant: string, type: ResourceType): Promise<ResourceRow[]> {
  const after = (pos: number | undefined, limit: number) => d.store.searchResources({ tenant, type, limit, ...(pos === undefined ? {} : { afterPos: pos }) });
  const all = await after(undefined, ROWS);
  if (all.length < ROWS) return all;
  // The last position: positions count over the whole store, so a tenant's are sparse. Double
  // past it, then halve back; `lo` always has a row after it, `hi` never.
  const has = async (pos: number) => (await after(pos, 1)).length > 0;
  const first = all[0]!.pos!;
  let lo = first - 1;
  let step = 1;
  while (await has(lo + step)) {
    lo += step;
    step *= 2;
  }
  let hi = lo + step;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await has(mid)) lo = mid;
    else hi = mid;
  }
  const stretches = ROWS / PAGE;
  const width = (hi - first + 1) / stretches;
  const rows = new Map<string, ResourceRow>();
  for (let i = 0; i < stretches; i++) {
    const start = first - 1 + Math.floor(i * width + (d.random.bytes(4).readUInt32BE(0) / 2 ** 32) * width);
    for (const r of await after(start, PAGE)) rows.set(r.id, r);
  }
  return [...rows.values()];
}

/** Up to n rows spread evenly over the list (not just its first ones). */
function spread<T>(rows: readonly T[], n: number): T[] {
  if (rows.length <= n) return [...rows];
  return Array.from({ length: n }, (_, i) => rows[Math.floor((i * rows.length) / n)]!);
}

/** The meta.security or meta.tag codings that every record carries (by system and code). */
function common(records: readonly Record<string, unknown>[], field: 'security' | 'tag'): Coding[] {
  if (records.length === 0) return [];
  const codings = (r: Record<string, unknown>): Coding[] => ((r.meta as Record<string, unknown> | undefined)?.[field] as Coding[] | undefined) ?? [];
  const key = (c: Coding) => `${c.system ?? ''}|${c.code ?? ''}`;
  let shared = new Map(codings(records[0]!).map((c) => [key(c), c]));
  for (const r of records.slice(1)) {
    const here = new Set(codings(r).map(key));
    shared = new Map([...shared].filter(([k]) => here.has(k)));
  }
  return [...shared.values()].map((c) => ({ ...c }));
}

function mostCommon(values: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  for (const [v, n] of counts) if (best === null || n > counts.get(best)!) best = v;
  return best;
}

function devicesByCode(results: readonly Record<string, unknown>[]): Map<string, string> {
  const seen = new Map<string, string[]>();
  for (const r of results) {
    const code = ((r.code as { coding?: Coding[] } | undefined)?.coding ?? []).find((c) => c.system === LOINC)?.code;
    const device = (r.device as { reference?: unknown } | undefined)?.reference;
    if (typeof code === 'string' && typeof device === 'string') seen.set(code, [...(seen.get(code) ?? []), device]);
  }
  return new Map([...seen].map(([code, devices]) => [code, mostCommon(devices)!]));
}
