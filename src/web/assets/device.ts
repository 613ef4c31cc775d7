/** /web/device.js: approving (or denying) a `labkluis login` from the browser (RFC 8628 §3.3). */
export const deviceJs = String.raw`// /device and /device#BCDF-GHJK: the verification URI the CLI prints. The signed-in person
// enters (or finds filled in from the fragment, which browsers never send to a server) the code
// their terminal shows, sees when and from where it was asked for (POST /auth/device/lookup),
// confirms it is their own, and approves after a fresh passkey assertion (stepUp: POST
// /auth/step-up/start, the passkey, /auth/step-up/finish, which renews the session), then
// /auth/device/approve; or denies it (/auth/device/deny). Without a session here, the person
// signs in first and comes back. Sign out ends the session here as on /account.
import { call, currentSession, signOut, stepUp } from './api.js';
import { byId, explain, FormProblem, onSubmit, showError, showStatus } from './ui.js';

const LETTERS = /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/; // RFC 8628 §6.1: the server's alphabet, no vowels or digits

/** 'bcdf ghjk', 'BCDF-GHJK' and 'BCDFGHJK' are one code, shown as BCDF-GHJK; anything else is null. */
function normalise(text) {
  const letters = String(text).toUpperCase().replace(/[\s-]/g, '');
  return LETTERS.test(letters) ? letters.slice(0, 4) + '-' + letters.slice(4) : null;
}

const raw = (() => {
  try {
    return decodeURIComponent(location.hash.slice(1)).slice(0, 32);
  } catch {
    return location.hash.slice(1, 33);
  }
})();
// The code is kept in memory; the address bar and the history keep only /device.
if (location.hash !== '') history.replaceState(null, '', location.pathname);
// Another /device#<code> link opened in this tab changes only the fragment: start over with it.
addEventListener('hashchange', () => location.reload());
const linked = raw === '' ? null : normalise(raw);

const codeForm = byId('code-form');
const codeInput = byId('user-code');
const decideForm = byId('decide-form');
const mine = byId('mine');
let userCode = null; // the code being decided, as BCDF-GHJK

const time = (iso) => new Date(iso).toLocaleTimeString();
function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 90 ? seconds + ' seconds ago' : Math.round(seconds / 60) + ' minutes ago';
}

function signedOut() {
  byId('signed-in').hidden = true;
  byId('signed-out').hidden = false;
  const code = userCode ?? normalise(codeInput.value) ?? linked;
  // Back here after signing in, with the code: /sign-in accepts exactly this shape and no other.
  byId('sign-in-link').href = '/sign-in#device' + (code === null ? '' : '=' + code);
}

/** After a failure: a session the server has ended leaves this page signed out. */
function afterError() {
  if (currentSession() === null) signedOut();
}

function enterCode() {
  userCode = null;
  decideForm.hidden = true;
  codeForm.hidden = false;
  codeInput.focus();
}

async function lookUp(code) {
  showStatus('Looking up the code…');
  const grant = await call('POST', '/auth/device/lookup', { userCode: code });
  userCode = grant.userCode;
  byId('shown-code').textContent = grant.userCode;
  byId('requested-at').textContent = time(grant.requestedAt) + ' (' + ago(grant.requestedAt) + ')';
  const from = grant.requestedFrom;
  byId('requested-from').textContent = from === null
    ? 'not known to this server'
    : [from.ip ?? 'unknown address', from.userAgent].filter(Boolean).join(' · ');
  byId('expires-at').textContent = time(grant.expiresAt);
  mine.checked = false;
  codeForm.hidden = true;
  decideForm.hidden = false;
  showStatus('Does your terminal show ' + grant.userCode + '?');
  mine.focus();
}

function finish(message) {
  codeForm.hidden = true;
  decideForm.hidden = true;
  showStatus(null);
  byId('outcome').textContent = message;
  byId('done').hidden = false;
}

onSubmit(codeForm, async () => {
  const code = normalise(codeInput.value);
  if (code === null) throw new FormProblem('Enter the code your terminal shows: 8 letters, like BCDF-GHJK.');
  codeInput.value = code;
  await lookUp(code);
}, afterError);

onSubmit(decideForm, async (submitter) => {
  const code = userCode;
  if (code === null) throw new FormProblem('Enter the code first.');
  if (submitter?.id === 'deny') {
    showStatus('Denying…');
    await call('POST', '/auth/device/deny', { userCode: code });
    finish('Denied. The terminal that shows ' + code + ' gets no session: it reports that the sign-in was denied.');
    return;
  }
  if (!mine.checked) throw new FormProblem('Approve only a code your own terminal shows, after you ran labkluis login there. If it does not, deny it.');
  // Approving hands the terminal a session as you: a fresh passkey assertion first (step-up).
  showStatus('Confirm with your passkey…');
  await stepUp();
  showStatus('Approving…');
  await call('POST', '/auth/device/approve', { userCode: code });
  finish('Approved. Your terminal signs in within a few seconds; you can close this page.');
}, afterError);

byId('other-code').addEventListener('click', () => {
  showError(null);
  showStatus(null);
  enterCode();
});

// ASVS 5.0 7.4.4: a visible way out on every page with a session. The tab forgets the session
// even when the server cannot be reached; the person is told so.
const signOutButton = byId('sign-out');
signOutButton.addEventListener('click', async () => {
  showError(null);
  signOutButton.disabled = true;
  try {
    await signOut();
    showStatus('Signed out.');
  } catch (e) {
    showStatus(null);
    showError('Signed out in this browser. The server did not confirm it, so the session may run on until it times out: ' + explain(e));
  } finally {
    signOutButton.disabled = false;
  }
  signedOut();
});

const session = currentSession();
if (session === null) {
  signedOut();
} else {
  byId('username').textContent = session.username;
  byId('signed-in').hidden = false;
  if (linked !== null) {
    codeInput.value = linked;
    try {
      await lookUp(linked);
    } catch (e) {
      showStatus(null);
      showError(explain(e));
      afterError();
      codeInput.focus();
    }
  } else {
    if (raw !== '') showError('The link did not hold a valid code. Type the code your terminal shows.');
    codeInput.focus();
  }
}
`;
