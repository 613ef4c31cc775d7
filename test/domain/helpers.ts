import { expect } from 'vitest';
import { isLabkluisError, type Issue } from '../../src/kernel/index.js';
import { validateResource } from '../../src/domain/index.js';
import { clock } from './fixtures.js';

/** Validates and returns the issues it was refused with (fails the test if it was accepted). */
export function refusal(json: unknown, options: { allowUrnReferences?: boolean } = {}): readonly Issue[] {
  try {
    validateResource(json, { clock, ...options });
  } catch (e) {
    expect(isLabkluisError(e, 'ERR_INVALID_RESOURCE')).toBe(true);
    return (e as { issues: readonly Issue[] }).issues;
  }
  throw new Error('expected the resource to be refused');
}

/** Asserts the refusal names `expression` (and, if given, a diagnostic matching `message`). */
export function expectRefused(json: unknown, expression: string, message?: RegExp, options: { allowUrnReferences?: boolean } = {}): void {
  const issues = refusal(json, options);
  const hit = issues.find((i) => i.expression === expression && (message === undefined || message.test(i.diagnostics)));
  expect(hit, `no issue at ${expression}; got ${JSON.stringify(issues)}`).toBeDefined();
}

export const valid = (json: unknown, options: { allowUrnReferences?: boolean } = {}) => validateResource(json, { clock, ...options });
