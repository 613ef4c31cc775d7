/**
 * What each role does for one piece of work, request by request, with the time it takes a
 * person (or a system) between requests. These are the assumptions bench/README.md lists under
 * "Attack replay"; change them there too.
 */
import { HOUR, at, dayOf, isWeekday } from './calendar.js';
import type { Client } from './client.js';
import { Lab, type Authorised, type LiveEpisode } from './lab.js';
import { ANALYSERS, type Analyser } from './staff.js';
import { call, minutes, seconds, type World } from './world.js';

const idOf = (location: string | undefined): string | null => /^[A-Za-z]+\/([^/]+)/.exec(location ?? '')?.[1] ?? null;

/**
 * The requester's system places the order: a returning patient is looked up by BSN and their
 * earlier results shown to the clinician; a new one is sent along with the order.
 */
export async function placeOrder(w: World, c: Client, e: LiveEpisode): Promise<void> {
  const now = w.sim.now;
  if (e.returning) {
    const found = await call(w, c, 'GET', `/fhir/Patient?identifier=${e.bsn}`);
    const ps = found?.body?.entry?.[0]?.resource?.id as string | undefined;
    if (!ps) return;
    e.pseudonym = ps;
    await w.sim.sleep(seconds(w, 5, 40));
    await call(w, c, 'GET', `/fhir/DiagnosticReport?subject=Patient/${ps}`);
    await w.sim.sleep(seconds(w, 30, 120));
    const entries = w.lab.orders(e, `Patient/${ps}`, w.sim.now).map((resource) => ({ fullUrl: `urn:uuid:${w.prng.uuid()}`, resource, request: { method: 'POST', url: 'ServiceRequest' } }));
    const tx = await call(w, c, 'POST', '/fhir', { body: { resourceType: 'Bundle', type: 'transaction', entry: entries } });
    if (tx?.status === 200) e.orderIds = (tx.body.entry as { response: { location: string } }[]).map((x) => idOf(x.response.location)!);
  } else {
    const pUrn = `urn:uuid:${w.prng.uuid()}`;
    const entries = [
      { fullUrl: pUrn, resource: w.lab.newPatient(e, now), request: { method: 'POST', url: 'Patient' } },
      ...w.lab.orders(e, pUrn, now).map((resource) => ({ fullUrl: `urn:uuid:${w.prng.uuid()}`, resource, request: { method: 'POST', url: 'ServiceRequest' } })),
    ];
    const tx = await call(w, c, 'POST', '/fhir', { body: { resourceType: 'Bundle', type: 'transaction', entry: entries } });
    if (tx?.status === 200) {
      const ids = (tx.body.entry as { response: { location: string } }[]).map((x) => idOf(x.response.location)!);
      e.pseudonym = ids[0]!;
      e.orderIds = ids.slice(1);
    }
  }
}

/** Registration at the lab's intake desk: find the person by BSN (from the form), their open orders, label the tube. */
export async function register(w: World, c: Client, e: LiveEpisode): Promise<boolean> {
  const tenant = e.tenant.id;
  const found = await call(w, c, 'GET', `/fhir/Patient?identifier=${e.bsn}`, { tenant });
  const ps = found?.body?.entry?.[0]?.resource?.id as string | undefined;
  if (!ps) return false;
  await w.sim.sleep(seconds(w, 10, 30));
  const orders = await call(w, c, 'GET', `/fhir/ServiceRequest?subject=Patient/${ps}&status=active`, { tenant });
  if (!orders || orders.status !== 200) return false;
  await w.sim.sleep(seconds(w, 20, 60)); // label, check the form
  e.barcode = w.lab.nextBarcode();
  const created = await call(w, c, 'POST', '/fhir/Specimen', { tenant, body: w.lab.specimen(e, e.arrivalMs - seconds(w, 4 * 3600, 30 * 3600)) });
  if (created?.status !== 201) return false;
  e.specimenId = created.body?.id ?? idOf(String(created.body?.location ?? ''));
  w.lab.awaitingRun.get(e.analyser)!.push(e);
  w.lab.counts.registered++;
  await w.sim.sleep(seconds(w, 20, 60));
  return true;
}

/** The analyser's middleware posts each result as the run finishes (the instrument reads nothing). */
export async function postRun(w: World, c: Client, kind: Analyser, run: LiveEpisode[]): Promise<void> {
  const done: LiveEpisode[] = [];
  for (const e of run) {
    for (const obs of w.lab.instrumentResults(e, ANALYSERS[kind], w.sim.now)) {
      const r = await call(w, c, 'POST', '/fhir/Observation', { tenant: e.tenant.id, body: obs });
      const id = r?.status === 201 ? /\/fhir\/Observation\/([^/]+)/.exec(r.location ?? '')?.[1] : undefined;
      if (id) e.resultIds.push(id);
      await w.sim.sleep(seconds(w, 1, 3));
    }
    if (e.resultIds.length > 0) done.push(e);
  }
  w.lab.counts.resulted += done.length;
  if (done.length > 0) w.lab.review.push(done.sort((a, b) => a.barcode!.localeCompare(b.barcode!)));
}

