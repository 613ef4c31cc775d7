/**
 * One workstation or system talking to the vault over HTTP (Fastify inject, in-process), as its
 * real client would: a person's browser holds a DPoP-bound session (5-minute access token,
 * refreshed with its single-use refresh token, signed in again with the passkey when the session
 * has ended), a service holds its API token and the key it is bound to. Every request carries a
 * fresh proof from the client's own key, dated by the simulated clock.
 *
 * What came back is counted here, from the response bodies: the distinct patients each client
 * actually received (tenant + pseudonym), which is how an attack's exposure is measured.
 */
import { issueApiToken } from '../../src/auth/index.js';
import { systemRandom } from '../../src/kernel/index.js';
import { createDpopProof, generateDpopKey, type DpopKey } from '../../src/sessions/index.js';
import { PUBLIC_URL, type Harness } from './harness.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Reply {
  readonly status: number;
  readonly body: any;
  /** 'tenant|pseudonym' of every patient the response carried data of. */
  readonly patients: readonly string[];
  /** Wall time the server took (ms). */
  readonly wallMs: number;
  /** From Retry-After on a 429 (ms). */
  readonly retryAfterMs: number | null;
  /** The Location header (creates; roles that get no body back learn the id from it). */
  readonly location: string | null;
}

export interface RequestOptions {
  readonly tenant?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface ClientSpec {
  readonly name: string;
  readonly role: string;
  readonly principalId: string;
  readonly kind: 'person' | 'service';
  readonly ip: string;
  readonly userAgent: string;
  /** Services: the tenant they act for (requesters have one). */
  readonly tenant?: string;
}

interface SessionTokens {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  expiresAtMs: number;
}

export class Client {
  readonly spec: ClientSpec;
  readonly #h: Harness;
  key!: DpopKey;
  #session: SessionTokens | null = null;
  #apiToken: string | null = null;
  readonly stats = { requests: 0, refreshes: 0, signIns: 0, unauthorised: 0, refused: 0, throttled: 0, wallMs: 0 };

  private constructor(h: Harness, spec: ClientSpec) {
    this.#h = h;
    this.spec = spec;
  }

  static async person(h: Harness, spec: Omit<ClientSpec, 'kind'>): Promise<Client> {
    const c = new Client(h, { ...spec, kind: 'person' });
    c.key = await generateDpopKey();
    return c;
  }

  static async service(h: Harness, spec: Omit<ClientSpec, 'kind'>): Promise<Client> {
    const c = new Client(h, { ...spec, kind: 'service' });
    await c.reissueToken();
    return c;
  }

  get name(): string {
    return this.spec.name;
  }

  get principalId(): string {
    return this.spec.principalId;
  }

  /** What a thief could copy from this client: the current tokens (not the key). */
  get credentials(): { accessToken: string | null; refreshToken: string | null; apiToken: string | null } {
    return { accessToken: this.#session?.accessToken ?? null, refreshToken: this.#session?.refreshToken ?? null, apiToken: this.#apiToken };
  }

  /** A service's operator issues a new key pair and token (after the old one was revoked). */
  async reissueToken(): Promise<void> {
    this.key = await generateDpopKey();
    const deps = { store: this.#h.app.store, clock: this.#h.clock, random: systemRandom };
    this.#apiToken = (await issueApiToken(deps, this.spec.principalId, null, this.key.jkt)).token;
  }

  /**
   * The person signs in (password, then the passkey on this device): the session that sign-in
   * opens, bound to this device's key. The ceremony itself is not replayed here; the sentinel
   * does not watch it, and argon2 for every sign-in of two weeks would cost minutes.
   */
  async signIn(): Promise<void> {
    if (this.spec.kind !== 'person') throw new TypeError('only people sign in');
    const pair = await this.#h.app.sessions.open({
      principalId: this.spec.principalId, jkt: this.key.jkt, authMethod: 'passkey', ip: this.spec.ip, userAgent: this.spec.userAgent,
    });
    this.#session = { ...pair, expiresAtMs: this.#h.clock.ms + pair.expiresIn * 1000 };
    this.stats.signIns++;
  }

  /** The person closes the browser: the session is left to time out. */
  forgetSession(): void {
    this.#session = null;
  }

