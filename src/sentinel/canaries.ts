/**
 * Canary patients (issue 4): per tenant a few synthetic patients that no normal workflow ever
 * returns (they belong to no order anyone works on, and they lie at least ten days back, so a
 * "what is new" poll never meets one) but that a bulk read or an enumeration does: a search by
 * status, date or code, a walk through barcodes. Touching one contains the principal at once
 * (sentinel.ts): the response that would carry it never leaves. The security officer manages them
 * (list, seed after a fresh step-up, remove), and so does the local operator on the server (CLI).
 *
 * How they are written. Through the vault's own write path (Vault.canaryTransaction): validated,
 * encrypted, tokenised and audited like every record, as a transaction of the local operator's
 * role (importer: it may create, it reads nothing, four eyes does not apply to imports). From
 * the CLI that principal is the operator at the machine; for a security officer the server writes
 * under CANARY_WRITER, and the audit log records the seeding as the officer's own action
 * ('canary-seeded', one entry per canary, naming it), right after the write entries. Policy is
 * not widened: no role gains a right, and the writer exists only inside this process.
 *
 * What a canary looks like: the tenant's own (canary-style.ts, canary-episode.ts). Its records
 * carry the labels all the tenant's records carry and nothing else; ids are the vault's random
 * ids; the barcode follows the tenant's format; dates follow the tenant's own spread. What cannot
 * be hidden: meta.lastUpdated is the time of seeding (server-set), and the store's order (the
 * search paging order) puts a canary after everything written before it. Neither is visible
 * before the first touch (that response never leaves), but someone who knows canaries are seeded
 * late could read the oldest pages first: seed a few again now and then, so canaries sit all
 * through the history (the demo seeds them between its episodes). The audit log shows which
 * records the seeding wrote; only the security officer reads it.
 *
 * The BSN. Each canary has a BSN that passes the 11-check (in a synthetic tenant from the demo's
 * 999 range, as its people have; elsewhere from the whole range), checked through the blind
 * index to belong to no person of the tenant when it is drawn. A random valid BSN may still be a
 * real person's, who may be registered at this lab later. If canaries were in the BSN index, that
 * registrar's BSN search would return the canary and contain an innocent registrar, and the
 * registration itself would fail (the index is unique per tenant). So canaries are kept out of
 * the BSN index altogether: the BSN sits in the canary's sealed Patient only. A BSN search never
 * finds a canary, and the real person registers as anyone else. Nothing is lost: nobody finds a
 * canary by BSN without having touched it first (there are ~10^8 numbers), so BSN searches were
 * never where canaries catch anyone. What remains: after such a registration two Patients of the
 * tenant share the number, the real one and the canary; nothing joins them (records link by
 * pseudonym), and the canary's name, birth date and address are made up.
 *
 * Canaries are excluded from every count and report of patients or records (the demo's summary;
 * the sentinel never counts a release with a canary, it contains instead), and returned by every
 * search, which is their point.
 */
import { mayActFor, requireStepUp, type Principal } from '../auth/index.js';
import { blindToken, type DataKeys, type RecordCipher } from '../crypto/index.js';
import { Prng } from '../demo/index.js';
import { BARCODE_SYSTEM, BSN_SYSTEM, ID_PATTERN } from '../domain/index.js';
import { conflict, forbidden, invalidInput, isLabkluisError, notFound, type Clock, type Random } from '../kernel/index.js';
import type { CanaryRow, Store } from '../store/index.js';
import type { AccountEvent, Vault } from '../vault/index.js';
import { canaryBarcode, canaryBsn, canaryEpisode } from './canary-episode.js';
import { learnStyle, type TenantStyle } from './canary-style.js';

