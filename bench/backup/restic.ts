/**
 * restic beside labkluis: the same data directory (SQLite file, closed and checkpointed, so
 * quiescent) backed up by `restic backup`, checked by `restic check --read-data` and restored
 * by `restic restore`. Each repository lives in the run's temp dir with its own cache there, a
 * fixed password in the environment (the bench's, for a throwaway repository). restic uses
 * every core; its CPU time is read from this process's reaped children (/proc/self/stat).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { round } from '../lib/stats.js';
import type { Timed } from './ours.js';
import { dirBytes } from './vault.js';

export interface ResticInfo {
  readonly available: boolean;
  readonly version?: string;
  /** How restic came to be there, or why it is not. */
  readonly note: string;
}

/** `restic version`; when it is missing, `apt-get install -y restic` (as root, with apt-get), printed first. */
export function ensureRestic(log: (s: string) => void, install: boolean): ResticInfo {
  const version = resticVersion();
  if (version) return { available: true, version, note: 'installed' };
  if (!install) return { available: false, note: 'not installed (--no-install); apt-get install restic' };
  const root = process.getuid?.() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!root || !apt) {
    const note = `not installed; install it (Debian: apt-get install restic) and run again${root ? '' : ' (the bench installs it only as root)'}`;
    log(`restic: ${note}`);
    return { available: false, note };
  }
  log('restic is not installed; running: apt-get install -y restic');
  const r = spawnSync('apt-get', ['install', '-y', 'restic'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const after = resticVersion();
  if (r.status === 0 && after) return { available: true, version: after, note: 'installed by this run (apt-get install -y restic)' };
  const note = `apt-get install -y restic failed (exit ${r.status ?? r.signal}); install restic and run again`;
  log(`restic: ${note}`);
  return { available: false, note };
}

function resticVersion(): string | null {
  try {
    return execFileSync('restic', ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Clock ticks per second, the unit of /proc's CPU times. */
export const CLK_TCK: number = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds of this process's reaped children (utime + stime of the ones waited for). */
function childCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 (cutime, cstime), counted from 1 with pid; f starts at field 3.
    return (Number(f[13]) + Number(f[14])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

export interface ResticRun extends Timed {
  readonly stdout: string;
}

export class Restic {
  readonly #repo: string;
  readonly #env: NodeJS.ProcessEnv;

  constructor(repo: string, cacheDir: string) {
    this.#repo = repo;
    this.#env = { ...process.env, RESTIC_PASSWORD: 'labkluis-backup-bench (a throwaway repository)', RESTIC_CACHE_DIR: cacheDir, RESTIC_PROGRESS_FPS: '0.2' };
  }

  get repo(): string {
    return this.#repo;
  }

  /** Runs restic asynchronously (the event loop stays free for Ctrl-C); throws on a non-zero exit. */
  run(args: readonly string[]): Promise<ResticRun> {
    const t0 = performance.now();
    const c0 = childCpuSeconds();
    return new Promise((resolve, reject) => {
      const child = spawn('restic', ['-r', this.#repo, ...args], { env: this.#env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        const seconds = round((performance.now() - t0) / 1000, 2);
        if (code !== 0) {
          reject(new Error(`restic ${args[0]} failed (${code ?? signal}): ${Buffer.concat(err).toString('utf8').trim().slice(-500)}`));
          return;
        }
        resolve({ seconds, cpuSeconds: round(childCpuSeconds() - c0, 2), stdout: Buffer.concat(out).toString('utf8') });
      });
    });
  }

  async init(): Promise<string> {
    await this.run(['init']);
    const config = JSON.parse((await this.run(['cat', 'config', '--json'])).stdout) as { version?: number };
    return `repository version ${config.version ?? '?'}`;
  }

  async backup(path: string): Promise<ResticBackup> {
    const before = dirBytes(this.#repo);
    const r = await this.run(['backup', '--json', '--host', 'labkluis-bench', path]);
    let summary: Record<string, number> = {};
    for (const line of r.stdout.split('\n')) {
      try {
        const m = JSON.parse(line) as { message_type?: string } & Record<string, number>;
        if (m.message_type === 'summary') summary = m;
      } catch {
        /* a status line cut short */
      }
    }
    return {
      seconds: r.seconds, cpuSeconds: r.cpuSeconds,
      bytesProcessed: summary.total_bytes_processed ?? Number.NaN,
      dataAdded: summary.data_added ?? Number.NaN,
      repoGrowth: dirBytes(this.#repo) - before,
      filesNew: summary.files_new ?? 0, filesChanged: summary.files_changed ?? 0,
    };
  }
}

export interface ResticBackup extends Timed {
  /** Bytes of files restic read (its summary's total_bytes_processed). */
  readonly bytesProcessed: number;
  /** Its summary's data_added: new data before compression (restic 0.14 reports no packed size). */
  readonly dataAdded: number;
  /** The repository directory's growth (apparent sizes): what it wrote. */
  readonly repoGrowth: number;
  readonly filesNew: number;
  readonly filesChanged: number;
}
