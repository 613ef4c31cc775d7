/** /web/ui.js: the few DOM helpers the pages share. Text only (textContent), never HTML. */
export const uiJs = String.raw`// Shared DOM helpers. Everything shown goes in as text (textContent), never as HTML.
import { ApiError } from './api.js';
import { passkeyTrouble } from './webauthn.js';

export const byId = (id) => document.getElementById(id);

/** A mistake the page itself spots before asking the server (its message is for the person). */
export class FormProblem extends Error {}

/** Shows a message in the page's alert line; null hides it. */
export function showError(message) {
  const el = byId('error');
  el.textContent = message ?? '';
  el.hidden = message === null;
}

export function showStatus(message) {
  byId('status').textContent = message ?? '';
}

/** The words for a failure: the server's diagnostics, a passkey prompt's trouble, or a plain apology. */
export function explain(error) {
  if (error instanceof ApiError || error instanceof FormProblem) return error.message;
  return passkeyTrouble(error) ?? 'Something went wrong in this page (' + (error?.name ?? 'Error') + '). Try again.';
}

/** Disables a form's controls while a request runs, so nothing is sent twice. */
function setBusy(form, busy) {
  for (const el of form.elements) el.disabled = busy;
  form.setAttribute('aria-busy', String(busy));
}

/**
 * Runs an action for a form's submit; the form itself never submits (the CSP's form-action
 * 'none' would stop it anyway, so a password never ends up in a URL). The action gets the
 * button that submitted (a form with two, such as approve and deny). afterError runs after a
 * failure has been shown, e.g. to clear a password field.
 */
export function onSubmit(form, action, afterError = () => {}) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submitter = event.submitter ?? null;
    showError(null);
    setBusy(form, true);
    try {
      await action(submitter);
    } catch (e) {
      showStatus(null);
      showError(explain(e));
      setBusy(form, false);
      afterError(e);
      return;
    }
    setBusy(form, false);
  });
}
`;
