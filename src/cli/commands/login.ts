/**
 * `labkluis login` and `labkluis logout`: the CLI signs in with the device authorisation grant
 * (RFC 8628). It shows a code, the person approves it in the browser with a passkey, and the CLI
 * receives a session bound (DPoP, RFC 9449) to its own key file. Tokens go to a 0600 file and are
 * never printed. The server, the file paths, fetch, the clock and sleeping are injectable, so
 * tests run this very code against an in-process server.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LabkluisError, systemClock, systemRandom, type Clock, type Random } from '../../kernel/index.js';
import { createDpopProof, generateDpopKey, loadDpopKey, saveDpopKey, type DpopKey } from '../../sessions/index.js';

/** The part of fetch the CLI uses (global fetch fits; tests pass one that calls the server in-process). */
export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

export interface DeviceLoginOptions {
  /** The server's public URL (its DPoP htu base), e.g. https://labkluis.example.nl. */
  readonly server?: string | undefined;
  /** The DPoP key file; default LABKLUIS_DEVICE_KEY, else ~/.config/labkluis/device-key.json. */
  readonly keyPath?: string | undefined;
  /** Where the session's tokens are kept; default ~/.config/labkluis/session.json. */
  readonly sessionPath?: string | undefined;
  readonly fetch?: Fetch;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly env?: NodeJS.ProcessEnv;
}

/** What session.json holds. */
interface SessionFile {
  readonly server: string;
  readonly keyPath: string;
  readonly sessionId: string;
  readonly tokenType: 'DPoP';
  readonly accessToken: string;
  readonly refreshToken: string;
}

const SLOW_DOWN_STEP_SECONDS = 5; // RFC 8628 §3.5
const TOKEN = /^[\x21-\x7e]{1,4096}$/;

export function devicePaths(opts: Pick<DeviceLoginOptions, 'keyPath' | 'sessionPath' | 'env'>): { keyPath: string; sessionPath: string } {
  const env = opts.env ?? process.env;
  const config = join(env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config'), 'labkluis');
  return {
    keyPath: resolve(opts.keyPath ?? env.LABKLUIS_DEVICE_KEY ?? join(config, 'device-key.json')),
    sessionPath: resolve(opts.sessionPath ?? join(config, 'session.json')),
  };
}

/** Signs this machine in; resolves once the session is saved. */
export async function login(opts: DeviceLoginOptions, out: (line: string) => void): Promise<void> {
  const server = serverUrl(opts.server);
  const { keyPath, sessionPath } = devicePaths(opts);
  const { clock = systemClock, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) } = opts;
  const key = await deviceKey(keyPath, out);
  const client = new Client(server, key, opts);

  const started = await client.post('/auth/device', {});
  if (started.status !== 200) throw refused('the server would not start a sign-in', started.status);
  const s = checkStart(started.json);
  out(`open ${s.verificationUri} and enter ${s.userCode}`);
  out(`(or open ${s.verificationUriComplete})`);
  out(`waiting for approval; the code expires in ${Math.round(s.expiresIn / 60)} minutes`);

  const deadline = clock.now().getTime() + s.expiresIn * 1000;
  let interval = s.interval;
  for (;;) {
    await sleep(interval * 1000);
    if (clock.now().getTime() >= deadline) throw unauthenticated('the code expired before it was approved: run labkluis login again');
    const r = await client.post('/auth/device/token', { deviceCode: s.deviceCode });
    if (r.status === 200) {
      const t = checkTokens(r.json);
      // One session per session file: the one saved before ends now, not at its idle timeout.
      const ended = await endSavedSession(sessionPath, opts).catch(() => null);
      await writePrivateFile(sessionPath, `${JSON.stringify({ server, keyPath, ...t } satisfies SessionFile, null, 2)}\n`);
      if (ended === 200) out('the session signed in before on this machine is ended');
      out(`signed in; the session is in ${sessionPath}`);
      return;
    }
    const error = r.status === 400 ? field(r.json, 'error') : undefined;
    if (error === 'authorization_pending') continue;
    if (error === 'slow_down') {
      interval += SLOW_DOWN_STEP_SECONDS;
      continue;
    }
    if (error === 'access_denied') throw unauthenticated('the sign-in was denied in the browser');
    if (error === 'expired_token') throw unauthenticated('the code expired before it was approved: run labkluis login again');
    throw refused(`the server refused the sign-in${error !== undefined && /^[a-z_]{1,40}$/.test(error) ? ` (${error})` : ''}`, r.status);
  }
}

/** Ends the session on the server and removes session.json. */
export async function logout(opts: DeviceLoginOptions, out: (line: string) => void): Promise<void> {
  const { sessionPath } = devicePaths(opts);
  let status: number | null;
  try {
    status = await endSavedSession(sessionPath, opts);
  } catch (e) {
    await unlink(sessionPath).catch(() => undefined);
    throw e instanceof LabkluisError
      ? new LabkluisError(e.code, `${e.message}; the local session file is removed, the session ends on its own after its idle timeout`)
      : e;
  }
  if (status === null) throw new LabkluisError('ERR_NOT_FOUND', `not signed in (no session file at ${sessionPath})`);
  await unlink(sessionPath);
  if (status !== 200 && status !== 401) throw refused('the local session file is removed, but the server did not end the session', status);
  out(status === 200 ? 'signed out' : 'the session had already ended; the local session file is removed');
}

/**
 * Signs out the session saved in `sessionPath` (null: no file). The access token lives five
 * minutes; when it has expired the refresh token gets a new one to sign out with.
 */
