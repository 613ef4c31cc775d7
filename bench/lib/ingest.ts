/**
 * Ingest workload: synthetic demo episodes (src/demo), one transaction Bundle per patient
 * episode ("small", ~6-8 resources) or many episodes of one tenant merged into one transaction
 * ("large"), sent through app.vault.transaction with a local importer context, exactly as
 * `labkluis demo` does. Bundles are used once: the vault rewrites references in place.
 */
import { localImporter } from '../../src/auth/index.js';
import type { Bundle, BundleEntry } from '../../src/domain/index.js';
import { generateDemo } from '../../src/demo/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import type { AccessContext } from '../../src/vault/index.js';
import type { App } from '../../src/app.js';
import { cpuSince, cpuSnapshot, type CpuUse } from './machine.js';
import { pgQueries } from './pg-count.js';

export interface WorkItem {
  readonly tenant: string;
  readonly bundle: Bundle;
  readonly resources: number;
  /** Entry indices of DiagnosticReports with status final (what a requester may read). */
  readonly finalReports: readonly number[];
}

/** Episodes of one app's tenants, handed out round-robin over the tenants. */
export class Workload {
  readonly #queues: { tenant: string; bundles: Bundle[]; next: number }[];
  #turn = 0;
  readonly organizations: ReturnType<typeof generateDemo>['organizations'];

  private constructor(data: ReturnType<typeof generateDemo>) {
    this.organizations = data.organizations;
    const byTenant = new Map<string, Bundle[]>();
    data.bundles.forEach((b, i) => {
      const t = data.tenantOf[i]!;
      let list = byTenant.get(t);
      if (!list) byTenant.set(t, (list = []));
      list.push(b);
    });
    this.#queues = [...byTenant].map(([tenant, bundles]) => ({ tenant, bundles, next: 0 }));
  }

  /** Enough episodes for about `resources` resources (demo episodes average ~6.6 resources). */
  static generate(resources: number, tenants = 3): Workload {
    const patientsPerTenant = Math.ceil((resources / 6.0 / tenants) * 1.1) + 60;
    return new Workload(generateDemo({ random: systemRandom, clock: systemClock, tenants, patientsPerTenant }));
  }