export interface CanariesDeps {
  readonly vault: Vault;
  readonly store: Store;
  /** For the blind index (BSN and barcode checks) and to read the tenant's style (canary-style.ts). */
  readonly keys: DataKeys;
  readonly cipher: RecordCipher;
  readonly clock: Clock;
  readonly random: Random;
  /** Into the audit log (vault.recordAccountEvent): a security officer's actions. The CLI records the operator's itself. */
  readonly events: (event: AccountEvent) => Promise<void>;
  /** Told when a tenant's canaries change here (the sentinel reads its list again). */
  readonly changed?: (tenant: string) => void;
}

export interface CanaryFacts {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** Canaries one seeding adds at most. */
export const MAX_SEED = 50;
/** A small number: canaries a tenant holds at most. */
export const MAX_CANARIES_PER_TENANT = 200;

/**
 * The principal canary records are written under when a security officer seeds them: the
 * local operator's role (create only, reads nothing), never a credential anyone holds.
 */
export const CANARY_WRITER: Principal = Object.freeze({
  id: 'local-canary-seeder',
  kind: 'local-operator',
  role: 'importer',
  tenants: Object.freeze(['*']),
  instrument: null,
  displayName: 'canary-seeder',
  authMethod: 'local-cli',
  credentialId: null,
});

export class Canaries {
  readonly #d: CanariesDeps;

  constructor(deps: CanariesDeps) {
    this.#d = deps;
  }

  /** The tenant's canaries: pseudonym, when and by whom. Reads no record, the canaries' own neither. */
  async list(by: Principal, tenant: unknown, facts: CanaryFacts): Promise<CanaryRow[]> {
    const t = await this.#authorise(by, tenant, null);
    const rows = await this.#d.store.sentinel.listCanaries(t);
    await this.#event(by, 'canaries-listed', { type: 'Tenant', id: t }, facts);
    return rows;
  }

