/**
 * What the figures were measured on: core count, CPU model, memory, Node, kernel, the file
 * system the temp data lives on, and how long one small write + fdatasync takes there (the
 * floor under every durable commit).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { round } from './stats.js';

export interface MachineInfo {
  readonly date: string;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
  readonly tmpFilesystem: string;
  readonly sqliteVersion: string;
  readonly fdatasync4kMs: { readonly p50: number; readonly mean: number };
  readonly loadAvgAtStart: readonly number[];
}

export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString(),
    nproc: nproc(),
    cpuModel: cpuModel(),
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    kernel: release(),
    tmpFilesystem: filesystemOf(tmpdir()),
    sqliteVersion: sqliteVersion(),
    fdatasync4kMs: fsyncProbe(tmpdir(), 200),
    loadAvgAtStart: loadavg().map((l) => round(l, 2)),
  };
}

function nproc(): number {
  try {
    return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    return availableParallelism();
  }
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function filesystemOf(dir: string): string {
  try {
    const out = execFileSync('df', ['-T', dir], { encoding: 'utf8' }).trim().split('\n')[1] ?? '';
    const [device, type] = out.split(/\s+/);
    return `${type ?? '?'} (${device ?? '?'})`;
  } catch {
    return 'unknown';
  }
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return String((db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v);
  } finally {
    db.close();
  }
}

/** n times: write 4 KiB and fdatasync it, in the temp directory the vaults use. */
function fsyncProbe(dir: string, n: number): { p50: number; mean: number } {
  const path = join(dir, `labkluis-bench-fsync-${process.pid}.bin`);
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 0x5a);
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  times.sort((a, b) => a - b);
  return { p50: round(times[Math.floor(n / 2)]!, 3), mean: round(times.reduce((s, v) => s + v, 0) / n, 3) };
}
