// The new-password rule: length in code points, common lists, zxcvbn strength with user inputs, safe advice.
import { randomBytes } from 'node:crypto';
import { dictionary } from '@zxcvbn-ts/language-common';
import { describe, expect, it } from 'vitest';
import {
  CONTEXT_WORDS,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  checkNewPassword,
  passwordAdvice,
  type PasswordVerdict,
} from '../../src/accounts/index.js';
import { COMMON_PASSWORDS_LONG } from '../../src/accounts/common-passwords-long.js';
import { isLabkluisError } from '../../src/kernel/index.js';

const reasonsOf = (verdict: PasswordVerdict) => (verdict.ok ? [] : verdict.reasons);

describe('checkNewPassword: length', () => {
  it('refuses 11 characters as too short and accepts a strong 12-character passphrase', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(12);
    expect(checkNewPassword('Xq7#mP2!vLw', {})).toEqual({ ok: false, reasons: ['too-short'] });
    expect('kachel-vogel').toHaveLength(12);
    expect(checkNewPassword('kachel-vogel', {})).toEqual({ ok: true });
  });

  it('refuses 129 characters as too long and accepts 128 random ones', () => {
    expect(PASSWORD_MAX_LENGTH).toBe(128);
    const random128 = randomBytes(96).toString('base64url');
    expect(random128).toHaveLength(128);
    expect(checkNewPassword(random128, {})).toEqual({ ok: true });
    expect(checkNewPassword(`${random128}x`, {})).toEqual({ ok: false, reasons: ['too-long'] });
  });

  it('counts Unicode code points after NFC, not UTF-16 units', () => {
    // An emoji outside the BMP is two UTF-16 units but one code point.
    expect('🐢'.repeat(11)).toHaveLength(22);
    expect(reasonsOf(checkNewPassword('🐢'.repeat(11), {}))).toContain('too-short');
    expect(reasonsOf(checkNewPassword('🐢'.repeat(12), {}))).not.toContain('too-short');
    expect(reasonsOf(checkNewPassword('🐢'.repeat(128), {}))).not.toContain('too-long');
    expect(reasonsOf(checkNewPassword('🐢'.repeat(129), {}))).toContain('too-long');
    // "e" + combining acute (NFD) composes to one "é" under NFC: 22 code points become 11.
    expect(reasonsOf(checkNewPassword('e\u0301'.repeat(11), {}))).toContain('too-short');
    expect(reasonsOf(checkNewPassword('e\u0301'.repeat(12), {}))).not.toContain('too-short');
  });
});