  /**
   * Seeds `count` (1..MAX_SEED) canaries in `tenant`: a security officer after a fresh step-up,
   * or the local operator. Everything is checked before the first write. Each canary is its own
   * transaction, marked a canary right after it commits.
   */
  async seed(by: Principal, tenant: unknown, count: unknown, facts: CanaryFacts): Promise<CanaryRow[]> {
    const t = await this.#authorise(by, tenant, 'seeding canary patients');
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_SEED) {
      throw invalidInput(`count is a whole number from 1 to ${MAX_SEED}`, [{ expression: 'count', diagnostics: `1 to ${MAX_SEED}` }]);
    }
    const held = (await this.#d.store.sentinel.listCanaries(t)).length;
    if (held + count > MAX_CANARIES_PER_TENANT) throw conflict(`a tenant holds at most ${MAX_CANARIES_PER_TENANT} canaries (this one holds ${held})`);
    const kind = (await this.#d.store.getTenant(t))!.kind;
    const nowMs = this.#d.clock.now().getTime();
    const style = await learnStyle(this.#d, t, kind, nowMs);
    const prng = Prng.from(this.#d.random);
    const writer = by.kind === 'local-operator' ? by : CANARY_WRITER;
    const ctx = this.#d.vault.context(writer, { tenant: t, ip: facts.ip ?? 'local', userAgent: facts.userAgent });
    const drawn = { bsns: new Set<string>(), barcodes: new Set<string>() };
    const seeded: CanaryRow[] = [];
    for (let i = 0; i < count; i++) {
      const pseudonym = await this.#write(style, prng, nowMs, drawn, (bundle) => this.#d.vault.canaryTransaction(ctx, bundle));
      const row: CanaryRow = { tenant: t, pseudonym, createdAt: this.#d.clock.now().toISOString(), createdBy: by.id };
      // Between the commit and this row the patient is an unwatched record: make it a canary now,
      // once more on a passing failure.
      await this.#d.store.sentinel.addCanaries([row]).catch(() => this.#d.store.sentinel.addCanaries([row]));
      this.#d.changed?.(t);
      await this.#event(by, 'canary-seeded', { type: 'Canary', id: pseudonym }, facts);
      seeded.push(row);
    }
    return seeded;
  }

  /**
   * Stops watching a canary (a security officer after a fresh step-up, or the local operator).
   * The vault deletes nothing: its synthetic records stay and from then on are ordinary records.
   * Remove one that has done its work (it contained someone, so it is known) and seed another.
   */
  async remove(by: Principal, tenant: unknown, pseudonym: unknown, facts: CanaryFacts): Promise<void> {
    const t = await this.#authorise(by, tenant, 'removing a canary patient');
    if (typeof pseudonym !== 'string' || !ID_PATTERN.test(pseudonym)) throw notFound('no such canary');
    if (!(await this.#d.store.sentinel.removeCanary(t, pseudonym))) throw notFound('no such canary');
    this.#d.changed?.(t);
    await this.#event(by, 'canary-removed', { type: 'Canary', id: pseudonym }, facts);
  }

  /** One episode, with a BSN and a barcode no record of the tenant has; a barcode taken meanwhile is drawn again. */
  async #write(style: TenantStyle, prng: Prng, nowMs: number, drawn: { bsns: Set<string>; barcodes: Set<string> }, write: (bundle: unknown) => Promise<{ entry?: { response?: { location?: string } }[] }>): Promise<string> {
    const index = (await this.#d.keys.current(style.tenant, 'index')).key;
    for (let attempt = 0; ; attempt++) {
      const bsn = await this.#fresh(drawn.bsns, () => canaryBsn(this.#d.random, style.synthetic),
        async (v) => (await this.#d.store.findPersonsByBsn(style.tenant, blindToken(index, 'identifier', BSN_SYSTEM, v))).length > 0);
      const barcode = await this.#fresh(drawn.barcodes, () => canaryBarcode(style.barcodes, prng),
        async (v) => (await this.#d.store.searchResources({ tenant: style.tenant, type: 'Specimen', tokens: [[blindToken(index, 'identifier', BARCODE_SYSTEM, v)]], limit: 1 })).length > 0);
      try {
        const response = await write(canaryEpisode(style, prng, nowMs, bsn, barcode).bundle);
        const location = response.entry?.map((e) => e.response?.location ?? '').find((l) => l.startsWith('Patient/'));
        return location!.split('/')[1]!;
      } catch (e) {
        if (!isLabkluisError(e, 'ERR_CONFLICT') || attempt >= 2) throw e;
      }
    }
  }

  /** A value not drawn before in this seeding and, by the blind index, not in the tenant. */
  async #fresh(drawn: Set<string>, draw: () => string, taken: (value: string) => Promise<boolean>): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const v = draw();
      if (drawn.has(v) || (await taken(v))) continue;
      drawn.add(v);
      return v;
    }
    throw conflict('no free value found for a canary; the tenant\'s format leaves too little room');
  }

  async #authorise(by: Principal, tenant: unknown, stepUp: string | null): Promise<string> {
    if (by.role !== 'security-officer' && by.kind !== 'local-operator') throw forbidden('only a security officer manages canary patients');
    if (by.suspended === 'recertification-lapsed') throw forbidden("this account's role lapsed: an approver must recertify it");
    if (stepUp) requireStepUp(by, this.#d.clock, stepUp);
    if (typeof tenant !== 'string' || !ID_PATTERN.test(tenant)) {
      throw invalidInput('name the tenant by its id', [{ expression: 'tenant', diagnostics: 'not a tenant id' }]);
    }
    if (!mayActFor(by, tenant)) throw forbidden('this principal does not act for that tenant');
    if (!(await this.#d.store.getTenant(tenant))) throw notFound('no such tenant');
    return tenant;
  }

  async #event(by: Principal, kind: string, subject: NonNullable<AccountEvent['subject']>, facts: CanaryFacts): Promise<void> {
    if (by.kind === 'local-operator') return; // the CLI records its operator's actions itself (cli/operator.ts)
    await this.#d.events({ kind, principalId: by.id, sessionId: by.authMethod === 'session' ? by.credentialId : null, subject, outcome: 'success', ip: facts.ip, userAgent: facts.userAgent });
  }
}
