import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for long work (import, demo, audit verify). Without a terminal
 * (CI, pipes) it prints nothing while running; the command prints its own summary line.
 */
export interface Progress {
  advance(by?: number): void;
  stop(): void;
}

export function progress(label: string, total: number): Progress {
  if (!process.stderr.isTTY || total <= 0) return { advance: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(14)} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { advance: (by = 1) => bar.increment(by), stop: () => bar.stop() };
}