describe('checkNewPassword: common and weak passwords', () => {
  it('refuses common passwords from the zxcvbn list and from the Dutch supplement, ignoring case', () => {
    const common = dictionary['passwords-common'];
    expect(common).toContain('password1234');
    expect(common).not.toContain('wachtwoord123'); // what the Dutch supplement is for
    for (const password of ['Password1234', 'wachtwoord123', 'WACHTWOORD123', 'Welkom123']) {
      expect(reasonsOf(checkNewPassword(password, {})), password).toContain('common');
    }
  });

  it('holds more than the 3,000 most common passwords that fit the length rule (ASVS 6.2.4), and refuses them as common', () => {
    const long = COMMON_PASSWORDS_LONG.filter((p) => [...p].length >= PASSWORD_MIN_LENGTH);
    expect(new Set(long).size).toBeGreaterThanOrEqual(3_000);
    // Leaked passwords that look random enough for zxcvbn: only the list catches them.
    for (const password of ['Mailcreated5240', 'PolniyPizdec0211', 'Sojdlg123aljg', long[2_999]!]) {
      expect(reasonsOf(checkNewPassword(password, {})), password).toContain('common');
    }
  });

  it('refuses passwords built on the words of the trade and the product (ASVS 6.1.2)', () => {
    expect(CONTEXT_WORDS).toContain('laboratorium');
    for (const password of ['Labkluis2026!', 'Laboratorium2026', 'uitslagen2026!', 'Bevolkingsonderzoek1']) {
      expect(checkNewPassword(password, {}).ok, password).toBe(false);
    }
  });

  it('refuses Welkom01welkom01 (zxcvbn alone scores it 3; the Dutch list ranks welkom01 high)', () => {
    const reasons = reasonsOf(checkNewPassword('Welkom01welkom01', {}));
    expect(reasons.some((r) => r === 'weak' || r === 'common')).toBe(true);
  });

  it('refuses a single Dutch word as weak', () => {
    expect(checkNewPassword('vriendschappen', {})).toEqual({ ok: false, reasons: ['weak'] });
    expect(checkNewPassword('zonnebloemen', {})).toEqual({ ok: false, reasons: ['weak'] });
  });

  it('sees through l33t spellings of a Dutch common password', () => {
    expect(checkNewPassword('W@chtw00rd2024', {})).toEqual({ ok: false, reasons: ['weak'] });
  });

  it('refuses the username plus digits once the username is among the user inputs', () => {
    expect(checkNewPassword('pvdkerkhof1234', {})).toEqual({ ok: true });
    expect(checkNewPassword('pvdkerkhof1234', { userInputs: ['pvdkerkhof'] })).toEqual({ ok: false, reasons: ['weak'] });
    expect(checkNewPassword('kwtimmermans2024', {})).toEqual({ ok: true });
    expect(checkNewPassword('kwtimmermans2024', { userInputs: ['KWTimmermans'] })).toEqual({ ok: false, reasons: ['weak'] });
  });

  it('catches a display name run together', () => {
    expect(checkNewPassword('JanDeVries1987', { userInputs: ['jdevries', 'Jan de Vries'] })).toEqual({ ok: false, reasons: ['weak'] });
  });

  it('always counts the product name as a user input', () => {
    expect(checkNewPassword('labkluis2024!', {})).toEqual({ ok: false, reasons: ['weak'] });
  });

  it('accepts long passphrases without any composition rule', () => {
    for (const password of ['stroopwafel kachel zwaluw tractor', 'correct horse battery staple', 'blauwe-tractor-zingt']) {
      expect(checkNewPassword(password, { userInputs: ['pvdkerkhof', 'Piet van de Kerkhof'] }), password).toEqual({ ok: true });
    }
  });

  it('refuses a non-string as invalid input', () => {
    let error: unknown;
    try {
      checkNewPassword(undefined as unknown as string, {});
    } catch (e) {
      error = e;
    }
    expect(isLabkluisError(error, 'ERR_INVALID_INPUT')).toBe(true);
  });
});

describe('verdicts and advice never echo the password', () => {
  it('holds for every kind of refusal', () => {
    const refused = ['Xq7#mP2!vLw', 'wachtwoord123', 'vriendschappen', 'pvdkerkhof1234', `${'abcdefgh'.repeat(16)}z`];
    for (const password of refused) {
      const verdict = checkNewPassword(password, { userInputs: ['pvdkerkhof'] });
      expect(verdict.ok, password).toBe(false);
      const advice = passwordAdvice(reasonsOf(verdict));
      expect(advice.length).toBeGreaterThan(0);
      const text = JSON.stringify([verdict, advice]).toLowerCase();
      expect(text).not.toContain(password.toLowerCase());
      expect(text).not.toContain('pvdkerkhof');
    }
  });

  it('gives one English message per distinct reason, and frozen verdicts', () => {
    const advice = passwordAdvice(['too-short', 'weak', 'weak', 'common']);
    expect(advice).toHaveLength(3);
    expect(advice[0]).toMatch(/at least 12 characters/);
    expect(new Set(advice).size).toBe(3);
    expect(passwordAdvice(['too-long'])[0]).toMatch(/at most 128 characters/);
    expect(Object.isFrozen(checkNewPassword('vriendschappen', {}))).toBe(true);
  });
});
