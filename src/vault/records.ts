import type { Resource } from 'fhir/r4.js';
import { blindToken, type DataKeys, type RecordCipher } from '../crypto/index.js';
import { LabkluisError } from '../kernel/index.js';
import type { PersonRow, ResourceRow, ResourceType } from '../store/index.js';
import { BSN_SYSTEM, indexFieldsOf, type IndexToken, type LabResource } from '../domain/index.js';

/**
 * Turns resources into rows the store may hold (ciphertext + blind tokens) and back.
 * Nothing leaves this file towards the store in plain text except ids, pseudonyms,
 * statuses and dates (DESIGN.md invariant 2).
 */
export class RecordCodec {
  readonly #keys: DataKeys;
  readonly #cipher: RecordCipher;

  constructor(deps: { keys: DataKeys; cipher: RecordCipher }) {
    this.#keys = deps.keys;
    this.#cipher = deps.cipher;
  }

  async token(tenant: string, param: string, system: string | undefined, value: string): Promise<string> {
    const key = await this.#keys.current(tenant, 'index');
    return blindToken(key.key, param, system, value);
  }

  /** `indexBsn` false: the BSN stays in the sealed body only (canary patients, see writes.ts). */
  async sealPerson(tenant: string, patient: Resource & { id: string }, version: number, enteredBy: string, at: string, indexBsn = true): Promise<PersonRow> {
    const bsn = indexBsn ? (patient as { identifier?: { system?: string; value?: string }[] }).identifier?.find((i) => i.system === BSN_SYSTEM)?.value : undefined;
    const key = await this.#keys.current(tenant, 'identity');
    return {
      tenant,
      pseudonym: patient.id,
      version,
      bsnToken: bsn ? await this.token(tenant, 'identifier', BSN_SYSTEM, bsn) : null,
      body: this.#cipher.seal(key, { tenant, type: 'Patient', id: patient.id, version }, Buffer.from(JSON.stringify(patient))),
      enteredBy,
      lastUpdated: at,
    };
  }

  async openPerson(row: PersonRow): Promise<Resource & { id: string }> {
    const key = await this.#keys.version(row.tenant, 'identity', this.#cipher.keyVersionOf(row.body));
    const plain = this.#cipher.open(key, { tenant: row.tenant, type: 'Patient', id: row.pseudonym, version: row.version }, row.body);
    return parse(plain);
  }

  async sealResource(tenant: string, resource: Resource & { id: string }, version: number, enteredBy: string, at: string): Promise<ResourceRow> {
    const type = resource.resourceType as ResourceType;
    const fields = indexFieldsOf(resource as LabResource);
    const indexKey = (await this.#keys.current(tenant, 'index')).key;
    // One MAC per distinct (param, system, value): unique tokens (the barcode) are also
    // searched like any other token, so they go in both lists.
    const made = new Map<string, string>();
    const tokenOf = (t: IndexToken): string => {
      const slot = `${t.param}\x1f${t.system ?? ''}\x1f${t.value}`;
      let token = made.get(slot);
      if (token === undefined) made.set(slot, (token = blindToken(indexKey, t.param, t.system, t.value)));
      return token;
    };
    const unique = fields.unique.map(tokenOf);
    const tokens = [...new Set([...fields.tokens.map(tokenOf), ...unique])];
    const key = await this.#keys.current(tenant, 'clinical');
    return {
      tenant,
      type,
      id: resource.id,
      version,
      pseudonym: fields.subject,
      status: fields.status,
      date: fields.date,
      tokens,
      uniqueTokens: [...new Set(unique)],
      body: this.#cipher.seal(key, { tenant, type, id: resource.id, version }, Buffer.from(JSON.stringify(resource))),
      enteredBy,
      lastUpdated: at,
    };
  }

  /** Free text people type that may describe a patient (a break-glass reason): sealed like identity. */
  async sealNote(tenant: string, kind: string, id: string, text: string): Promise<Buffer> {
    const key = await this.#keys.current(tenant, 'identity');
    return this.#cipher.seal(key, { tenant, type: kind, id, version: 1 }, Buffer.from(text, 'utf8'));
  }

  async openNote(tenant: string, kind: string, id: string, blob: Buffer): Promise<string> {
    const key = await this.#keys.version(tenant, 'identity', this.#cipher.keyVersionOf(blob));
    return this.#cipher.open(key, { tenant, type: kind, id, version: 1 }, blob).toString('utf8');
  }

  async openResource(row: ResourceRow): Promise<Resource & { id: string }> {
    const key = await this.#keys.version(row.tenant, 'clinical', this.#cipher.keyVersionOf(row.body));
    return parse(this.#cipher.open(key, { tenant: row.tenant, type: row.type, id: row.id, version: row.version }, row.body));
  }
}

function parse(plain: Buffer): Resource & { id: string } {
  try {
    return JSON.parse(plain.toString('utf8')) as Resource & { id: string };
  } catch {
    throw new LabkluisError('ERR_INTEGRITY', 'a stored record does not decode');
  }
}

/** What analysts and validators see of a person: the pseudonym, nothing else. */
export function pseudonymisedPatient(patient: Resource & { id: string }): Resource & { id: string } {
  return {
    resourceType: 'Patient',
    id: patient.id,
    meta: {
      ...(patient.meta?.versionId ? { versionId: patient.meta.versionId } : {}),
      ...(patient.meta?.lastUpdated ? { lastUpdated: patient.meta.lastUpdated } : {}),
      security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'PSEUDED', display: 'pseudonymized' }],
    },
  } as Resource & { id: string };
}
