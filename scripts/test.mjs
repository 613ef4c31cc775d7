#!/usr/bin/env node
// Runs the whole suite with vitest and ends with the plain line "N passed, N failed"
// (CI reads that line). Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The type checker first: a type error is a failed test, not something CI may miss.
const typecheck = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit' });
const typeFailures = typecheck.status === 0 ? 0 : 1;
if (typeFailures) console.error('typecheck failed (see above)');

const dir = mkdtempSync(join(tmpdir(), 'labkluis-test-'));
const out = join(dir, 'results.json');
const run = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(out, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  // A file that fails to load has no failed tests of its own: count it once.
  if (failed === 0) failed = report.numFailedTestSuites ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
} catch {
  failed = Math.max(1, failed); // no report: something broke before the tests ran
}
rmSync(dir, { recursive: true, force: true });
passed += typeFailures ? 0 : 1; // the typecheck counts as one test
failed += typeFailures;
const code = run.status ?? 1;
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : code);
