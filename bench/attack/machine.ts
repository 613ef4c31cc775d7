/** Facts about the machine a run was measured on (no git calls: the checkout is shared and moving). */
import Database from 'better-sqlite3';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  readonly date: string;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
  readonly sqlite: string;
  readonly loadAvgAtStart: readonly number[];
}

export function machine(): Machine {
  const db = new Database(':memory:');
  const sqlite = String((db.prepare('select sqlite_version() as v').get() as { v: string }).v);
  db.close();
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    sqlite,
    loadAvgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
