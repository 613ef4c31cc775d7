/**
 * One synthetic STI episode requested by a GP practice or hospital: chlamydia/gonorrhoea
 * NAAT (with trichomonas on some vaginal swabs) or HIV/syphilis serology, and a report with
 * advice.
 */
import { ADVICE, SPECIMEN_TYPES } from '../domain/index.js';
import type { Bundle, Code, FhirResource, Qualitative } from '../domain/index.js';
import { patient, qualitativeObservation, report, serviceRequest, specimen, timeline, transaction } from './builders.js';
import type { EpisodeContext } from './screening.js';
import { CT, HIV, NG, STI_POSITIVE, SYPHILIS, TV } from './test-codes.js';


export function stiEpisode(ctx: EpisodeContext, serologyShare: number): Bundle {
  const { prng } = ctx;
  const t = timeline(prng, ctx.nowMs);
  const status = prng.chance(0.05) ? 'preliminary' : 'final';
  const urn = () => `urn:uuid:${prng.uuid()}`;
  const gender = prng.chance(0.5) ? 'female' : 'male';
  const pUrn = urn();
  const entries: [string, FhirResource][] = [[pUrn, patient(prng, ctx.nowMs, { gender, minAge: 16, maxAge: 65 }, ctx.bsns, ctx.serial)]];

  const serology = prng.chance(serologyShare);
  let type = SPECIMEN_TYPES.serum;
  let tests = [HIV, SYPHILIS];
  if (!serology) {
    type = gender === 'female' ? SPECIMEN_TYPES.vaginalSwab : SPECIMEN_TYPES.urine;
    tests = gender === 'female' && prng.chance(0.4) ? [CT, NG, TV] : [CT, NG];
  }
  const orders = tests.map((loinc) => [loinc, urn()] as const);
  for (const [loinc, u] of orders) entries.push([u, serviceRequest(loinc, pUrn, ctx.requester, t.authoredOn)]);
  const spUrn = urn();
  entries.push([spUrn, specimen(prng, type, pUrn, orders.map(([, u]) => u), t)]);

  const device = serology ? 'Device/analyser-sero-01' : 'Device/analyser-naat-01';
  const outcomes: Qualitative[] = [];
  const results: string[] = [];
  for (const [loinc, basedOn] of orders) {
    const result: Qualitative = prng.chance(0.005) ? 'inconclusive' : prng.chance(STI_POSITIVE[loinc] ?? 0) ? 'positive' : 'negative';
    outcomes.push(result);
    const u = urn();
    results.push(u);
    entries.push([u, qualitativeObservation({ loinc, subject: pUrn, specimen: spUrn, basedOn, device, status, t }, result)]);
  }

  let advice: Code = ADVICE.noAction;
  let conclusion = 'Geen aanwijzingen voor een soa in de aangevraagde testen.';
  if (outcomes.includes('positive')) {
    advice = ADVICE.treatAndNotify;
    conclusion = 'Positieve uitslag voor een of meer soa-testen. Behandeling starten en partnerwaarschuwing bespreken.';
  } else if (outcomes.includes('inconclusive')) {
    advice = ADVICE.repeatSample;
    conclusion = 'Een of meer uitslagen niet te beoordelen. Een nieuw monster is nodig.';
  }
  entries.push([urn(), report(tests[0]!, pUrn, orders.map(([, u]) => u), spUrn, results, status, t, advice, conclusion)]);
  return transaction(entries);
}
