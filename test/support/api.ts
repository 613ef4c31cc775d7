/**
 * Talks to the real Fastify server in-process (inject), as the HTTP clients of each role would:
 * each request carries the role's DPoP-bound API token and a fresh proof from its key.
 */
import type { VaultFixture, Who } from './vault-fixture.js';
import * as fhir from './fhir.js';

export interface Reply {
  readonly status: number;
  readonly body: any;
  readonly headers: Record<string, unknown>;
  readonly text: string;
}

export interface CallOptions {
  readonly tenant?: string;
  readonly headers?: Record<string, string>;
  readonly raw?: string;
}

export function apiClient(f: VaultFixture) {
  const call = async (who: Who | null, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, o: CallOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = {
      'content-type': 'application/fhir+json', ...(who ? await f.credential(who, method, url) : {}), ...(o.headers ?? {}),
    };
    if (o.tenant) headers['x-labkluis-tenant'] = o.tenant;
    const res = await f.server.inject({
      method, url, headers,
      ...(o.raw !== undefined ? { payload: o.raw } : body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    let parsed: unknown = null;
    try {
      parsed = res.body ? JSON.parse(res.body) : null;
    } catch {
      parsed = null;
    }
    return { status: res.statusCode, body: parsed, headers: res.headers as Record<string, unknown>, text: res.body };
  };
  return {
    call,
    get: (who: Who | null, url: string, o?: CallOptions) => call(who, 'GET', url, undefined, o),
    post: (who: Who | null, url: string, body: unknown, o?: CallOptions) => call(who, 'POST', url, body, o),
    put: (who: Who | null, url: string, body: unknown, o?: CallOptions) => call(who, 'PUT', url, body, o),
  };
}

export interface Episode {
  readonly person: fhir.SyntheticPerson;
  readonly patient: string; // 'Patient/<pseudonym>'
  readonly pseudonym: string;
  readonly order: string;
  readonly specimen: string;
  readonly observation: string;
  readonly report: string; // 'DiagnosticReport/<id>', preliminary, entered by `enteredBy`
  readonly tenant: string;
}

/** A lab episode through the real API: registrar intake, analyst result and preliminary report. */
export async function episode(f: VaultFixture, tenant: string, enteredBy: Who = 'analyst'): Promise<Episode> {
  const api = apiClient(f);
  // Synthetic BSNs come from about 90,000 numbers: two episodes of one tenant may draw the same
  // one (1 in 400 runs for 20 episodes), which the vault rightly refuses (409). Draw again then.
  let intake = fhir.intakeBundle();
  let tx = await api.post('registrar', '/fhir', intake.bundle, { tenant });
  for (let again = 0; tx.status === 409 && again < 3; again++) {
    intake = fhir.intakeBundle();
    tx = await api.post('registrar', '/fhir', intake.bundle, { tenant });
  }
  if (tx.status !== 200) throw new Error(`intake failed: ${tx.status} ${tx.text}`);
  const [patient, order, specimen] = (tx.body.entry as { response: { location: string } }[]).map((e) => e.response.location.split('/_history/')[0]!);
  const obs = await api.post(enteredBy, '/fhir/Observation', fhir.hpvObservation(patient!, specimen!, { positive: true }), { tenant });
  if (obs.status !== 201) throw new Error(`observation failed: ${obs.status} ${obs.text}`);
  const observation = `Observation/${obs.body.id}`;
  const rep = await api.post(enteredBy, '/fhir/DiagnosticReport', fhir.report(patient!, [observation], 'preliminary', { basedOn: order!, specimen: specimen! }), { tenant });
  if (rep.status !== 201) throw new Error(`report failed: ${rep.status} ${rep.text}`);
  return {
    person: intake.person, patient: patient!, pseudonym: patient!.split('/')[1]!, order: order!, specimen: specimen!,
    observation, report: `DiagnosticReport/${rep.body.id}`, tenant,
  };
}
