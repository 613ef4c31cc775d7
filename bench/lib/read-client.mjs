/**
 * The load generator, in a worker thread so it does not share the server's event loop:
 * `concurrency` async clients on Node's fetch (undici, keep-alive connections), each
 * GET /fhir/DiagnosticReport/<random id> until the phase's request count is used up. Each
 * request carries the requester's DPoP-bound API token and a fresh proof from its key, as a
 * real integration would. Latency is taken from just before fetch() (after signing the proof)
 * until the body has been read.
 *
 * Plain JavaScript on purpose: worker threads do not inherit tsx's loader on Node 20.
 * Messages: in { requests, concurrency, rate? } (rate: open loop, see openPhase), out { ok: true, result: PhaseResult } or { ok: false, error }
 * (types in read-load.ts).
 */
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { SignJWT, importJWK } from 'jose';

/** @type {{ baseUrl: string, publicUrl: string, token: string, ath: string, privateJwk: Record<string, string>, ids: string[] }} */
const setup = workerData;
const signingKey = await importJWK(setup.privateJwk, 'ES256');
const { d: _private, ...publicJwk } = setup.privateJwk;

/** Headers for one read of `url`: the token and a proof that has never been used. */
async function headersFor(/** @type {string} */ path) {
  const dpop = await new SignJWT({ jti: randomBytes(16).toString('base64url'), htm: 'GET', htu: setup.publicUrl + path, iat: Math.floor(Date.now() / 1000), ath: setup.ath })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })
    .sign(signingKey);
  return { authorization: `DPoP ${setup.token}`, dpop, accept: 'application/fhir+json' };
}

/**
 * @param {number} requests
 * @param {number} concurrency
 */
async function phase(requests, concurrency) {
  const latenciesMs = new Float64Array(requests);
  /** @type {Record<string, number>} */
  const statuses = {};
  let next = 0;
  let bytes = 0;
  const client = async () => {
    for (;;) {
      const i = next++;
      if (i >= requests) return;
      const id = setup.ids[Math.floor(Math.random() * setup.ids.length)];
      const path = `/fhir/DiagnosticReport/${id}`;
      const headers = await headersFor(path);
      const t0 = performance.now();
      const res = await fetch(setup.baseUrl + path, { headers });
      const body = await res.arrayBuffer();
      latenciesMs[i] = performance.now() - t0;
      bytes += body.byteLength;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, client));
  return { latenciesMs, seconds: (performance.now() - started) / 1000, statuses, bytes };
}

/**
 * Open loop: requests start on a fixed schedule (`rate` per second) whether or not earlier ones
 * have finished, and latency counts from the scheduled start, so a stall is not hidden by the
 * clients politely waiting (no coordinated omission).
 * @param {number} requests
 * @param {number} rate
 */
async function openPhase(requests, rate) {
  const latenciesMs = new Float64Array(requests);
  /** @type {Record<string, number>} */
  const statuses = {};
  let bytes = 0;
  const one = async (/** @type {number} */ i, /** @type {number} */ due) => {
    const id = setup.ids[Math.floor(Math.random() * setup.ids.length)];
    const path = `/fhir/DiagnosticReport/${id}`;
    const res = await fetch(setup.baseUrl + path, { headers: await headersFor(path) });
    const body = await res.arrayBuffer();
    latenciesMs[i] = performance.now() - due;
    bytes += body.byteLength;
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  };
  const interval = 1000 / rate;
  const started = performance.now();
  /** @type {Promise<void>[]} */
  const inFlight = [];
  for (let i = 0; i < requests; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(one(i, due));
  }
  await Promise.all(inFlight);
  return { latenciesMs, seconds: (performance.now() - started) / 1000, statuses, bytes };
}

parentPort.on('message', (/** @type {{ requests: number, concurrency: number, rate?: number }} */ msg) => {
  (msg.rate ? openPhase(msg.requests, msg.rate) : phase(msg.requests, msg.concurrency)).then(
    (result) => parentPort.postMessage({ ok: true, result }, [result.latenciesMs.buffer]),
    (e) => parentPort.postMessage({ ok: false, error: e instanceof Error ? `${e.message} ${String(e.cause ?? '')}` : String(e) }),
  );
});
