/** /web/account.js: the person's sessions, with revoke and sign-out. */
export const accountJs = String.raw`// /account: the sessions of the signed-in person (GET /auth/sessions), a revoke button for each
// other live one, and sign-out. Every call carries the access token and a fresh DPoP proof.
import { call, currentSession, forgetSession } from './api.js';
import { byId, explain, showError, showStatus } from './ui.js';

const REASONS = {
  'signed-out': 'signed out',
  'revoked-by-owner': 'revoked by you',
  'idle-timeout': 'timed out (unused)',
  'absolute-timeout': 'timed out',
  'account-disabled': 'account disabled',
  'revoked-by-security-officer': 'ended by a security officer',
  'refresh-reuse': 'ended: a refresh token was used twice',
};
const reasonText = (r) => (r?.startsWith('token-replay') ? 'ended: its token was used without this device\'s key' : REASONS[r] ?? r ?? 'ended');
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

const mine = currentSession();

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.append(td);
  return td;
}

function render(sessions) {
  const rows = [...sessions].reverse().map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.sessionId = s.id;
    tr.dataset.live = String(s.live);
    cell(tr, when(s.createdAt));
    cell(tr, when(s.lastSeenAt));
    cell(tr, s.userAgent ?? 'unknown');
    cell(tr, s.ip ?? '');
    cell(tr, s.live ? (s.id === mine.sessionId ? 'live (this browser)' : 'live') : reasonText(s.endedBecause));
    const action = cell(tr, '');
    if (s.live && s.id !== mine.sessionId) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'revoke';
      button.textContent = 'Revoke';
      button.addEventListener('click', () => guarded(async () => {
        await call('DELETE', '/auth/sessions/' + encodeURIComponent(s.id));
        await load();
      }));
      action.append(button);
    }
    return tr;
  });
  byId('sessions').replaceChildren(...rows);
}

async function load() {
  showStatus('Loading your sessions…');
  render((await call('GET', '/auth/sessions')).sessions);
  showStatus(null);
}

/** Runs an action; a failure is shown, and a session the server has ended leaves this page signed out. */
async function guarded(action) {
  showError(null);
  try {
    await action();
  } catch (e) {
    showStatus(null);
    showError(explain(e));
    if (currentSession() === null) {
      byId('signed-in').hidden = true;
      byId('signed-out').hidden = false;
    }
  }
}

if (mine === null) {
  location.replace('/sign-in');
} else {
  byId('username').textContent = mine.username;
  byId('reload').addEventListener('click', () => guarded(load));
  byId('sign-out').addEventListener('click', () => guarded(async () => {
    try {
      await call('POST', '/auth/sign-out', {});
    } finally {
      forgetSession();
    }
    location.replace('/sign-in');
  }));
  await guarded(load);
}
`;
