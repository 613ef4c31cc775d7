import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as dutchDictionary, translations as dutchTranslations } from '@zxcvbn-ts/language-nl-be';
import { invalidInput } from '../kernel/index.js';
import { COMMON_PASSWORDS_LONG } from './common-passwords-long.js';
import { COMMON_PASSWORDS_NL } from './common-passwords-nl.js';

/**
 * The rule for a new password (OWASP ASVS 5.0 V6.2, NIST SP 800-63B): 12 to 128 Unicode code
 * points, not a common password (V6.2.4, V6.2.12 as far as an offline list reaches), and hard
 * to guess by zxcvbn-ts with Dutch and common dictionaries and the context words (V6.2.11).
 * No composition rules (V6.2.5) and no expiry (V6.2.10): those belong nowhere here.
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** zxcvbn score 0–4; 3 means "safely unguessable", about 10^8 guesses or more. */
const MIN_ZXCVBN_SCORE = 3;

/**
 * Words every labkluis password is checked against, whoever sets it (ASVS V6.1.2): the product,
 * the trade and its roles, in English and Dutch. The account's own username and display name
 * come in as user inputs (sign-in.ts).
 */
export const CONTEXT_WORDS: readonly string[] = Object.freeze([
  'labkluis', 'laboratorium', 'laboratory', 'lab', 'uitslag', 'uitslagen', 'results', 'screening', 'bevolkingsonderzoek',
  'baarmoederhalskanker', 'soa', 'kliniek', 'clinical', 'diagnostics', 'ziekenhuis', 'huisarts', 'patient', 'patiënt',
  'registrar', 'analist', 'analyst', 'validator', 'requester', 'aanvrager', 'admin', 'beheerder', 'security', 'beveiliging',
]);

export type PasswordReason = 'too-short' | 'too-long' | 'common' | 'weak';

export type PasswordVerdict = { readonly ok: true } | { readonly ok: false; readonly reasons: readonly PasswordReason[] };

export interface PasswordContext {
  /** Words the user or the system knows about the account: username, display name, e-mail. */
  readonly userInputs?: readonly string[];
}

/** Checks a password someone wants to set. Reasons come in a fixed order and never echo it. */
export function checkNewPassword(password: string, context: PasswordContext = {}): PasswordVerdict {
  if (typeof password !== 'string') throw invalidInput('password must be a string');
  const normalised = password.normalize('NFC');
  const length = [...normalised].length; // code points, not UTF-16 units
  const reasons: PasswordReason[] = [];
  if (length < PASSWORD_MIN_LENGTH) reasons.push('too-short');
  if (length > PASSWORD_MAX_LENGTH) {
    // Nothing else is worth computing for a password that cannot be set anyway.
    return Object.freeze({ ok: false, reasons: Object.freeze(['too-long'] as const) });
  }
  if (commonPasswords().has(normalised.toLowerCase())) reasons.push('common');
  const score = strengthEstimator().check(normalised, userInputWords(context.userInputs ?? [])).score;
  if (score < MIN_ZXCVBN_SCORE) reasons.push('weak');
  return reasons.length === 0 ? Object.freeze({ ok: true }) : Object.freeze({ ok: false, reasons: Object.freeze(reasons) });
}

const ADVICE: Readonly<Record<PasswordReason, string>> = Object.freeze({
  'too-short': `Use at least ${PASSWORD_MIN_LENGTH} characters; several unrelated words make a good password.`,
  'too-long': `Use at most ${PASSWORD_MAX_LENGTH} characters.`,
  common: 'This password is on a list of commonly used passwords; choose another.',
  weak: 'This password is easy to guess: avoid names, single words, dates, keyboard patterns and your own account details.',
});

/** Short English messages for an API response, one per distinct reason. */
export function passwordAdvice(reasons: readonly PasswordReason[]): readonly string[] {
  return Object.freeze([...new Set(reasons)].map((reason) => ADVICE[reason]));
}

/**
 * Each input as given, run together, and split into its words: "Jan de Vries" gives
 * "jan de vries", "jandevries", "jan" and "vries"; "j.devries@lab.nl" gives "devries" and "lab".
 * Fragments under three letters would only add noise to the estimate.
 */
function userInputWords(inputs: readonly string[]): string[] {
  const words = new Set<string>();
  for (const input of [...CONTEXT_WORDS, ...inputs]) {
    if (typeof input !== 'string') continue;
    const whole = input.normalize('NFC').toLowerCase().trim();
    const parts = whole.split(/[^\p{L}\p{N}]+/u).filter((part) => part.length > 0);
    for (const word of [whole, parts.join(''), ...parts]) if (word.length >= 3) words.add(word);
  }
  return [...words];
}

// The list and the estimator are derived, immutable data (no configuration), built on first use:
// the estimator alone takes about 150 ms to build, which most processes never need.
let commonPasswordSet: ReadonlySet<string> | undefined;
let estimator: ZxcvbnFactory | undefined;

function commonPasswords(): ReadonlySet<string> {
  commonPasswordSet ??= new Set(
    [...commonDictionary['passwords-common'], ...COMMON_PASSWORDS_NL, ...COMMON_PASSWORDS_LONG].map((p) => p.normalize('NFC').toLowerCase()),
  );
  return commonPasswordSet;
}

function strengthEstimator(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...commonDictionary, ...dutchDictionary, 'passwords-nl': [...COMMON_PASSWORDS_NL] },
    graphs: adjacencyGraphs,
    translations: dutchTranslations,
    // The default (100) lets one 128-character random password hold the event loop for about
    // 0.6 s here; 20 gives the same scores on l33t spellings such as "W@chtw00rd2024" in ~0.15 s.
    l33tMaxSubstitutions: 20,
  });
  return estimator;
}
