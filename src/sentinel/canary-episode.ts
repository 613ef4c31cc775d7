/**
 * One canary patient's episode: the demo's record set for the tenant's kind of work (screening:
 * hrHPV with reflex genotyping and cytology; GP practice, hospital and others: STI NAAT or
 * serology), dressed in the tenant's own style (canary-style.ts) and authorised, so that a bulk
 * search by status, date, code or barcode meets it the way it meets a real one.
 *
 * Nothing marks a canary: no tag, label or extension of its own, ids assigned by the vault like
 * any other. In a synthetic tenant (HTEST) every record carries HTEST and identities look like the
 * demo's ('Test-' names, 999… BSNs), as every other record there does; elsewhere they carry the
 * tenant's own labels, a family name without 'Test-', a common Dutch street and no telecom.
 */
import { BARCODE_SYSTEM, BSN_SYSTEM, isValidBsn, LOINC, syntheticBsn, type Bundle, type Coding } from '../domain/index.js';
import { screeningEpisode, stiEpisode, type EpisodeContext, type Prng } from '../demo/index.js';
import type { Random } from '../kernel/index.js';
import type { TenantStyle } from './canary-style.js';
import { MIN_AGE_DAYS } from './canary-style.js';

const DAY = 86_400_000;
const DEMO_MARK = ' [SYNTHETISCHE TESTDATA]';
/** Streets found in most Dutch towns: an address that stands out nowhere (the demo's streets are 'Teststraat'-like). */
const STREETS: readonly string[] = [
  'Kerkstraat', 'Dorpsstraat', 'Molenweg', 'Julianastraat', 'Wilhelminastraat', 'Schoolstraat', 'Stationsweg', 'Beatrixstraat',
  'Nieuwstraat', 'Hoofdstraat', 'Molenstraat', 'Kastanjelaan', 'Eikenlaan', 'Lindelaan', 'Emmastraat', 'Prinses Irenestraat',
];
/** Where the dates of an episode live; all move together when the episode is placed in time. */
const DATE_FIELDS = new Set(['authoredOn', 'collectedDateTime', 'receivedTime', 'effectiveDateTime', 'issued']);
/** The demo's barcode alphabet (no I, O, 0, 1): the lab's default format when a tenant has no specimens yet. */
const DEMO_BARCODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

type Json = Record<string, unknown>;

export interface CanaryEpisode {
  readonly bundle: Bundle;
  readonly bsn: string;
  readonly barcode: string;
}

/** A fresh episode; the caller checks the BSN and barcode against the tenant's before writing it. */
export function canaryEpisode(style: TenantStyle, prng: Prng, nowMs: number, bsn: string, barcode: string): CanaryEpisode {
  const ctx: EpisodeContext = { prng, nowMs, requester: style.requester ?? `Organization/${style.tenant}`, bsns: new Set(), serial: prng.int(0, 999) };
  // The demo's builders share frozen leaves: work on a copy.
  const bundle = structuredClone(style.kind === 'screening' ? screeningEpisode(ctx) : stiEpisode(ctx, style.kind === 'hospital' ? 0.4 : 0.2));
  const shift = placeInTime(style, prng, nowMs, bundle);
  dress(bundle as unknown as Json, style);
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource as unknown as Json;
    moveDates(r, shift);
    switch (r.resourceType) {
      case 'Patient':
        r.identifier = [{ system: BSN_SYSTEM, value: bsn }];
        if (!style.synthetic) {
          const name = (r.name as { family?: string }[])[0]!;
          if (name.family?.startsWith('Test-')) name.family = name.family.slice('Test-'.length);
          const address = (r.address as { line?: string[] }[])[0]!;
          address.line = [`${prng.pick(STREETS)} ${prng.int(1, 180)}`];
          // A made-up e-mail address or number could reach a real person: none at all.
          delete r.telecom;
        }
        break;
      case 'Specimen':
        r.identifier = [{ system: BARCODE_SYSTEM, value: barcode }];
        break;
      case 'Observation': {
        r.status = 'final'; // authorised, like the report: a requester's search reaches it
        const code = ((r.code as { coding?: Coding[] }).coding ?? []).find((c) => c.system === LOINC)?.code;
        const device = code === undefined ? undefined : style.devices.get(code);
        if (device) r.device = { reference: device };
        break;
      }
      case 'DiagnosticReport':
        r.status = 'final';
        if (!style.synthetic && typeof r.conclusion === 'string') r.conclusion = r.conclusion.replace(DEMO_MARK, '');
        break;
    }
  }
  return { bundle, bsn, barcode };
}