  async signOut(): Promise<void> {
    if (this.#session) await this.#send('POST', '/auth/sign-out', { body: {} });
    this.#session = null;
  }

  /** One request as this client; a person's expired token is refreshed first, an ended session signed in again once. */
  async request(method: Method, path: string, o: RequestOptions = {}): Promise<Reply> {
    if (this.spec.kind === 'person') {
      if (this.#session === null) await this.signIn();
      else if (this.#h.clock.ms >= this.#session.expiresAtMs - 15_000) await this.#refresh();
    }
    let reply = await this.#send(method, path, o);
    if (reply.status === 401 && this.spec.kind === 'person') {
      // The session ended (idle, contained, revoked): the person signs in again and retries once.
      await this.signIn();
      reply = await this.#send(method, path, o);
    }
    if (reply.status === 401) this.stats.unauthorised++;
    if (reply.status === 403) this.stats.refused++;
    if (reply.status === 429) this.stats.throttled++;
    return reply;
  }

  async #refresh(): Promise<void> {
    const url = '/auth/token';
    const dpop = await createDpopProof(this.key, { method: 'POST', url: `${PUBLIC_URL}${url}`, clock: this.#h.clock, random: systemRandom });
    const res = await this.#h.server.inject({
      method: 'POST', url, payload: JSON.stringify({ refreshToken: this.#session!.refreshToken }),
      headers: { 'content-type': 'application/json', dpop, 'user-agent': this.spec.userAgent }, remoteAddress: this.spec.ip,
    });
    this.stats.refreshes++;
    if (res.statusCode === 200) {
      const b = JSON.parse(res.body) as { accessToken: string; refreshToken: string; sessionId: string; expiresIn: number };
      this.#session = { ...b, expiresAtMs: this.#h.clock.ms + b.expiresIn * 1000 };
    } else {
      await this.signIn();
    }
  }

  async #send(method: Method, path: string, o: RequestOptions): Promise<Reply> {
    const token = this.spec.kind === 'person' ? this.#session?.accessToken : this.#apiToken;
    const headers: Record<string, string> = { 'user-agent': this.spec.userAgent, ...(o.headers ?? {}) };
    if (token) {
      headers.authorization = `DPoP ${token}`;
      headers.dpop = await createDpopProof(this.key, { method, url: `${PUBLIC_URL}${path}`, accessToken: token, clock: this.#h.clock, random: systemRandom });
    }
    const tenant = o.tenant ?? this.spec.tenant;
    if (tenant && !path.startsWith('/auth/')) headers['x-labkluis-tenant'] = tenant;
    return sendRaw(this.#h, { method, path, headers, ip: this.spec.ip, body: o.body, tenant: tenant ?? '' }, this.stats);
  }
}

/** A request with exactly these headers (also for a thief's hand-made ones). */
export async function sendRaw(
  h: Harness,
  r: { method: Method; path: string; headers: Record<string, string>; ip: string; body?: unknown; tenant: string },
  stats?: { requests: number; wallMs: number },
): Promise<Reply> {
  const headers = { ...r.headers };
  if (r.body !== undefined) headers['content-type'] ??= r.path.startsWith('/auth/') ? 'application/json' : 'application/fhir+json';
  const t0 = performance.now();
  const res = await h.server.inject({
    method: r.method, url: r.path, headers, remoteAddress: r.ip, ...(r.body !== undefined ? { payload: JSON.stringify(r.body) } : {}),
  });
  const wallMs = performance.now() - t0;
  if (stats) {
    stats.requests++;
    stats.wallMs += wallMs;
  }
  let body: any = null;
  try {
    body = res.body ? JSON.parse(res.body) : null;
  } catch {
    body = null;
  }
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  const retry = res.headers['retry-after'];
  return {
    status: res.statusCode, body, wallMs,
    patients: ok && r.method === 'GET' ? patientsIn(body, r.tenant) : [],
    retryAfterMs: res.statusCode === 429 && retry !== undefined ? Number(retry) * 1000 : null,
    location: typeof res.headers.location === 'string' ? res.headers.location : null,
  };
}

/** Distinct 'tenant|pseudonym' of the patients whose data a FHIR response (resource or Bundle) carries. */
export function patientsIn(body: any, tenant: string): string[] {
  const out = new Set<string>();
  const visit = (r: any) => {
    if (!r || typeof r !== 'object') return;
    if (r.resourceType === 'Patient' && typeof r.id === 'string') out.add(`${tenant}|${r.id}`);
    const ref = r.subject?.reference;
    if (typeof ref === 'string' && ref.startsWith('Patient/')) out.add(`${tenant}|${ref.slice(8)}`);
  };
  if (body?.resourceType === 'Bundle') for (const e of body.entry ?? []) visit(e.resource);
  else visit(body);
  return [...out];
}
