/**
 * The HTML of the sign-in pages. No inline script or style anywhere (the CSP forbids both);
 * each page loads its one module from /web/. Forms have no action and post nowhere: the page's
 * script handles them, and the CSP's form-action 'none' stops a submit should the script not run.
 */
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../accounts/index.js';

/** An English label with its Dutch alongside. */
const both = (en: string, nl: string): string => `${en}<span class="nl" lang="nl">${nl}</span>`;

function page(title: string, script: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · labkluis</title>
<link rel="stylesheet" href="/web/style.css">
<script type="module" src="/web/${script}"></script>
</head>
<body>
<main>
${body.trim()}
<p id="status" role="status" aria-live="polite"></p>
<p id="error" role="alert" hidden></p>
</main>
</body>
</html>
`;
}

export const signInPage = page('Sign in', 'sign-in.js', `
<h1>${both('Sign in', 'Inloggen')}</h1>
<p class="hint">Your password first, then your passkey.</p>
<p id="to-device" class="hint" hidden>Once you are signed in, this page takes you back to approve your terminal's sign-in.</p>
<form id="sign-in" method="post" novalidate>
<label for="username">${both('Username', 'Gebruikersnaam')}</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="64">
<label for="password">${both('Password', 'Wachtwoord')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="${PASSWORD_MAX_LENGTH}">
<div class="buttons">
<button type="submit" id="use-passkey">${both('Continue with passkey', 'Verder met passkey')}</button>
<button type="submit" id="use-code" class="secondary">${both('Use a code instead', 'Liever een code')}</button>
</div>
</form>
<form id="code-form" method="post" novalidate hidden>
<fieldset>
<legend>${both('Which code?', 'Welke code?')}</legend>
<label class="choice" id="choice-totp"><input type="radio" name="method" value="totp"> ${both('From my authenticator app', 'Uit mijn authenticator-app')}</label>
<label class="choice" id="choice-recovery-code"><input type="radio" name="method" value="recovery-code"> ${both('A recovery code', 'Een herstelcode')}</label>
</fieldset>
<label for="code">${both('Code', 'Code')}</label>
<input id="code" name="code" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required maxlength="32" aria-describedby="code-hint">
<p id="code-hint" class="hint"></p>
<div class="buttons">
<button type="submit">${both('Sign in', 'Inloggen')}</button>
<button type="button" id="back" class="secondary">${both('Back', 'Terug')}</button>
</div>
</form>
`);

export const enrolPage = page('Set up your account', 'enrol.js', `
<h1>${both('Set up your account', 'Account instellen')}</h1>
<p class="hint">Choose a password and create a passkey on this device. The link you opened works once.</p>
<form id="enrol" method="post" novalidate hidden>
<label for="username">${both('Username', 'Gebruikersnaam')}</label>
<input id="username" name="username" autocomplete="username" readonly>
<label for="password">${both('New password', 'Nieuw wachtwoord')}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}" aria-describedby="password-hint">
<p id="password-hint" class="hint">At least ${PASSWORD_MIN_LENGTH} characters; several unrelated words work well. Passwords on lists of common (often leaked) passwords, and easily guessed ones, are refused.</p>
<label for="password-again">${both('New password again', 'Nieuw wachtwoord nogmaals')}</label>
<input id="password-again" name="password-again" type="password" autocomplete="new-password" required>
<label for="passkey-name">${both('Name for the passkey', 'Naam van de passkey')}</label>
<input id="passkey-name" name="passkey-name" required maxlength="64" placeholder="e.g. work laptop">
<button type="submit">${both('Create passkey and finish', 'Passkey maken en afronden')}</button>
</form>
`);

export const accountPage = page('Your account', 'account.js', `
<h1>${both('Your account', 'Uw account')}</h1>
<section id="signed-in">
<p>Signed in as <strong id="username"></strong>.</p>
<p class="hint">Ending another session, adding or removing a passkey and changing your password ask for your passkey first, unless you used it in the last five minutes.</p>
<div class="toolbar">
<button id="sign-out" type="button">${both('Sign out', 'Uitloggen')}</button>
</div>

<h2>${both('Sessions', 'Sessies')}</h2>
<p class="hint">Each session is bound to the browser that opened it.</p>
<div class="toolbar">
<button id="reload" type="button" class="secondary">${both('Refresh list', 'Lijst verversen')}</button>
<button id="end-others" type="button" class="secondary">${both('End all other sessions', 'Alle andere sessies beëindigen')}</button>
</div>
<table>
<thead><tr><th>Started</th><th>Last seen</th><th>Browser</th><th>Address</th><th>Status</th><th></th></tr></thead>
<tbody id="sessions"></tbody>
</table>

<h2>${both('Passkeys', 'Passkeys')}</h2>
<table>
<thead><tr><th>Name</th><th>Added</th><th>Last used</th><th>Synced</th><th></th></tr></thead>
<tbody id="passkeys"></tbody>
</table>
<p id="last-passkey" class="hint" hidden>Your only passkey cannot be removed: an account keeps at least one. Add another first.</p>
<form id="add-passkey" method="post" novalidate>
<label for="passkey-name">${both('Name for the new passkey', 'Naam van de nieuwe passkey')}</label>
<input id="passkey-name" name="passkey-name" required maxlength="64" placeholder="e.g. phone, security key">
<button type="submit">${both('Add a passkey', 'Passkey toevoegen')}</button>
</form>

<h2>${both('Password', 'Wachtwoord')}</h2>
<form id="password-form" method="post" novalidate>
<input id="password-username" name="username" autocomplete="username" readonly hidden>
<label for="current-password">${both('Current password', 'Huidig wachtwoord')}</label>
<input id="current-password" name="current-password" type="password" autocomplete="current-password" required maxlength="${PASSWORD_MAX_LENGTH}">
<label for="new-password">${both('New password', 'Nieuw wachtwoord')}</label>
<input id="new-password" name="new-password" type="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}" aria-describedby="new-password-hint">
<p id="new-password-hint" class="hint">At least ${PASSWORD_MIN_LENGTH} characters; several unrelated words work well. Afterwards every other session of your account ends.</p>
<label for="new-password-again">${both('New password again', 'Nieuw wachtwoord nogmaals')}</label>
<input id="new-password-again" name="new-password-again" type="password" autocomplete="new-password" required maxlength="${PASSWORD_MAX_LENGTH}">
<button type="submit">${both('Change password', 'Wachtwoord wijzigen')}</button>
</form>
</section>
<p id="signed-out" hidden><a href="/sign-in">${both('Sign in again', 'Opnieuw inloggen')}</a></p>
`);

export const devicePage = page('Sign in a terminal', 'device.js', `
<h1>${both('Sign in a terminal', 'Terminal aanmelden')}</h1>
<p class="hint">Approve a <code>labkluis login</code> that you started yourself. Whoever holds the terminal you approve can act as you.</p>
<section id="signed-out" hidden>
<p>Sign in first; afterwards you come back here, with the code.</p>
<p><a id="sign-in-link" href="/sign-in#device">${both('Sign in', 'Inloggen')}</a></p>
</section>
<section id="signed-in" hidden>
<p>Signed in as <strong id="username"></strong>.</p>
<div class="toolbar">
<button id="sign-out" type="button" class="secondary">${both('Sign out', 'Uitloggen')}</button>
</div>
<form id="code-form" method="post" novalidate>
<label for="user-code">${both('Code from your terminal', 'Code uit uw terminal')}</label>
<input id="user-code" name="user-code" autocomplete="off" autocapitalize="characters" spellcheck="false" required maxlength="32" placeholder="BCDF-GHJK" aria-describedby="user-code-hint">
<p id="user-code-hint" class="hint">8 letters, as <code>labkluis login</code> shows them.</p>
<button type="submit">${both('Continue', 'Verder')}</button>
</form>
<form id="decide-form" method="post" novalidate hidden>
<p class="user-code" id="shown-code"></p>
<dl>
<dt>${both('Asked for at', 'Aangevraagd om')}</dt><dd id="requested-at"></dd>
<dt>${both('From', 'Vanaf')}</dt><dd id="requested-from"></dd>
<dt>${both('Expires at', 'Verloopt om')}</dt><dd id="expires-at"></dd>
</dl>
<label class="choice"><input type="checkbox" id="mine" name="mine"> My own terminal shows exactly this code, and I just ran <code>labkluis login</code> there.</label>
<p class="hint">Never approve a code someone else sent you or read out to you: deny it.</p>
<div class="buttons">
<button type="submit" id="approve">${both('Approve with passkey', 'Goedkeuren met passkey')}</button>
<button type="submit" id="deny" class="secondary">${both('Deny', 'Weigeren')}</button>
<button type="button" id="other-code" class="secondary">${both('Other code', 'Andere code')}</button>
</div>
</form>
<section id="done" hidden>
<p id="outcome"></p>
<p><a href="/account">${both('Your account', 'Uw account')}</a></p>
</section>
</section>
`);