  #take(tenantIndex: number): Bundle | null {
    const q = this.#queues[tenantIndex]!;
    return q.next < q.bundles.length ? q.bundles[q.next++]! : null;
  }

  #nextTenant(): number {
    const i = this.#turn % this.#queues.length;
    this.#turn += 1;
    return i;
  }

  /** One episode per transaction until `resources` resources are queued. */
  small(resources: number): WorkItem[] {
    const out: WorkItem[] = [];
    let n = 0;
    while (n < resources) {
      const t = this.#nextTenant();
      const b = this.#take(t);
      if (!b) throw new Error('workload exhausted: generate more episodes');
      const item = workItem(this.#queues[t]!.tenant, b);
      out.push(item);
      n += item.resources;
    }
    return out;
  }

  /** `episodes` episodes of one tenant merged into one transaction, until `resources` are queued. */
  large(resources: number, episodes: number): WorkItem[] {
    const out: WorkItem[] = [];
    let n = 0;
    while (n < resources) {
      const t = this.#nextTenant();
      const entries: BundleEntry[] = [];
      for (let i = 0; i < episodes; i++) {
        const b = this.#take(t);
        if (!b) throw new Error('workload exhausted: generate more episodes');
        entries.push(...(b.entry ?? [])); // urn:uuid fullUrls are unique across episodes already
      }
      const item = workItem(this.#queues[t]!.tenant, { resourceType: 'Bundle', type: 'transaction', entry: entries });
      out.push(item);
      n += item.resources;
    }
    return out;
  }
}

function workItem(tenant: string, bundle: Bundle): WorkItem {
  const entries = bundle.entry ?? [];
  const finalReports: number[] = [];
  entries.forEach((e, i) => {
    const r = e.resource as { resourceType?: string; status?: string } | undefined;
    if (r?.resourceType === 'DiagnosticReport' && r.status === 'final') finalReports.push(i);
  });
  return { tenant, bundle, resources: entries.length, finalReports };
}

export interface IngestResult {
  readonly resources: number;
  readonly transactions: number;
  readonly seconds: number;
  readonly resourcesPerSecond: number;
  /** This process's CPU seconds and other processes' load during the loop. */
  readonly cpu: CpuUse;
  /** PostgreSQL only: Client.query calls (round trips) per transaction. */
  readonly pgRoundTripsPerTransaction?: number;
}

/** Creates the workload's tenants in the app (as `labkluis demo` does) and returns importer contexts. */
export async function createTenants(app: App, workload: Workload): Promise<Map<string, AccessContext>> {
  const importer = localImporter('bench');
  const contexts = new Map<string, AccessContext>();
  for (const org of workload.organizations) {
    await app.vault.createTenant(importer, { ip: 'local', userAgent: 'labkluis-bench' }, org, 'client');
    contexts.set(org.id!, app.vault.context(importer, { tenant: org.id!, ip: 'local', userAgent: 'labkluis-bench' }));
  }
  return contexts;
}

/** Final report ids per tenant, filled from transaction responses (outside the timed loop). */
export type ReportIds = Map<string, string[]>;

/**
 * Sends the items one transaction after another (the demo and `labkluis import` do the same)
 * and times the whole loop. Responses are kept and mined for report ids after the clock stops.
 */
export async function ingest(app: App, contexts: Map<string, AccessContext>, items: readonly WorkItem[], reports?: ReportIds): Promise<IngestResult> {
  const responses: unknown[] = new Array(items.length);
  let resources = 0;
  const cpuStart = cpuSnapshot();
  const pgBefore = pgQueries.count;
  const started = performance.now();
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    responses[i] = await app.vault.transaction(contexts.get(item.tenant)!, item.bundle);
    resources += item.resources;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSince(cpuStart);
  if (reports) collectReports(items, responses, reports);
  const pgTrips = app.store.backend === 'postgres' ? { pgRoundTripsPerTransaction: Math.round(((pgQueries.count - pgBefore) / items.length) * 100) / 100 } : {};
  return { resources, transactions: items.length, seconds, resourcesPerSecond: resources / seconds, cpu, ...pgTrips };
}

/**
 * The same small bundles as `labkluis import` and `labkluis demo` send them: per tenant, in
 * slices handed to app.vault.transactions(), which keeps each bundle its own atomic, audited
 * transaction and lets consecutive ones share a durable commit.
 */
export async function ingestGrouped(app: App, contexts: Map<string, AccessContext>, items: readonly WorkItem[], slice: number, reports?: ReportIds): Promise<IngestResult> {
  const byTenant = new Map<string, number[]>();
  items.forEach((item, i) => byTenant.set(item.tenant, [...(byTenant.get(item.tenant) ?? []), i]));
  const responses: unknown[] = new Array(items.length);
  let resources = 0;
  let commits = 0;
  const cpuStart = cpuSnapshot();
  const pgBefore = pgQueries.count;
  const started = performance.now();
  for (const [tenant, indices] of byTenant) {
    const ctx = contexts.get(tenant)!;
    for (let at = 0; at < indices.length; at += slice) {
      const part = indices.slice(at, at + slice);
      const outcome = await app.vault.transactions(ctx, part.map((i) => items[i]!.bundle));
      if (outcome.refused) throw outcome.refused.error;
      outcome.responses.forEach((r, j) => (responses[part[j]!] = r));
      for (const i of part) resources += items[i]!.resources;
      commits++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSince(cpuStart);
  if (reports) collectReports(items, responses, reports);
  const pgTrips = app.store.backend === 'postgres' ? { pgRoundTripsPerTransaction: Math.round(((pgQueries.count - pgBefore) / items.length) * 100) / 100 } : {};
  return { resources, transactions: items.length, seconds, resourcesPerSecond: resources / seconds, cpu, ...pgTrips };
}

export interface Side {
  readonly app: App;
  readonly contexts: Map<string, AccessContext>;
  readonly items: readonly WorkItem[];
  readonly reports?: ReportIds;
}

export interface PairedChunk {
  readonly a: IngestResult;
  readonly b: IngestResult;
  /** Other processes' load (cores) over the chunk, both sides together. */
  readonly otherCores: number;
}

/**
 * A/B at the finest grain: transactions alternate between side a and side b (ABBA order,
 * so neither side always goes first), each timed on its own, summed per side and per chunk.
 * Load bursts from elsewhere then fall on both sides alike instead of on one round.
 */
export async function ingestPaired(a: Side, b: Side, chunks: number): Promise<PairedChunk[]> {
  const pairs = Math.min(a.items.length, b.items.length);
  const perChunk = Math.ceil(pairs / chunks);
  const out: PairedChunk[] = [];
  const responses = { a: new Array<unknown>(pairs), b: new Array<unknown>(pairs) };
  for (let start = 0; start < pairs; start += perChunk) {
    const end = Math.min(pairs, start + perChunk);
    const acc = { a: { resources: 0, ms: 0, cpuUs: 0 }, b: { resources: 0, ms: 0, cpuUs: 0 } };
    const chunkCpu = cpuSnapshot();
    for (let i = start; i < end; i++) {
      const order = i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
      for (const side of order) {
        const s = side === 'a' ? a : b;
        const item = s.items[i]!;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        responses[side][i] = await s.app.vault.transaction(s.contexts.get(item.tenant)!, item.bundle);
        acc[side].ms += performance.now() - t0;
        const cpu1 = process.cpuUsage(cpu0);
        acc[side].cpuUs += cpu1.user + cpu1.system;
        acc[side].resources += item.resources;
      }
    }
    const other = cpuSince(chunkCpu).otherCores;
    const result = (x: { resources: number; ms: number; cpuUs: number }): IngestResult => ({
      resources: x.resources, transactions: end - start, seconds: x.ms / 1000, resourcesPerSecond: x.resources / (x.ms / 1000),
      cpu: { ownCpuSeconds: x.cpuUs / 1e6, otherCores: other, stealCores: 0 },
    });
    out.push({ a: result(acc.a), b: result(acc.b), otherCores: other });
  }
  for (const [side, s] of [['a', a], ['b', b]] as const) {
    if (s.reports) collectReports(s.items.slice(0, pairs), responses[side], s.reports);
  }
  return out;
}

function collectReports(items: readonly WorkItem[], responses: readonly unknown[], reports: ReportIds): void {
  items.forEach((item, i) => {
    const entries = (responses[i] as { entry?: { response?: { location?: string } }[] }).entry ?? [];
    let list = reports.get(item.tenant);
    if (!list) reports.set(item.tenant, (list = []));
    for (const at of item.finalReports) {
      const id = entries[at]?.response?.location?.split('/')[1];
      if (id) list.push(id);
    }
  });
}
