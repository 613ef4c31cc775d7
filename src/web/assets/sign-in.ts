/** /web/sign-in.js: username and password, then a passkey assertion; the session binds to this browser's key. */
export const signInJs = String.raw`// /sign-in: password first (POST /auth/sign-in), then the passkey (POST /auth/sign-in/passkey
// with a DPoP proof, which binds the new session to this browser's key), then /account.
import { openSession, post } from './api.js';
import { byId, FormProblem, onSubmit, showStatus } from './ui.js';
import { usePasskey } from './webauthn.js';

const password = byId('password');

onSubmit(byId('sign-in'), async () => {
  const username = byId('username').value.trim().toLowerCase();
  showStatus('Checking your password…');
  const started = await post('/auth/sign-in', { username, password: password.value });
  password.value = ''; // not needed any more
  if (Array.isArray(started.methods) && !started.methods.includes('passkey')) {
    throw new FormProblem('This page signs in with a passkey, and this account has none. Ask an admin for a new enrolment link.');
  }
  showStatus('Confirm with your passkey…');
  const credential = await usePasskey(started.options);
  showStatus('Signing in…');
  await openSession('/auth/sign-in/passkey', { challengeId: started.challengeId, credential }, username);
  location.replace('/account');
}, () => {
  password.value = '';
  password.focus();
});

byId('username').focus();
`;
