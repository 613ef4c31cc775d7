/** /web/account.js: the person's own account: sessions, passkeys and password, and sign-out. */
export const accountJs = String.raw`// /account: self-service for the signed-in person (ASVS 5.0 7.5.2, 7.4.3, 6.2.2).
//  - Sessions (GET /auth/sessions): end another one (DELETE /auth/sessions/:id) or all others
//    at once (POST /auth/sessions/end-others); sign out of this one.
//  - Passkeys (GET /auth/factors/passkeys): add one (POST /auth/factors/passkeys/start, the
//    browser's prompt, /finish), remove one (DELETE /auth/factors/passkeys/:id; never the last).
//  - Password (POST /auth/password): the current one and a new one; every other session ends.
// Every call carries the access token and a fresh DPoP proof. The server guards all but
// sign-out with a step-up: when it refuses for lack of one, the person confirms with their
// passkey and the action is tried once more (withStepUp). A step-up renews this tab's session,
// so "this browser" is looked up afresh at each rendering.
import { call, currentSession, signOut, withStepUp } from './api.js';
import { byId, explain, FormProblem, onSubmit, showError, showStatus } from './ui.js';
import { createPasskey } from './webauthn.js';

const REASONS = {
  'signed-out': 'signed out',
  'revoked-by-owner': 'revoked by you',
  'idle-timeout': 'timed out (unused)',
  'absolute-timeout': 'timed out',
  'account-disabled': 'account disabled',
  'revoked-by-security-officer': 'ended by a security officer',
  'refresh-reuse': 'ended: a refresh token was used twice',
  'replaced-at-step-up': 'renewed when you confirmed with your passkey',
  'password-changed': 'ended: the password was changed',
  'session-limit': 'ended: a newer sign-in went past the limit of live sessions',
  're-enrolled': 'ended: the account was set up again from an enrolment link',
  'reset-by-operator': 'ended: the account was reset on the server',
  'revoked': 'ended',
};
const reasonText = (r) => (r?.startsWith('token-replay') ? 'ended: its token was used without this device\'s key' : r?.startsWith('contained-') ? 'ended: the sentinel stopped this account; a security officer reviews it' : REASONS[r] ?? r ?? 'ended');
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const plural = (n, one, many) => n + ' ' + (n === 1 ? one : many);

/**
 * Runs a step-up-guarded action (withStepUp), saying so when the passkey is asked for. A step-up
 * renews this tab's session: on success each caller shows the sessions afresh anyway; when the
 * action fails after one, the list is shown afresh here, so "this browser" stays right.
 */
async function stepped(action) {
  let renewed = false;
  try {
    return await withStepUp(action, () => {
      renewed = true;
      showStatus('Confirm with your passkey…');
    });
  } catch (e) {
    if (renewed) await loadSessions().catch(() => {});
    throw e;
  }
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.append(td);
  return td;
}

function button(text, className, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  b.addEventListener('click', () => guarded(() => onClick(b), b));
  return b;
}

function signedOut() {
  byId('signed-in').hidden = true;
  byId('signed-out').hidden = false;
}

/** After a failure: a session the server has ended leaves this page signed out. */
function afterError() {
  if (currentSession() === null) signedOut();
}

/** Runs an action for a button; a failure is shown. The button is off while the action runs. */
async function guarded(action, control = null) {
  showError(null);
  if (control !== null) control.disabled = true;
  try {
    await action();
  } catch (e) {
    showStatus(null);
    showError(explain(e));
    afterError();
  } finally {
    if (control !== null && control.isConnected) control.disabled = false;
  }
}

// Sessions.

function renderSessions(sessions) {
  const mine = currentSession()?.sessionId ?? null;
  const rows = [...sessions].reverse().map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.sessionId = s.id;
    tr.dataset.live = String(s.live);
    cell(tr, when(s.createdAt));
    cell(tr, when(s.lastSeenAt));
    cell(tr, s.userAgent ?? 'unknown');
    cell(tr, s.ip ?? '');
    cell(tr, s.live ? (s.id === mine ? 'live (this browser)' : 'live') : reasonText(s.endedBecause));
    const action = cell(tr, '');
    if (s.live && s.id !== mine) {
      action.append(button('Revoke', 'revoke', async () => {
        await stepped(() => call('DELETE', '/auth/sessions/' + encodeURIComponent(s.id)));
        await loadSessions();
        showStatus('Session ended.');
      }));
    }
    return tr;
  });
  byId('sessions').replaceChildren(...rows);
}

async function loadSessions() {
  renderSessions((await call('GET', '/auth/sessions')).sessions);
}

const endOthers = byId('end-others');
endOthers.addEventListener('click', () => guarded(async () => {
  const { ended } = await stepped(() => call('POST', '/auth/sessions/end-others', {}));
  await loadSessions();
  showStatus(ended === 0 ? 'No other session was live.' : 'Ended ' + plural(ended, 'other session', 'other sessions') + '.');
}, endOthers));

// Passkeys.

function renderPasskeys(passkeys) {
  const only = passkeys.length === 1;
  const rows = passkeys.map((p) => {
    const tr = document.createElement('tr');
    tr.dataset.passkeyId = p.id;
    cell(tr, p.name);
    cell(tr, when(p.createdAt));
    cell(tr, p.lastUsedAt ? when(p.lastUsedAt) : 'never');
    cell(tr, p.synced ? 'yes' : 'no');
    const remove = button('Remove', 'remove', async () => {
      try {
        await stepped(() => call('DELETE', '/auth/factors/passkeys/' + encodeURIComponent(p.id)));
      } finally {
        // Also after a refusal (the last passkey, or one removed meanwhile): show how things are now.
        await loadPasskeys().catch(() => {});
      }
      await loadSessions();
      showStatus('Removed the passkey "' + p.name + '".');
    });
    if (only) {
      // The server keeps an account's last passkey (409): say why rather than offer it.
      remove.disabled = true;
      remove.setAttribute('aria-describedby', 'last-passkey');
    }
    cell(tr, '').append(remove);
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    cell(tr, 'No passkeys.').colSpan = 5;
    rows.push(tr);
  }
  byId('passkeys').replaceChildren(...rows);
  byId('last-passkey').hidden = !only;
}

async function loadPasskeys() {
  renderPasskeys((await call('GET', '/auth/factors/passkeys')).passkeys);
}

const passkeyName = byId('passkey-name');
onSubmit(byId('add-passkey'), async () => {
  const name = passkeyName.value.trim();
  if (name === '') throw new FormProblem('Give the new passkey a name, such as the device it lives on.');
  const added = await stepped(async () => {
    showStatus('Preparing…');
    const started = await call('POST', '/auth/factors/passkeys/start', {});
    showStatus('Create the new passkey…');
    const credential = await createPasskey(started.options);
    showStatus('Saving the passkey…');
    return (await call('POST', '/auth/factors/passkeys/finish', { challengeId: started.challengeId, credential, name })).passkey;
  });
  passkeyName.value = '';
  await loadPasskeys();
  await loadSessions();
  showStatus('Added the passkey "' + added.name + '".');
}, afterError);

// Password.

const currentPassword = byId('current-password');
const newPassword = byId('new-password');
const newPasswordAgain = byId('new-password-again');
onSubmit(byId('password-form'), async () => {
  if (currentPassword.value === '') throw new FormProblem('Enter your current password.');
  // Only what the page can tell at once is checked here; the server's policy decides.
  if ([...newPassword.value].length < newPassword.minLength) throw new FormProblem('Use at least ' + newPassword.minLength + ' characters; several unrelated words make a good password.');
  if (newPassword.value !== newPasswordAgain.value) throw new FormProblem('The two new passwords differ.');
  showStatus('Changing your password…');
  const { sessionsEnded } = await stepped(() => call('POST', '/auth/password', { currentPassword: currentPassword.value, newPassword: newPassword.value }));
  for (const input of [currentPassword, newPassword, newPasswordAgain]) input.value = '';
  await loadSessions();
  showStatus('Your password is changed. ' + (sessionsEnded === 0
    ? 'You had no other session.'
    : plural(sessionsEnded, 'other session was', 'other sessions were') + ' ended.'));
}, (e) => {
  // Nothing typed here is ever echoed; the new password is typed again in any case.
  newPassword.value = '';
  newPasswordAgain.value = '';
  if (e?.status === 403 || e?.status === 429) currentPassword.value = '';
  (currentPassword.value === '' ? currentPassword : newPassword).focus();
  afterError();
});

// Start.

const session = currentSession();
if (session === null) {
  location.replace('/sign-in');
} else {
  byId('username').textContent = session.username;
  byId('password-username').value = session.username;
  const reload = byId('reload');
  reload.addEventListener('click', () => guarded(loadSessions, reload));
  // ASVS 5.0 7.4.4: a visible way out. The tab forgets the session even if the server is not reached.
  const signOutButton = byId('sign-out');
  signOutButton.addEventListener('click', () => guarded(async () => {
    await signOut();
    location.replace('/sign-in');
  }, signOutButton));
  await guarded(async () => {
    showStatus('Loading your account…');
    // Passkeys first: once the sessions show, the page has sent every request of its start.
    await loadPasskeys();
    await loadSessions();
    showStatus(null);
  });
}
`;
