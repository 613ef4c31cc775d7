/**
 * Code systems, identifier systems and value sets labkluis accepts.
 *
 * LOINC codes were checked against public sources (loinc.org term pages, HL7 FHIR examples and
 * the CSTE/eCR reporting value sets); see the lead's report. Displays are for humans only:
 * validation looks at system and code.
 */

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const ACT_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/** Identifier systems. */
export const AGB_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/agb-z';
export const BARCODE_SYSTEM = 'https://labkluis.nl/fhir/NamingSystem/specimen-barcode';

/*
 * labkluis-local code systems. The Dutch national code lists (Pap/KOPAC-B as used by PALGA and
 * the screening programme, and the programme's advice codes) should replace these URIs once
 * their canonical FHIR URLs are settled; until then the codes are stable here.
 */
export const PAP_SYSTEM = 'https://labkluis.nl/fhir/CodeSystem/pap';
export const KOPAC_B_SYSTEM = 'https://labkluis.nl/fhir/CodeSystem/kopac-b';
export const CYTOLOGY_COMPONENT_SYSTEM = 'https://labkluis.nl/fhir/CodeSystem/cytology-component';
export const ADVICE_SYSTEM = 'https://labkluis.nl/fhir/CodeSystem/advice';
export const ORGANIZATION_KIND_SYSTEM = 'https://labkluis.nl/fhir/CodeSystem/organization-kind';

