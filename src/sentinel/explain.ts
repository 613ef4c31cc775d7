/**
 * What an alert kind means, in a sentence a security officer can act on. The kinds are the
 * sentinel's own (`sentinel:<reason>`) and those of other safeguards; an unknown kind gets none.
 */
export function explainAlert(kind: string): string | null {
  const m = /^sentinel:(archive-|work-)?(patients|bytes)-(\d+)s$/.exec(kind);
  if (m) {
    const part = m[1] === 'archive-' ? 'archived (all records older than the archive line) ' : m[1] === 'work-' ? 'in-progress ' : '';
    const what = m[2] === 'patients' ? `more distinct ${part}patients` : 'more data (bytes)';
    return `The account received ${what} in ${span(Number(m[3]))} than its limit allows (hard limit, baseline or signals; `
      + 'see the audit entries named as evidence). It is contained: its sessions ended and it reads nothing until a security officer lifts it.';
  }
  switch (kind) {
    case 'sentinel:canary':
      return 'The account touched a canary patient, a synthetic patient no normal work returns. It is contained; that response never left.';
    case 'sentinel:token-replay':
      return 'A session or API token was presented without its device key: a copy was used elsewhere. That session is ended; the account is not contained.';
    case 'sentinel:refresh-reuse':
      return 'A refresh token was used twice (a copy, or a tab closed mid-refresh). That session is ended; the account is not contained.';
    default:
      return null;
  }
}

function span(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? 'a day' : `${seconds / 86_400} days`;
  if (seconds % 3_600 === 0) return seconds === 3_600 ? 'an hour' : `${seconds / 3_600} hours`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}