async function endSavedSession(sessionPath: string, opts: DeviceLoginOptions): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(sessionPath, 'utf8');
  } catch {
    return null;
  }
  const saved = checkSessionFile(text);
  const server = serverUrl(opts.server ?? saved.server);
  const key = await loadDpopKey(opts.keyPath === undefined ? saved.keyPath : devicePaths(opts).keyPath);
  const client = new Client(server, key, opts);
  let r = await client.post('/auth/sign-out', {}, saved.accessToken);
  if (r.status === 401) {
    const renewed = await client.post('/auth/token', { refreshToken: saved.refreshToken });
    if (renewed.status === 200) r = await client.post('/auth/sign-out', {}, checkTokens(renewed.json).accessToken);
  }
  return r.status;
}

/** Sends JSON with a fresh DPoP proof (and the access token when given). */
class Client {
  readonly #server: string;
  readonly #key: DpopKey;
  readonly #fetch: Fetch;
  readonly #clock: Clock;
  readonly #random: Random;

  constructor(server: string, key: DpopKey, opts: DeviceLoginOptions) {
    this.#server = server;
    this.#key = key;
    this.#fetch = opts.fetch ?? fetch;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? systemRandom;
  }

  async post(path: string, body: unknown, accessToken?: string): Promise<{ status: number; json: unknown }> {
    const url = `${this.#server}${path}`;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      dpop: await createDpopProof(this.#key, { method: 'POST', url, clock: this.#clock, random: this.#random, ...(accessToken ? { accessToken } : {}) }),
    };
    if (accessToken) headers.authorization = `DPoP ${accessToken}`;
    let res: { status: number; text(): Promise<string> };
    let text: string;
    try {
      res = await this.#fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
      text = await res.text();
    } catch {
      throw new LabkluisError('ERR_CONFIG', `cannot reach ${this.#server}: check --server`);
    }
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON: the status says enough */
    }
    return { status: res.status, json };
  }
}

/** The key file, created (0600, never overwriting) when absent; an existing one must be private. */
async function deviceKey(path: string, out: (line: string) => void): Promise<DpopKey> {
  try {
    await lstat(path);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw new LabkluisError('ERR_KEYRING', 'cannot read the DPoP key file');
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const key = await generateDpopKey();
    await saveDpopKey(path, key);
    out(`created the device key ${path}`);
    return key;
  }
  return loadDpopKey(path);
}

/** Atomic replace with a private file: a fresh 0600 temp file (O_EXCL) renamed over the target. */
async function writePrivateFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${randomBytes(8).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
    await file.close();
    await rename(tmp, path);
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new LabkluisError('ERR_CONFIG', `cannot write ${path}`, { cause: e });
  }
}

/** An https origin (http only on this machine): tokens never travel in the clear. */
function serverUrl(raw: string | undefined): string {
  let u: URL | null = null;
  try {
    u = raw === undefined ? null : new URL(raw);
  } catch {
    u = null;
  }
  const local = u !== null && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (u === null || !(u.protocol === 'https:' || (u.protocol === 'http:' && local)) || u.username || u.password || u.pathname !== '/' || u.search || u.hash) {
    throw new LabkluisError('ERR_INVALID_INPUT', '--server is the server\'s public URL, https://host[:port] (http only for localhost)');
  }
  return u.origin;
}

const field = (v: unknown, name: string): string | undefined => {
  const x = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[name] : undefined;
  return typeof x === 'string' ? x : undefined;
};

/** What the server says is shown on a terminal: printable ASCII only, so no escape sequences. */
function checkStart(v: unknown) {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const uri = (x: unknown) => typeof x === 'string' && /^https?:\/\/[\x21-\x7e]{1,500}$/.test(x);
  const seconds = (x: unknown, max: number) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= max;
  if (typeof o.deviceCode !== 'string' || !TOKEN.test(o.deviceCode) || typeof o.userCode !== 'string' || !/^[A-Z]{4}-[A-Z]{4}$/.test(o.userCode)
    || !uri(o.verificationUri) || !uri(o.verificationUriComplete) || !seconds(o.expiresIn, 3600) || !seconds(o.interval, 60)) {
    throw new LabkluisError('ERR_CONFIG', 'the server did not answer like labkluis: check --server');
  }
  return o as { deviceCode: string; userCode: string; verificationUri: string; verificationUriComplete: string; expiresIn: number; interval: number };
}

function checkTokens(v: unknown): Omit<SessionFile, 'server' | 'keyPath'> {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof o.sessionId !== 'string' || typeof o.accessToken !== 'string' || typeof o.refreshToken !== 'string' || o.tokenType !== 'DPoP'
    || !TOKEN.test(o.sessionId) || !TOKEN.test(o.accessToken) || !TOKEN.test(o.refreshToken)) {
    throw new LabkluisError('ERR_CONFIG', 'the server did not answer like labkluis: check --server');
  }
  return { sessionId: o.sessionId, tokenType: 'DPoP', accessToken: o.accessToken, refreshToken: o.refreshToken };
}

function checkSessionFile(text: string): SessionFile {
  let o: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null) o = v as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  if (typeof o.server !== 'string' || typeof o.keyPath !== 'string') throw new LabkluisError('ERR_CONFIG', 'the session file is damaged: delete it and sign in again');
  try {
    return { server: o.server, keyPath: o.keyPath, ...checkTokens(o) };
  } catch {
    throw new LabkluisError('ERR_CONFIG', 'the session file is damaged: delete it and sign in again');
  }
}

const unauthenticated = (message: string) => new LabkluisError('ERR_UNAUTHENTICATED', message);
function refused(what: string, status: number): LabkluisError {
  const hint = status === 401 ? ': is --server the URL the server calls its public one?' : '';
  return new LabkluisError('ERR_UNAUTHENTICATED', `${what} (HTTP ${status})${hint}`);
}
