/**
 * The plaintext inputs for a resource's index columns. The vault turns tokens into keyed
 * blind-index values (HMAC) and never stores these strings; see src/store/types.ts.
 *
 * Each coded token is emitted twice, with its system and with system undefined, so that a
 * search with 'code=77379-6' and one with 'code=http://loinc.org|77379-6' both match.
 */
import { BSN_SYSTEM } from './bsn.js';
import { AGB_SYSTEM, BARCODE_SYSTEM } from './codes.js';
import { isoStart } from './fhir-time.js';
import type { Coding, Identifier, Reference } from './fhir-types.js';
import { parseReference } from './references.js';
import type { LabResource } from './resource-check.js';

export interface IndexToken {
  readonly param: string;
  readonly system: string | undefined;
  readonly value: string;
}

export interface IndexFields {
  /** Patient id (the pseudonym) the resource is about; for a Patient, its own id. */
  readonly subject: string | null;
  readonly status: string | null;
  /** ISO-8601 UTC start of the resource's clinically relevant time, for date search. */
  readonly date: string | null;
  readonly tokens: readonly IndexToken[];
  /** Tokens that must be unique per tenant (BSN, AGB code, specimen barcode). */
  readonly unique: readonly IndexToken[];
}

class Tokens {
  readonly list: IndexToken[] = [];
  readonly #seen = new Set<string>();
  add(param: string, system: string | undefined, value: string | undefined): void {
    if (value === undefined) return;
    const key = `${param}|${system ?? ''}|${value}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.list.push({ param, system, value });
  }
  codings(param: string, codings: readonly Coding[] | undefined): void {
    for (const c of codings ?? []) {
      this.add(param, c.system, c.code);
      this.add(param, undefined, c.code);
    }
  }
  identifiers(param: string, identifiers: readonly Identifier[] | undefined, systems: readonly string[]): void {
    for (const i of identifiers ?? []) {
      if (i.system === undefined || !systems.includes(i.system)) continue;
      this.add(param, i.system, i.value);
      this.add(param, undefined, i.value);
    }
  }
  references(param: string, refs: readonly Reference[] | Reference | undefined): void {
    for (const r of Array.isArray(refs) ? refs : refs === undefined ? [] : [refs]) this.add(param, undefined, literal(r.reference));
  }
}

/** A literal 'Type/id'; urn:uuid references must be resolved before indexing. */
function literal(reference: string | undefined): string | undefined {
  if (reference === undefined) return undefined;
  const parsed = parseReference(reference);
  if (parsed?.kind === 'urn') throw new TypeError('resolve urn:uuid references before indexing');
  return parsed === undefined ? undefined : reference;
}

function patientId(ref: Reference | undefined): string | null {
  const r = literal(ref?.reference);
  const parsed = r === undefined ? undefined : parseReference(r);
  return parsed?.kind === 'literal' && parsed.type === 'Patient' ? parsed.id : null;
}

const uniqueOf = (identifiers: readonly Identifier[] | undefined, system: string): IndexToken[] =>
  (identifiers ?? []).filter((i) => i.system === system && i.value !== undefined).map((i) => ({ param: 'identifier', system, value: i.value! }));

export function indexFieldsOf(resource: LabResource): IndexFields {
  const t = new Tokens();
  switch (resource.resourceType) {
    case 'Patient':
      return { subject: resource.id ?? null, status: null, date: null, tokens: [], unique: uniqueOf(resource.identifier, BSN_SYSTEM) };
    case 'Organization':
      t.identifiers('identifier', resource.identifier, [AGB_SYSTEM]);
      return { subject: null, status: null, date: null, tokens: t.list, unique: uniqueOf(resource.identifier, AGB_SYSTEM) };
    case 'ServiceRequest':
      t.codings('code', resource.code?.coding);
      t.references('requester', resource.requester);
      t.references('based-on', resource.basedOn);
      return { subject: patientId(resource.subject), status: resource.status, date: isoStart(resource.authoredOn), tokens: t.list, unique: [] };
    case 'Specimen':
      t.identifiers('identifier', resource.identifier, [BARCODE_SYSTEM]);
      t.codings('type', resource.type?.coding);
      t.references('request', resource.request);
      return {
        subject: patientId(resource.subject), status: resource.status ?? null, date: isoStart(resource.collection?.collectedDateTime),
        tokens: t.list, unique: uniqueOf(resource.identifier, BARCODE_SYSTEM),
      };
    case 'Observation':
      t.codings('code', resource.code.coding);
      t.references('specimen', resource.specimen);
      t.references('device', resource.device);
      t.references('based-on', resource.basedOn);
      return { subject: patientId(resource.subject), status: resource.status, date: isoStart(resource.effectiveDateTime), tokens: t.list, unique: [] };
    case 'DiagnosticReport':
      t.codings('code', resource.code.coding);
      t.references('based-on', resource.basedOn);
      t.references('specimen', resource.specimen);
      t.references('result', resource.result);
      return {
        subject: patientId(resource.subject), status: resource.status, date: isoStart(resource.effectiveDateTime ?? resource.issued),
        tokens: t.list, unique: [],
      };
  }
}