/** An analyst reviews one specimen of a run (by its barcode) and writes the preliminary report. */
export async function reviewSpecimen(w: World, c: Client, e: LiveEpisode): Promise<boolean> {
  const tenant = e.tenant.id;
  const s = await call(w, c, 'GET', `/fhir/Specimen?identifier=${e.barcode}`, { tenant });
  if (!s || s.status !== 200) return false;
  await call(w, c, 'GET', `/fhir/Observation?specimen=Specimen/${e.specimenId}`, { tenant });
  const abnormal = Lab.abnormal(e);
  if (abnormal) await call(w, c, 'GET', `/fhir/DiagnosticReport?subject=Patient/${e.pseudonym}`, { tenant });
  await w.sim.sleep(abnormal ? minutes(w, 2, 4) : seconds(w, 40, 90));
  if (e.pap !== null) {
    // hrHPV positive: the smear goes to cytology, screened from the next working morning.
    let d = dayOf(w.sim.now) + 1;
    while (!isWeekday(d)) d++;
    w.lab.cytology.push({ episode: e, readyMs: at(d, 8) });
    return true;
  }
  await writeReport(w, c, e);
  return true;
}

/** A cytotechnologist screens the smear, records the Pap class and writes the report. */
export async function screenCytology(w: World, c: Client, e: LiveEpisode): Promise<void> {
  const tenant = e.tenant.id;
  await call(w, c, 'GET', `/fhir/Specimen?identifier=${e.barcode}`, { tenant });
  await call(w, c, 'GET', `/fhir/Observation?specimen=Specimen/${e.specimenId}`, { tenant });
  await call(w, c, 'GET', `/fhir/DiagnosticReport?subject=Patient/${e.pseudonym}`, { tenant });
  await w.sim.sleep(minutes(w, 6, 10));
  const r = await call(w, c, 'POST', '/fhir/Observation', { tenant, body: w.lab.cytologyResult(e, w.sim.now) });
  if (r?.status !== 201) return;
  e.resultIds.push(r.body.id);
  await writeReport(w, c, e);
}

async function writeReport(w: World, c: Client, e: LiveEpisode): Promise<void> {
  const tenant = e.tenant.id;
  const r = await call(w, c, 'POST', '/fhir/DiagnosticReport', { tenant, body: w.lab.report(e, w.sim.now) });
  if (r?.status !== 201) return;
  w.lab.pending.set(tenant, (w.lab.pending.get(tenant) ?? 0) + 1);
  w.lab.counts.reported++;
  await w.sim.sleep(seconds(w, 5, 20));
}

/**
 * A validator works one page of a client's worklist (DiagnosticReport?status=preliminary,
 * 10 a page): per report the results, the history when something is abnormal, then authorise.
 * Returns the reports authorised.
 */
export async function validatePage(w: World, c: Client, tenant: string, endMs: number, onAuthorised: (a: Authorised) => void): Promise<number> {
  const page = await call(w, c, 'GET', '/fhir/DiagnosticReport?status=preliminary&_count=10', { tenant });
  if (!page || page.status !== 200) return 0;
  const reports = ((page.body.entry ?? []) as { resource: any }[]).map((x) => x.resource);
  if (reports.length === 0) {
    w.lab.pending.set(tenant, 0);
    return 0;
  }
  let n = 0;
  for (const rep of reports) {
    if (w.sim.now >= endMs) break;
    await w.sim.sleep(seconds(w, 5, 15));
    const specimen = rep.specimen?.[0]?.reference as string | undefined;
    const obs = specimen ? await call(w, c, 'GET', `/fhir/Observation?specimen=${specimen}`, { tenant }) : null;
    const abnormal = ((obs?.body?.entry ?? []) as { resource: any }[]).some((x) => {
      const code = x.resource?.interpretation?.[0]?.coding?.[0]?.code;
      return code !== undefined && code !== 'NEG' && code !== 'N';
    });
    if (abnormal) await call(w, c, 'GET', `/fhir/DiagnosticReport?subject=${rep.subject.reference}`, { tenant });
    await w.sim.sleep(abnormal ? minutes(w, 2, 4) : seconds(w, 25, 60));
    const version = rep.meta?.versionId as string | undefined;
    const put = await call(w, c, 'PUT', `/fhir/DiagnosticReport/${rep.id}`, {
      tenant, body: { ...rep, status: 'final' }, headers: version ? { 'if-match': `W/"${version}"` } : {},
    });
    if (put?.status !== 200) continue;
    n++;
    w.lab.pending.set(tenant, Math.max(0, (w.lab.pending.get(tenant) ?? 1) - 1));
    w.lab.counts.authorised++;
    onAuthorised({ tenant, reportId: rep.id, results: ((rep.result ?? []) as { reference: string }[]).map((r) => r.reference), atMs: w.sim.now });
  }
  return n;
}

/** The requester's system fetches an authorised report and its results (it was notified). */
export async function fetchReport(w: World, c: Client, a: Authorised): Promise<void> {
  const r = await call(w, c, 'GET', `/fhir/DiagnosticReport/${a.reportId}`, {}, w.sim.now + 3 * 24 * HOUR);
  if (!r || r.status !== 200) return;
  for (const ref of a.results) {
    await w.sim.sleep(seconds(w, 0.1, 0.5));
    await call(w, c, 'GET', `/fhir/${ref}`);
  }
  w.lab.counts.fetched++;
}
