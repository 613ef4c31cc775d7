/**
 * Asserts that a promise rejects with a LabkluisError of a given code, and that its message
 * quotes none of the given values (driver messages can carry tokens or pseudonyms).
 */
import { expect } from 'vitest';
import { isLabkluisError, type ErrorCode } from '../../src/kernel/index.js';

export async function expectCode(p: Promise<unknown>, code: ErrorCode, secrets: readonly string[] = []): Promise<void> {
  let caught: unknown = null;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).not.toBeNull();
  expect(isLabkluisError(caught) ? caught.code : caught).toBe(code);
  const message = (caught as Error).message;
  for (const s of secrets) expect(message).not.toContain(s);
  expect(message).not.toMatch(/\b(SELECT|INSERT|UPDATE|DELETE)\b/);
}
