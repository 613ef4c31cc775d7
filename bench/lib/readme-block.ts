/**
 * What every benchmark writes at the end: its figures as results/<name>.json, and its block of
 * bench/README.md rewritten between two markers (the prose around it is kept).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `existing` with the text from the line starting `startPrefix` to `end` replaced by `block`;
 * where there is no such block yet, `whenMissing` says where it goes.
 */
export function replaceBlock(existing: string, startPrefix: string, end: string, block: string, whenMissing: (existing: string) => string): string {
  const a = existing.indexOf(startPrefix);
  const b = existing.indexOf(end);
  if (a >= 0 && b > a) return `${existing.slice(0, a)}${block}${existing.slice(b + end.length)}`;
  return whenMissing(existing);
}

/**
 * Writes `results` to `<benchDir>/results/<fileName>` and, given a renderer, rewrites
 * `<benchDir>/README.md` with it (a README not there yet starts empty). Returns the paths.
 */
export function writeResultsAndReadme(
  benchDir: string, fileName: string, results: unknown, render?: (readme: string, resultsFile: string) => string,
): { file: string; readmePath: string | null } {
  const dir = join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, fileName);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  if (render === undefined) return { file, readmePath: null };
  const readmePath = join(benchDir, 'README.md');
  let readme = '';
  try {
    readme = readFileSync(readmePath, 'utf8');
  } catch {
    /* first run: the block alone */
  }
  writeFileSync(readmePath, render(readme, `results/${fileName}`));
  return { file, readmePath };
}
