/** Step-up and sign-in throttling: pure rules, shown with a manual clock. */
import { describe, expect, it } from 'vitest';
import { requireStepUp, SignInThrottle } from '../../src/accounts/index.js';
import { localImporter, type Principal } from '../../src/auth/index.js';
import { isLabkluisError, ManualClock } from '../../src/kernel/index.js';

const person = (authenticatedAt: string): Principal => ({
  id: 'p1', kind: 'human', role: 'admin', tenants: ['*'], instrument: null, displayName: 'admin-1', authMethod: 'session', credentialId: 's1', authenticatedAt,
});

const code = (f: () => void): string | null => {
  try {
    f();
    return null;
  } catch (e) {
    return isLabkluisError(e) ? e.code : 'other';
  }
};

describe('step-up', () => {
  it('accepts an assertion up to five minutes old and refuses an older one', () => {
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    const p = person(clock.now().toISOString());
    clock.advance(300_000);
    expect(code(() => requireStepUp(p, clock, 'inviting'))).toBeNull();
    clock.advance(1);
    expect(code(() => requireStepUp(p, clock, 'inviting'))).toBe('ERR_FORBIDDEN');
  });
  it('refuses an assertion from the future, API tokens, and sessions without one; the local operator passes', () => {
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    expect(code(() => requireStepUp(person('2026-11-22T10:01:00Z'), clock, 'x'))).toBe('ERR_FORBIDDEN');
    expect(code(() => requireStepUp({ ...person(clock.now().toISOString()), authMethod: 'api-token' }, clock, 'x'))).toBe('ERR_FORBIDDEN');
    const { authenticatedAt: _a, ...withoutAssertion } = person(clock.now().toISOString());
    expect(code(() => requireStepUp(withoutAssertion, clock, 'x'))).toBe('ERR_FORBIDDEN');
    expect(code(() => requireStepUp(localImporter('root'), clock, 'x'))).toBeNull();
  });
});

describe('sign-in throttle', () => {
  it('allows five failures per account, then doubles the wait up to the ceiling, and forgets after an hour', () => {
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    const t = new SignInThrottle({ clock });
    for (let i = 0; i < 5; i++) {
      expect(code(() => t.check('anna', null))).toBeNull();
      t.failed('anna', null);
    }
    expect(code(() => t.check('anna', null))).toBeNull(); // five free failures: no wait yet
    t.failed('anna', null);
    expect(code(() => t.check('anna', null))).toBe('ERR_RATE_LIMITED');
    clock.advance(2_000);
    expect(code(() => t.check('anna', null))).toBeNull();
    t.failed('anna', null);
    clock.advance(2_000);
    expect(code(() => t.check('anna', null))).toBe('ERR_RATE_LIMITED'); // now 4 s
    for (let i = 0; i < 20; i++) t.failed('anna', null);
    clock.advance(899_000);
    expect(code(() => t.check('anna', null))).toBe('ERR_RATE_LIMITED');
    clock.advance(1_000);
    expect(code(() => t.check('anna', null))).toBeNull(); // capped at 15 minutes
    clock.advance(3_600_000);
    t.failed('anna', null);
    expect(code(() => t.check('anna', null))).toBeNull(); // forgotten: a fresh count
  });
  it('throttles an address across accounts, and a success clears only the account', () => {
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    const t = new SignInThrottle({ clock });
    for (let i = 0; i < 21; i++) t.failed(`user-${i}`, '10.0.0.7');
    expect(code(() => t.check('someone-else', '10.0.0.7'))).toBe('ERR_RATE_LIMITED');
    expect(code(() => t.check('someone-else', '10.0.0.8'))).toBeNull();
    for (let i = 0; i < 6; i++) t.failed('bert', null);
    t.succeeded('bert');
    expect(code(() => t.check('bert', null))).toBeNull();
  });
  it('keeps memory bounded', () => {
    const clock = new ManualClock('2026-11-22T10:00:00Z');
    const t = new SignInThrottle({ clock, maxEntries: 100 });
    for (let i = 0; i < 1_000; i++) {
      clock.advance(10);
      t.failed(`spray-${i}`, null);
    }
    expect(t.size).toBeLessThanOrEqual(100);
    // The newest failures are still counted; the oldest free-attempt entries were dropped.
    for (let i = 0; i < 5; i++) t.failed('spray-999', null);
    expect(code(() => t.check('spray-999', null))).toBe('ERR_RATE_LIMITED');
  });
});