/** Every resource, and the bundle, carries the tenant's labels; none: no meta. */
function dress(bundle: Json, style: TenantStyle): void {
  const meta = (): Json | undefined => {
    if (style.security.length === 0 && style.tag.length === 0) return undefined;
    return { ...(style.security.length ? { security: style.security.map((c) => ({ ...c })) } : {}), ...(style.tag.length ? { tag: style.tag.map((c) => ({ ...c })) } : {}) };
  };
  const label = (r: Json) => {
    const m = meta();
    if (m) r.meta = m;
    else delete r.meta;
  };
  label(bundle);
  for (const e of (bundle.entry as { resource: Json }[] | undefined) ?? []) label(e.resource);
}

/**
 * How far to move the episode so that it was collected when one of the tenant's own specimens
 * was (give or take two days), with its report issued MIN_AGE_DAYS ago or earlier. Without
 * enough of the tenant's own dates the demo's spread stands (collected 10 to 730 days ago,
 * moved back where its report would be younger than MIN_AGE_DAYS).
 */
function placeInTime(style: TenantStyle, prng: Prng, nowMs: number, bundle: Bundle): number {
  const dates = (field: string) => (bundle.entry ?? []).flatMap((e) => {
    const r = e.resource as unknown as Json;
    const v = field === 'collectedDateTime' ? (r.collection as Json | undefined)?.collectedDateTime : r[field];
    return typeof v === 'string' && Number.isFinite(Date.parse(v)) ? [Date.parse(v)] : [];
  });
  const [was] = dates('collectedDateTime');
  if (was === undefined) return 0;
  const span = Math.max(0, ...dates('issued')) - was;
  const target = style.collected.length < 5 ? was : prng.pick(style.collected) + prng.int(-48, 48) * 3_600_000;
  const at = Math.min(target, nowMs - MIN_AGE_DAYS * DAY - Math.max(span, 0));
  return Math.round((at - was) / 1000) * 1000;
}

function moveDates(value: unknown, shift: number): void {
  if (shift === 0 || typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value as Json)) {
    if (DATE_FIELDS.has(k) && typeof v === 'string' && Number.isFinite(Date.parse(v))) {
      (value as Json)[k] = new Date(Date.parse(v) + shift).toISOString().replace(/\.\d{3}Z$/, 'Z');
    } else if (typeof v === 'object') moveDates(v, shift);
  }
}

/**
 * A BSN that passes the 11-check. In a synthetic tenant from the demo's 999 range, as all its
 * people are; elsewhere from the whole range of issued numbers (first digit 1-8, never the test
 * range), so it may be a real person's: see canaries.ts for why that is safe here.
 */
export function canaryBsn(random: Random, synthetic: boolean): string {
  if (synthetic) return syntheticBsn(random);
  for (;;) {
    const head = String(10_000_000 + (random.bytes(4).readUInt32BE(0) % 80_000_000));
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * (head.charCodeAt(i) - 48);
    const check = sum % 11; // 9·d1 … 2·d8 − d9 ≡ 0 (mod 11)
    if (check === 10) continue;
    const bsn = head + String(check);
    if (isValidBsn(bsn)) return bsn;
  }
}

/**
 * A barcode in the format of the tenant's own: each position keeps what all of them share there
 * (a prefix, a fixed letter) and is drawn from the characters they show there otherwise (digits,
 * hexadecimal, letters), so a canary lands among the real ones. With fewer than three of the same
 * length, a random real barcode keeps all but its last four characters. None: the demo's format.
 */
export function canaryBarcode(barcodes: readonly string[], prng: Prng): string {
  if (barcodes.length === 0) {
    let out = 'T';
    for (let i = 0; i < 11; i++) out += DEMO_BARCODE_ALPHABET[prng.int(0, DEMO_BARCODE_ALPHABET.length - 1)];
    return out;
  }
  const template = prng.pick(barcodes);
  const same = barcodes.filter((b) => b.length === template.length);
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const seen = new Set(same.map((b) => b[i]!));
    const fixed = same.length >= 3 ? seen.size === 1 : i < template.length - 4;
    if (fixed) {
      out += template[i];
      continue;
    }
    const alphabet = alphabetOf(seen);
    out += alphabet[prng.int(0, alphabet.length - 1)];
  }
  return out;
}

function alphabetOf(seen: ReadonlySet<string>): string {
  const all = [...seen];
  if (all.every((c) => /[0-9]/.test(c))) return '0123456789';
  if (all.every((c) => /[0-9A-F]/.test(c))) return '0123456789ABCDEF';
  if (all.every((c) => /[A-Z]/.test(c))) return 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  if (all.every((c) => DEMO_BARCODE_ALPHABET.includes(c))) return DEMO_BARCODE_ALPHABET;
  return '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
}
