/**
 * One synthetic cervical-screening episode (bevolkingsonderzoek baarmoederhalskanker):
 * hrHPV on a cervical smear; if positive, genotyping (HPV16, HPV18, other hrHPV) and reflex
 * cytology with a Pap class and KOPAC-B; a report with the programme's advice.
 */
import { ADVICE, KOPAC_B_COMPONENT, KOPAC_B_SYSTEM, SPECIMEN_TYPES, INTERPRETATION_SYSTEM, papCode } from '../domain/index.js';
import type { Bundle, Code, FhirResource, PapClass, Qualitative } from '../domain/index.js';
import { concept, observationBase, patient, qualitativeObservation, report, serviceRequest, specimen, timeline, transaction, type ObservationSpec } from './builders.js';
import type { Prng } from './prng.js';
import { CYTOLOGY, GENOTYPES, HRHPV, PAP_WEIGHTS } from './test-codes.js';

/** Plaveiselepitheel axis per Pap class, roughly; B3 marks an unassessable smear. */
const P_AXIS: Record<PapClass, string> = { Pap0: '1', Pap1: '1', Pap2: '2', Pap3a1: '4', Pap3a2: '5', Pap3b: '6', Pap4: '7', Pap5: '9' };

export interface EpisodeContext {
  readonly prng: Prng;
  readonly nowMs: number;
  readonly requester: string; // 'Organization/<id>'
  readonly bsns: Set<string>;
  readonly serial: number;
}

export function screeningEpisode(ctx: EpisodeContext): Bundle {
  const { prng } = ctx;
  const t = timeline(prng, ctx.nowMs);
  const status = prng.chance(0.05) ? 'preliminary' : 'final';
  const urn = () => `urn:uuid:${prng.uuid()}`;
  const [pUrn, srUrn, spUrn] = [urn(), urn(), urn()];
  const entries: [string, FhirResource][] = [[pUrn, patient(prng, ctx.nowMs, { gender: 'female', minAge: 30, maxAge: 65 }, ctx.bsns, ctx.serial)]];
  entries.push([srUrn, serviceRequest(HRHPV, pUrn, ctx.requester, t.authoredOn)]);

  const hpv: Qualitative = prng.weighted([['negative', 90], ['positive', 9], ['inconclusive', 1]]);
  const cytoUrn = hpv === 'positive' ? urn() : undefined;
  entries.push([spUrn, specimen(prng, SPECIMEN_TYPES.cervicalSmear, pUrn, cytoUrn ? [srUrn, cytoUrn] : [srUrn], t)]);
  if (cytoUrn) entries.push([cytoUrn, serviceRequest(CYTOLOGY, pUrn, ctx.requester, t.collected, 'reflex-order')]);

  const spec = (loinc: string, basedOn: string, device: string): ObservationSpec => ({ loinc, subject: pUrn, specimen: spUrn, basedOn, device, status, t });
  const results: string[] = [];
  const add = (resource: FhirResource): void => {
    const u = urn();
    results.push(u);
    entries.push([u, resource]);
  };
  add(qualitativeObservation(spec(HRHPV, srUrn, 'Device/analyser-hpv-01'), hpv));

  let advice: Code = hpv === 'negative' ? ADVICE.routineRecall : ADVICE.repeatSample;
  let conclusion = hpv === 'negative'
    ? 'hrHPV negatief. Geen vervolgonderzoek nodig; volgende uitnodiging volgens schema.'
    : 'hrHPV-uitslag niet te beoordelen. Een nieuw monster is nodig.';
  if (cytoUrn) {
    const hpv16 = prng.chance(0.25);
    const hpv18 = prng.chance(0.1);
    const other = !hpv16 && !hpv18 ? true : prng.chance(0.6);
    [hpv16, hpv18, other].forEach((pos, i) => add(qualitativeObservation(spec(GENOTYPES[i]!, srUrn, 'Device/analyser-hpv-01'), pos ? 'positive' : 'negative')));
    const pap = prng.weighted(PAP_WEIGHTS);
    add({
      ...observationBase(spec(CYTOLOGY, cytoUrn, 'Device/scanner-cyto-01')),
      valueCodeableConcept: concept(papCode(pap)),
      interpretation: [{ coding: [{ system: INTERPRETATION_SYSTEM, code: pap === 'Pap1' ? 'N' : 'A' }] }],
      component: [{
        code: concept(KOPAC_B_COMPONENT),
        valueCodeableConcept: { coding: [{ system: KOPAC_B_SYSTEM, code: `K1O1P${P_AXIS[pap]}A1C1B${pap === 'Pap0' ? 3 : 1}` }] },
      }],
    });
    if (pap === 'Pap0') {
      advice = ADVICE.repeatSample;
      conclusion = 'hrHPV positief; cytologie niet te beoordelen (Pap 0). Een nieuw monster is nodig.';
    } else if (pap === 'Pap1') {
      advice = ADVICE.repeatCytology;
      conclusion = 'hrHPV positief, cytologie zonder afwijkingen (Pap 1). Herhaalonderzoek over 6 maanden.';
    } else {
      advice = ADVICE.referGynaecology;
      conclusion = `hrHPV positief met afwijkende cytologie (${pap}). Verwijzing naar de gynaecoloog voor colposcopie.`;
    }
  }
  const basedOn = cytoUrn ? [srUrn, cytoUrn] : [srUrn];
  entries.push([urn(), report(HRHPV, pUrn, basedOn, spUrn, results, status, t, advice, conclusion)]);
  return transaction(entries);
}