export interface Code {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

/** meta.security label for test data (v3 ActReason HTEST); every demo resource carries it. */
export const HTEST: Code = Object.freeze({ system: ACT_REASON_SYSTEM, code: 'HTEST', display: 'test health data' });

/** What a test's Observation.value must be. */
export type ValueKind = 'qualitative' | 'cytology';

export interface LabTest extends Code {
  readonly short: string;
  readonly valueKind: ValueKind;
  readonly programme: 'cervical-screening' | 'sti';
}

const test = (code: string, display: string, short: string, valueKind: ValueKind, programme: LabTest['programme']): LabTest =>
  Object.freeze({ system: LOINC, code, display, short, valueKind, programme });

/** Every test labkluis stores results for, keyed by LOINC code. All are orderable. */
export const LAB_TESTS: Readonly<Record<string, LabTest>> = Object.freeze({
  '77379-6': test('77379-6', 'Human papilloma virus 16 and 18 and 31+33+35+39+45+51+52+56+58+59+66+68 DNA [Interpretation] in Cervix', 'hrHPV', 'qualitative', 'cervical-screening'),
  '77399-4': test('77399-4', 'Human papilloma virus 16 DNA [Presence] in Cervix by NAA', 'HPV16', 'qualitative', 'cervical-screening'),
  '77400-0': test('77400-0', 'Human papilloma virus 18 DNA [Presence] in Cervix by NAA', 'HPV18', 'qualitative', 'cervical-screening'),
  '71431-1': test('71431-1', 'Human papilloma virus 31+33+35+39+45+51+52+56+58+59+66+68 DNA [Presence] in Cervix by NAA', 'other hrHPV', 'qualitative', 'cervical-screening'),
  '10524-7': test('10524-7', 'Microscopic observation [Identifier] in Cervical or vaginal smear or scraping by Cyto stain', 'cervical cytology', 'cytology', 'cervical-screening'),
  '43304-5': test('43304-5', 'Chlamydia trachomatis rRNA [Presence] in Specimen by NAA with probe detection', 'Chlamydia NAAT', 'qualitative', 'sti'),
  '43305-2': test('43305-2', 'Neisseria gonorrhoeae rRNA [Presence] in Specimen by NAA with probe detection', 'Gonorrhoea NAAT', 'qualitative', 'sti'),
  '46154-1': test('46154-1', 'Trichomonas vaginalis rRNA [Presence] in Specimen by NAA with probe detection', 'Trichomonas NAAT', 'qualitative', 'sti'),
  '24110-9': test('24110-9', 'Treponema pallidum Ab [Presence] in Serum by Immunoassay', 'Syphilis serology', 'qualitative', 'sti'),
  '56888-1': test('56888-1', 'HIV 1+2 Ab+HIV1 p24 Ag [Presence] in Serum or Plasma by Immunoassay', 'HIV Ag/Ab', 'qualitative', 'sti'),
});

export const LOINC_CODES: readonly string[] = Object.freeze(Object.keys(LAB_TESTS));

export function labTest(code: string): LabTest | undefined {
  return Object.hasOwn(LAB_TESTS, code) ? LAB_TESTS[code] : undefined;
}

const sct = (code: string, display: string): Code => Object.freeze({ system: SNOMED, code, display });

/** Qualitative results (SNOMED CT qualifier values). */
export const QUALITATIVE = Object.freeze({
  positive: sct('10828004', 'Positive'),
  negative: sct('260385009', 'Negative'),
  inconclusive: sct('419984006', 'Inconclusive'),
});
export type Qualitative = keyof typeof QUALITATIVE;
export const QUALITATIVE_CODES: readonly string[] = Object.freeze(Object.values(QUALITATIVE).map((c) => c.code));

/** Specimen types (SNOMED CT). */
export const SPECIMEN_TYPES = Object.freeze({
  cervicalSmear: sct('276446009', 'Cervical smear sample'),
  urine: sct('122575003', 'Urine specimen'),
  vaginalSwab: sct('258520000', 'Vaginal swab'),
  throatSwab: sct('258529004', 'Throat swab'),
  serum: sct('119364003', 'Serum specimen'),
});
export const SPECIMEN_TYPE_CODES: readonly string[] = Object.freeze(Object.values(SPECIMEN_TYPES).map((c) => c.code));

/** Dutch Pap classification, including the 3a1/3a2/3b subclasses used in the screening programme. */
export const PAP_CLASSES = Object.freeze(['Pap0', 'Pap1', 'Pap2', 'Pap3a1', 'Pap3a2', 'Pap3b', 'Pap4', 'Pap5'] as const);
export type PapClass = (typeof PAP_CLASSES)[number];
export const papCode = (pap: PapClass): Code => Object.freeze({ system: PAP_SYSTEM, code: pap, display: pap });

/**
 * KOPAC-B: one digit per axis, written without spaces, e.g. 'K1O1P1A1C1B1' (Kompositie,
 * Ontsteking, Plaveiselepitheel, Andere afwijkingen/endometrium, Cylinderepitheel,
 * Beoordeelbaarheid). The per-axis ranges here are permissive (1–9, B 1–3) and should be
 * narrowed to the national table.
 */
export const KOPAC_B_PATTERN = /^K[1-9]O[1-9]P[1-9]A[1-9]C[1-9]B[1-3]$/;
export const KOPAC_B_COMPONENT: Code = Object.freeze({ system: CYTOLOGY_COMPONENT_SYSTEM, code: 'kopac-b', display: 'KOPAC-B' });

/** v3 ObservationInterpretation codes accepted in Observation.interpretation. */
export const INTERPRETATION_CODES: readonly string[] = Object.freeze(['POS', 'NEG', 'IND', 'A', 'N']);

/** Advice to the requester (DiagnosticReport.conclusionCode). */
export const ADVICE = Object.freeze({
  routineRecall: { system: ADVICE_SYSTEM, code: 'routine-recall', display: 'No follow-up; next invitation by schedule' },
  repeatCytology: { system: ADVICE_SYSTEM, code: 'repeat-cytology-6m', display: 'Repeat cytology after 6 months' },
  referGynaecology: { system: ADVICE_SYSTEM, code: 'refer-gynaecology', display: 'Refer to gynaecologist (colposcopy)' },
  repeatSample: { system: ADVICE_SYSTEM, code: 'repeat-sample', display: 'New sample needed' },
  noAction: { system: ADVICE_SYSTEM, code: 'no-action', display: 'No action needed' },
  treatAndNotify: { system: ADVICE_SYSTEM, code: 'treat-and-notify-partners', display: 'Treat; discuss partner notification' },
} satisfies Record<string, Code>);
export const ADVICE_CODES: readonly string[] = Object.freeze(Object.values(ADVICE).map((c) => c.code));

/** Kinds of organisation a tenant stands for (Organization.type). */
export const ORGANIZATION_KINDS = Object.freeze(['gp-practice', 'hospital', 'screening', 'lab'] as const);
export type OrganizationKind = (typeof ORGANIZATION_KINDS)[number];
