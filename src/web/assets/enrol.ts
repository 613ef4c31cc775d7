/** /web/enrol.js: the one-time link's secret from the fragment, a new password and a passkey. */
export const enrolJs = String.raw`// /enrol#<secret>: the one-time secret sits in the fragment, which browsers never send to a
// server (nor in a Referer); this script reads it, takes it out of the address bar and the
// history at once, and keeps it in memory only. Then: a new password, a passkey, and a session
// bound to this browser's key (POST /auth/enrol/finish with a DPoP proof).
import { openSession, post } from './api.js';
import { byId, explain, FormProblem, onSubmit, showError, showStatus } from './ui.js';
import { createPasskey } from './webauthn.js';

const secret = location.hash.slice(1);
history.replaceState(null, '', location.pathname);

const form = byId('enrol');
const password = byId('password');
const confirmation = byId('password-again');
const start = () => post('/auth/enrol/start', { secret });

if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) {
  showError('This page needs the enrolment link you were sent (it ends in #…). Open that link again, or ask an admin for a new one.');
} else {
  try {
    byId('username').value = (await start()).username;
    form.hidden = false;
    password.focus();
  } catch (e) {
    showError(explain(e));
  }
}

onSubmit(form, async () => {
  // Only what saves a needless passkey prompt is checked here; the server's policy decides.
  if ([...password.value].length < password.minLength) throw new FormProblem('Use at least ' + password.minLength + ' characters; several unrelated words make a good password.');
  if (password.value !== confirmation.value) throw new FormProblem('The two passwords differ.');
  const passkeyName = byId('passkey-name').value.trim();
  if (passkeyName === '') throw new FormProblem('Give the passkey a name, such as the device it lives on.');
  const started = await start(); // a fresh challenge: the first one may have gone stale while typing
  showStatus('Create your passkey…');
  const credential = await createPasskey(started.options);
  showStatus('Finishing…');
  await openSession('/auth/enrol/finish', { secret, challengeId: started.challengeId, password: password.value, credential, passkeyName }, started.username);
  location.replace('/account');
}, () => {
  password.value = '';
  confirmation.value = '';
  password.focus();
});
`;
