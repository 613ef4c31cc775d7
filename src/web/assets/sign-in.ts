/**
 * /web/sign-in.js: username and password, then a passkey assertion (or, when the account has no
 * passkey or the person asks for it, a TOTP or recovery code); the session binds to this
 * browser's key.
 */
export const signInJs = String.raw`// /sign-in: password first (POST /auth/sign-in), then the second factor with a DPoP proof,
// which binds the new session to this browser's key: the passkey (POST /auth/sign-in/passkey),
// or a code (POST /auth/sign-in/code) when the account has no passkey or the person chooses
// "use a code instead". Then /account, or back to /device when that page sent the person here.
// A session this tab still holds is ended first (openSession): a tab holds one session at a time.
import { openSession, post } from './api.js';
import { byId, FormProblem, onSubmit, showError, showStatus } from './ui.js';
import { usePasskey } from './webauthn.js';

const CODE_METHODS = ['totp', 'recovery-code'];
const HINTS = {
  'totp': 'The 6 digits your authenticator app shows now.',
  'recovery-code': 'One of the recovery codes you saved when you made them (groups of four letters and digits). Each works once.',
};

const signInForm = byId('sign-in');
const codeForm = byId('code-form');
const password = byId('password');
const code = byId('code');

/**
 * Where to go once signed in. Only two places, matched exactly: /device (with the CLI's code,
 * when /device sent the person here as /sign-in#device=BCDF-GHJK) or /account. Nothing from the
 * address is ever used as a URL, so this page cannot be made to send anyone elsewhere.
 */
const next = (() => {
  const m = /^#device(?:=([A-Za-z]{4}-[A-Za-z]{4}))?$/.exec(location.hash);
  if (m === null) return '/account';
  return m[1] === undefined ? '/device' : '/device#' + m[1].toUpperCase();
})();
byId('to-device').hidden = !next.startsWith('/device');

/** The password step's challenge, kept for the code form: { challengeId, username }. */
let pending = null;

const chosenMethod = () => codeForm.querySelector('input[name="method"]:checked')?.value ?? null;

function showHint() {
  const method = chosenMethod();
  byId('code-hint').textContent = HINTS[method] ?? '';
  code.inputMode = method === 'totp' ? 'numeric' : 'text';
}

function showCodeForm(started, methods) {
  pending = started;
  for (const method of CODE_METHODS) {
    const choice = byId('choice-' + method);
    choice.hidden = !methods.includes(method);
    choice.querySelector('input').checked = method === methods[0];
  }
  showHint();
  signInForm.hidden = true;
  codeForm.hidden = false;
  showStatus(null);
  code.value = '';
  code.focus();
}

function backToPassword() {
  pending = null;
  codeForm.hidden = true;
  signInForm.hidden = false;
  password.focus();
}

onSubmit(signInForm, async (submitter) => {
  const username = byId('username').value.trim().toLowerCase();
  const wantsCode = submitter?.id === 'use-code';
  showStatus('Checking your password…');
  const started = await post('/auth/sign-in', { username, password: password.value });
  password.value = ''; // not needed any more
  const methods = Array.isArray(started.methods) ? started.methods : ['passkey'];
  if (wantsCode || !methods.includes('passkey')) {
    const codes = CODE_METHODS.filter((m) => methods.includes(m));
    if (codes.length === 0) throw new FormProblem('This account has no authenticator app or recovery codes: sign in with your passkey.');
    showCodeForm({ challengeId: started.challengeId, username }, codes);
    return;
  }
  showStatus('Confirm with your passkey…');
  const credential = await usePasskey(started.options);
  showStatus('Signing in…');
  await openSession('/auth/sign-in/passkey', { challengeId: started.challengeId, credential }, username);
  location.replace(next);
}, () => {
  password.value = '';
  password.focus();
});

onSubmit(codeForm, async () => {
  const method = chosenMethod();
  const value = code.value.trim();
  if (value === '') throw new FormProblem('Enter the code.');
  if (pending === null || method === null) throw new FormProblem('Start again with your password.');
  const { challengeId, username } = pending;
  showStatus('Signing in…');
  try {
    await openSession('/auth/sign-in/code', { challengeId, method, code: value }, username);
  } catch (e) {
    // The server spends the password step's challenge whatever the outcome: start again there.
    backToPassword();
    throw e;
  }
  location.replace(next);
}, () => {
  code.value = '';
});

for (const method of CODE_METHODS) byId('choice-' + method).querySelector('input').addEventListener('change', showHint);
byId('back').addEventListener('click', () => {
  showError(null);
  showStatus(null);
  backToPassword();
});

byId('username').focus();
`;
