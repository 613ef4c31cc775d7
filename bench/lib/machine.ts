/**
 * What the figures were measured on: core count, CPU model, memory, Node, kernel, the file
 * system the temp data lives on, and how long one small write + fdatasync takes there (the
 * floor under every durable commit).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
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
  /**
   * A bare better-sqlite3 transaction in WAL mode on the same disk (rows of 1 KiB, no indexes):
   * the floor under any vault commit, with the vault's synchronous=FULL and with NORMAL.
   */
  readonly sqliteCommitFloorMs: Record<'FULL' | 'NORMAL', { readonly rows7: number; readonly rows330: number }>;
  readonly loadAvgAtStart: readonly number[];
  /** The code measured: HEAD and the source files that differ from it (a shared checkout moves). */
  readonly source: { readonly commit: string; readonly uncommitted: readonly string[] };
}

/** The facts that cost nothing to gather (no probes, no git): all the attack replay records. */
export type MachineBasics = Pick<MachineInfo, 'date' | 'nproc' | 'cpuModel' | 'memoryGiB' | 'node' | 'kernel' | 'sqliteVersion' | 'loadAvgAtStart'>;

export function machineBasics(): MachineBasics {
  return {
    date: new Date().toISOString(),
    nproc: nproc(),
    cpuModel: cpuModel(),
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    kernel: release(),
    sqliteVersion: sqliteVersion(),
    loadAvgAtStart: loadavg().map((l) => round(l, 2)),
  };
}

export function machineInfo(): MachineInfo {
  return {
    ...machineBasics(),
    tmpFilesystem: filesystemOf(tmpdir()),
    fdatasync4kMs: fsyncProbe(tmpdir(), 200),
    sqliteCommitFloorMs: { FULL: sqliteCommitFloor('FULL'), NORMAL: sqliteCommitFloor('NORMAL') },
    source: sourceState(),
  };
}

function sourceState(): { commit: string; uncommitted: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const uncommitted = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' })
      .split('\n').filter(Boolean).map((l) => l.slice(3));
    return { commit, uncommitted };
  } catch {
    return { commit: 'unknown', uncommitted: [] };
  }
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

function sqliteCommitFloor(sync: 'FULL' | 'NORMAL'): { rows7: number; rows330: number } {
  const dir = mkdtempSync(join(tmpdir(), 'labkluis-bench-commit-'));
  const db = new Database(join(dir, 'floor.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync}`);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    const body = Buffer.alloc(1024, 0x5a);
    const tx = db.transaction((n: number) => {
      for (let i = 0; i < n; i++) insert.run(body);
    });
    const time = (rows: number, n: number) => {
      tx.immediate(rows);
      const t = performance.now();
      for (let i = 0; i < n; i++) tx.immediate(rows);
      return round((performance.now() - t) / n, 3);
    };
    return { rows7: time(7, 200), rows330: time(330, 30) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** n times: write 4 KiB and fdatasync it, in the temp directory the vaults use. */
export function fsyncProbe(dir: string = tmpdir(), n = 100): { p50: number; mean: number } {
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

/**
 * CPU accounting around a phase, to tell a slow vault from a busy machine: this process's
 * CPU time (all threads) and everything else's (from /proc/stat), per second of wall time.
 */
export interface CpuSnapshot {
  readonly wallMs: number;
  readonly ownUs: number;
  readonly busyTicks: number;
  readonly stealTicks: number;
}

export interface CpuUse {
  /** CPU seconds this process used. */
  readonly ownCpuSeconds: number;
  /** Cores' worth of CPU used by other processes (other work, PostgreSQL server) on average. */
  readonly otherCores: number;
  /** Cores' worth of CPU the hypervisor took (steal). */
  readonly stealCores: number;
}

let clockTicks = 0;
function ticksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export function cpuSnapshot(): CpuSnapshot {
  let busyTicks = 0;
  let stealTicks = 0;
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    busyTicks = user + nice + system + irq + softirq;
    stealTicks = steal;
  } catch {
    /* not Linux: other-process load stays 0 */
  }
  const u = process.cpuUsage();
  return { wallMs: performance.now(), ownUs: u.user + u.system, busyTicks, stealTicks };
}

export function cpuSince(start: CpuSnapshot, end: CpuSnapshot = cpuSnapshot()): CpuUse {
  const wall = Math.max((end.wallMs - start.wallMs) / 1000, 1e-9);
  const own = (end.ownUs - start.ownUs) / 1e6;
  const busy = (end.busyTicks - start.busyTicks) / ticksPerSecond();
  return {
    ownCpuSeconds: round(own, 3),
    otherCores: round(Math.max(0, busy - own) / wall, 2),
    stealCores: round((end.stealTicks - start.stealTicks) / ticksPerSecond() / wall, 2),
  };
}
