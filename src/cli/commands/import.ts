import { readFileSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import type { App } from '../../app.js';
import { invalidInput, LabkluisError } from '../../kernel/index.js';
import { rewriteReferences, validateResource } from '../../domain/index.js';
import { operator } from '../operator.js';
import { progress } from '../progress.js';

const MAX_FILE_BYTES = 512 * 1024 * 1024;
const CHUNK = 500;
const BUNDLES_AT_ONCE = 64;

export interface ImportSummary {
  readonly transactions: number;
  readonly resources: number;
}

/**
 * Imports a file as the local operator (who may write, and reads nothing back).
 *   - a JSON transaction Bundle: one atomic transaction;
 *   - NDJSON: each line a transaction Bundle (atomic each) or a resource. Resource lines are
 *     sent in transactions of up to 500; references between them use their ids in the file
 *     ('Patient/p1') and are mapped to the new server ids.
 * The whole file is parsed and shape-checked before the first write, so a malformed file
 * writes nothing; a bundle the vault refuses stops the import with its entry named (earlier
 * bundles stay, each complete).
 */
export async function importFile(app: App, file: string, tenant: string): Promise<ImportSummary> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw invalidInput(`cannot read ${file}`);
  }
  if (size > MAX_FILE_BYTES) throw invalidInput(`${file} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB; split it`);
  const text = readFileSync(file, 'utf8');
  const units = parseImport(text, file);
  validateAll(units, file);
  const ctx = app.vault.context(operator(), { tenant, ip: 'local', userAgent: 'labkluis-cli import' });
  if (!(await app.store.getTenant(tenant))) throw invalidInput(`unknown tenant '${tenant}'`);

  const total = units.reduce((n, u) => n + (u.kind === 'bundle' ? (u.bundle.entry?.length ?? 0) : u.resources.length), 0);
  const bar = progress('import', total);
  const fileIdToServer = new Map<string, string>();
  let transactions = 0;
  let resources = 0;
  try {
    for (let u = 0; u < units.length; u++) {
      const unit = units[u]!;
      if (unit.kind === 'bundle') {
        // Consecutive bundle lines go to the vault together: each stays its own atomic
        // transaction, and small ones share durable commits.
        const run: Bundle[] = [];
        for (; u < units.length && run.length < BUNDLES_AT_ONCE; u++) {
          const next = units[u]!;
          if (next.kind !== 'bundle') break;
          run.push(next.bundle);
        }
        u--;
        const outcome = await app.vault.transactions(ctx, run);
        for (const bundle of run.slice(0, outcome.responses.length)) {
          transactions++;
          resources += bundle.entry?.length ?? 0;
          bar.advance(bundle.entry?.length ?? 0);
        }
        if (outcome.refused) throw outcome.refused.error;
        continue;
      }
      for (let i = 0; i < unit.resources.length; i += CHUNK) {
        const slice = unit.resources.slice(i, i + CHUNK);
        const bundle = resourcesToBundle(slice, fileIdToServer);
        const response = await app.vault.transaction(ctx, bundle.bundle);
        response.entry?.forEach((e, j) => {
          const fileRef = bundle.fileRefs[j];
          const location = e.response?.location;
          if (fileRef && location) fileIdToServer.set(fileRef, location.split('/_history/')[0]!);
        });
        transactions++;
        resources += slice.length;
        bar.advance(slice.length);
      }
    }
  } catch (e) {
    bar.stop();
    if (e instanceof LabkluisError && transactions > 0) {
      throw new LabkluisError(e.code, `stopped after ${transactions} complete transaction(s): ${e.message}`, { issues: e.issues });
    }
    throw e;
  }
  bar.stop();
  return { transactions, resources };
}

/** Every resource in the file is validated before the first write, so an invalid file writes nothing. */
function validateAll(units: readonly Unit[], file: string): void {
  let line = 0;
  for (const unit of units) {
    const resources = unit.kind === 'bundle' ? (unit.bundle.entry ?? []).map((e) => e.resource) : unit.resources;
    for (const [i, resource] of resources.entries()) {
      const where = unit.kind === 'bundle' ? `${file}: Bundle.entry[${i}]` : `${file}: resource ${line + i + 1}`;
      try {
        const copy = structuredClone(resource) as Record<string, unknown>;
        if (unit.kind === 'resources') delete copy.id; // file-local ids are replaced on import
        validateResource(copy, { allowUrnReferences: unit.kind === 'bundle' });
      } catch (e) {
        if (e instanceof LabkluisError) throw new LabkluisError(e.code, `${where}: ${e.message}`, { issues: e.issues });
        throw e;
      }
    }
    line += resources.length;
  }
}

type Unit = { kind: 'bundle'; bundle: Bundle } | { kind: 'resources'; resources: Record<string, unknown>[] };

export function parseImport(text: string, file: string): Unit[] {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw invalidInput(`${file} is empty`);
  if (trimmed.startsWith('{') && !trimmed.includes('\n{')) {
    return [{ kind: 'bundle', bundle: asBundle(parseJson(trimmed, `${file}`), file) }];
  }
  const units: Unit[] = [];
  let run: Record<string, unknown>[] = [];
  trimmed.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const value = parseJson(line, `${file} line ${i + 1}`);
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { resourceType?: unknown }).resourceType !== 'string') {
      throw invalidInput(`${file} line ${i + 1} is not a FHIR resource`);
    }
    const r = value as Record<string, unknown>;
    if (r.resourceType === 'Bundle') {
      if (run.length) units.push({ kind: 'resources', resources: run });
      run = [];
      units.push({ kind: 'bundle', bundle: asBundle(r, `${file} line ${i + 1}`) });
    } else {
      run.push(r);
    }
  });
  if (run.length) units.push({ kind: 'resources', resources: run });
  return units;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidInput(`${where} is not valid JSON (expected a transaction Bundle or NDJSON)`);
  }
}

function asBundle(value: unknown, where: string): Bundle {
  const b = value as Bundle;
  if (b?.resourceType !== 'Bundle' || b.type !== 'transaction' || !Array.isArray(b.entry)) {
    throw invalidInput(`${where} is not a FHIR transaction Bundle`);
  }
  return b;
}

/** Resource lines become POST entries; file-local ids become urn:uuid fullUrls for this chunk. */
function resourcesToBundle(resources: Record<string, unknown>[], known: Map<string, string>): { bundle: Bundle; fileRefs: (string | null)[] } {
  const urns = new Map<string, string>();
  const fileRefs: (string | null)[] = [];
  const fullUrls = resources.map(() => `urn:uuid:${randomUUID()}`);
  resources.forEach((r, i) => {
    const ref = typeof r.id === 'string' ? `${r.resourceType as string}/${r.id}` : null;
    fileRefs.push(ref);
    if (ref) urns.set(ref, fullUrls[i]!);
  });
  const entry: BundleEntry[] = resources.map((original, i) => {
    const r = structuredClone(original);
    delete r.id;
    rewriteReferences(r, (ref: string) => urns.get(ref) ?? known.get(ref));
    return { fullUrl: fullUrls[i]!, resource: r as never, request: { method: 'POST', url: r.resourceType as string } };
  });
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry }, fileRefs };
}
