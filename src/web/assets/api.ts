/**
 * /web/api.js: calls to the /auth routes with DPoP proofs, and the session they open. The access
 * token lives only in this module's memory; the refresh token, the session id and the username in
 * sessionStorage, so that the next page of the same tab (or a reload) can continue the session.
 */
export const SESSION_STORAGE_KEY = 'labkluis.session';
/** What a page says when the server refuses the session (signed out elsewhere, revoked, timed out, stolen). */
export const SESSION_ENDED_MESSAGE = 'Your session has ended (signed out, revoked or timed out). Sign in again.';

// The ${…} below fill in the constants above; the rest is the file as the browser gets it.
export const apiJs = String.raw`// The /auth API with DPoP proofs, and where this tab keeps its session.
//
// The access token (5 minutes) lives only in this module's memory. The refresh token sits in
// sessionStorage (this tab only, gone when the tab closes, never sent by the browser on its own
// like a cookie), so /enrol and /sign-in can hand the session to /account and a reload keeps
// it. A copied refresh token is worth nothing alone: the server only accepts it with a proof
// from this browser's non-extractable key, and it is single use (a reuse ends the session).
// A step-up (stepUp below) and a new sign-in in this tab replace the session: the tab holds one
// session at a time, and the pair it held before is dead at once.
import { proof } from './dpop.js';
import { usePasskey } from './webauthn.js';

const KEY = '${SESSION_STORAGE_KEY}';
const EARLY_MS = 30_000; // refresh this long before the access token expires

let access = null; // { token, expiresAtMs }
let skewMs = null; // server time minus local time, from the Date header of responses
let changing = null; // the change of this tab's tokens under way (a refresh or a step-up), if any

export class ApiError extends Error {
  /** status: the HTTP status; code: the OperationOutcome's first issue code ('forbidden', ...), or null. */
  constructor(status, message, code = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const serverNow = () => Date.now() + (skewMs ?? 0);

/** The first issue's diagnostics of an OperationOutcome: the server's words, which never echo a password. */
function diagnostics(body, status) {
  const text = body?.issue?.[0]?.diagnostics;
  return typeof text === 'string' && text !== '' ? text : 'The server could not complete the request (HTTP ' + status + ').';
}

async function send(method, path, { body, accessToken, withProof = false } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (withProof) {
    if (skewMs === null) await calibrate();
    headers.dpop = await proof(method, path, { accessToken, nowMs: serverNow() });
  }
  if (accessToken) headers.authorization = 'DPoP ' + accessToken;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit', cache: 'no-store', redirect: 'error', referrerPolicy: 'no-referrer',
  });
  const date = Date.parse(response.headers.get('date') ?? '');
  // The Date header counts whole seconds and rounds down: the estimate errs towards the past,
  // which a proof's iat may (60 s), rather than towards the future, which it may barely (5 s).
  if (Number.isFinite(date)) skewMs = date - Date.now();
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, diagnostics(data, response.status), typeof data?.issue?.[0]?.code === 'string' ? data.issue[0].code : null);
  return data;
}

/**
 * A proof's iat must lie within seconds of the server's clock (RFC 9449 §11.1), whatever this
 * computer's clock says: learn the difference from a cheap public call's Date header.
 */
const calibrate = () => send('GET', '/healthz').catch(() => {});

/** A public call without a proof (/auth/enrol/start, /auth/sign-in). */
export const post = (path, body) => send('POST', path, { body });

/**
 * A public call that opens a session bound to this browser's key (/auth/enrol/finish,
 * /auth/sign-in/passkey, /auth/sign-in/code). A session this tab still holds ends first
 * (ASVS 5.0 7.2.4), whether or not the new one opens: it must not linger unseen until it times
 * out. If the server cannot be told, the tab forgets it all the same.
 */
export async function openSession(path, body, username) {
  if (saved() !== null) await signOut().catch(() => {});
  keep(await send('POST', path, { body, withProof: true }), username);
}

function keep(pair, username) {
  access = { token: pair.accessToken, expiresAtMs: Date.now() + pair.expiresIn * 1000 };
  sessionStorage.setItem(KEY, JSON.stringify({ refreshToken: pair.refreshToken, sessionId: pair.sessionId, username }));
}

function saved() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    return typeof s?.refreshToken === 'string' ? s : null;
  } catch {
    return null;
  }
}

/** What this tab knows of its session: { sessionId, username }, or null when signed out. */
export function currentSession() {
  const s = saved();
  return s === null ? null : { sessionId: s.sessionId, username: s.username };
}

/** Forgets the session in this tab (the server's side ends with sign-out or revocation). */
export function forgetSession() {
  access = null;
  sessionStorage.removeItem(KEY);
}

/**
 * Ends this tab's session at the server (POST /auth/sign-out) and forgets it here in any case.
 * A session the server had already ended counts as signed out; any other failure is thrown
 * (after forgetting), so that a page can say the server may not have heard.
 */
export async function signOut() {
  try {
    await call('POST', '/auth/sign-out', {});
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) throw e;
  } finally {
    forgetSession();
  }
}

async function refresh() {
  const s = saved();
  if (s === null) throw new ApiError(401, 'You are not signed in.');
  try {
    // The refresh token is single use, spent by this call whatever its outcome: so its proof's
    // time is checked against the server's just before (the clock may have jumped since).
    await calibrate();
    const pair = await send('POST', '/auth/token', { body: { refreshToken: s.refreshToken }, withProof: true });
    keep(pair, s.username);
    return pair.accessToken;
  } catch (e) {
    forgetSession();
    throw e;
  }
}

const fresh = () => access !== null && access.expiresAtMs - Date.now() > EARLY_MS;

/**
 * Changes this tab's tokens one at a time, in order. A refresh must not spend a refresh token
 * that a step-up is replacing, nor keep its pair after the step-up kept the new one.
 */
function change(task) {
  const run = (changing ?? Promise.resolve()).catch(() => {}).then(task);
  const tracked = run.finally(() => {
    if (changing === tracked) changing = null;
  });
  changing = tracked;
  return tracked;
}

/**
 * An access token with some life left: refreshed only when a call needs one. No timer keeps the
 * session alive in the background, so the server's idle timeout still ends an unattended one.
 * Calls that need a token while one is being changed wait for the change (one refresh for all).
 */
function accessToken() {
  if (changing === null && fresh()) return Promise.resolve(access.token);
  return change(async () => (fresh() ? access.token : refresh()));
}

export const SESSION_ENDED = ${JSON.stringify(SESSION_ENDED_MESSAGE)};

/** A call inside the session: Authorization: DPoP <token> with a proof carrying the token's hash. */
export async function call(method, path, body) {
  const attempt = async () => send(method, path, { body, accessToken: await accessToken(), withProof: true });
  try {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401 && saved() !== null)) throw e;
      // Refused with the session still on hand: the token may have run out early (a laptop that
      // slept, a clock that jumped). One refresh and one retry; if the session is over, that fails too.
      access = null;
      return await attempt();
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      forgetSession();
      throw new ApiError(401, SESSION_ENDED);
    }
    throw e;
  }
}

/**
 * Step-up before a sensitive action (approving a terminal, ...): a fresh passkey assertion in
 * this session. The server answers with a new session and token pair on this browser's key and
 * ends the old one at once (ASVS 5.0 7.2.4); this tab keeps the new pair, so the next call and
 * the next page go on with it. A refused passkey changes nothing: the server's words are thrown
 * and the tab keeps the pair it had. So the finish goes out once, without call()'s refresh and
 * retry on a 401: a refused passkey is a 401 too, and must not be taken for an ended session.
 */
export async function stepUp() {
  const started = await call('POST', '/auth/step-up/start', {});
  const credential = await usePasskey(started.options);
  await change(async () => {
    const s = saved();
    let token;
    try {
      token = fresh() ? access.token : await refresh();
    } catch (e) {
      throw e instanceof ApiError && e.status === 401 ? new ApiError(401, SESSION_ENDED) : e;
    }
    const pair = await send('POST', '/auth/step-up/finish', { body: { challengeId: started.challengeId, credential }, accessToken: token, withProof: true });
    keep(pair, s.username);
  });
}

/**
 * Whether the server refused an action for lack of a fresh step-up: a 403 'forbidden' whose words
 * ask for a fresh passkey assertion (the server's requireStepUp). Any other 403, such as a wrong
 * current password, is the answer itself and no reason to ask for the passkey.
 */
export function needsStepUp(error) {
  return error instanceof ApiError && error.status === 403 && error.code === 'forbidden' && /fresh passkey assertion/.test(error.message);
}

/**
 * Runs a step-up-guarded action (ending another session, changing a factor, ...). When the
 * server refuses it for lack of a fresh step-up, the person confirms with their passkey
 * (stepUp, which renews the session; beforeStepUp runs first, e.g. to say so) and the action
 * runs once more; whatever that second try says is the answer. Any other failure is thrown.
 */
export async function withStepUp(action, beforeStepUp = () => {}) {
  try {
    return await action();
  } catch (e) {
    if (!needsStepUp(e)) throw e;
  }
  beforeStepUp();
  await stepUp();
  return action();
}
`;
