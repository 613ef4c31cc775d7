/**
 * Simulated time for the attack replay: a clock the app reads (AppOptions.clock) and a
 * discrete-event scheduler that moves it. Actors are async functions that call sleep() or
 * sleepUntil(); exactly one actor runs at a time, so every request it makes sees the clock at
 * the actor's own simulated moment. Two weeks of a lab's traffic then take minutes, not weeks.
 */
import { MinHeap, type Clock } from '../../src/kernel/index.js';

/** The app's clock: moves only forward, and only when the scheduler says so. */
export class SimClock implements Clock {
  #ms: number;
  constructor(startMs: number) {
    this.#ms = startMs;
  }
  now(): Date {
    return new Date(this.#ms);
  }
  get ms(): number {
    return this.#ms;
  }
  /** Sets the time; earlier times are ignored (time never runs back). */
  set(ms: number): void {
    if (ms > this.#ms) this.#ms = ms;
  }
}

interface SimEvent {
  readonly at: number;
  readonly seq: number;
  readonly wake: () => void;
}

const before = (x: SimEvent, y: SimEvent) => x.at < y.at || (x.at === y.at && x.seq < y.seq);

export class Scheduler {
  readonly clock: SimClock;
  /** On (at, seq): equal times run in the order they were scheduled. */
  readonly #heap = new MinHeap<SimEvent>(before);
  #seq = 0;
  /** Resolves the scheduler's wait: the running actor slept or finished. */
  #yielded: (() => void) | null = null;
  #failure: unknown = null;
  /** Events run so far (for the progress line). */
  steps = 0;

  constructor(clock: SimClock) {
    this.clock = clock;
  }

  get now(): number {
    return this.clock.ms;
  }

  /** Starts `actor` at simulated time `at` (now if earlier). */
  spawn(at: number, actor: () => Promise<void>): void {
    this.#push(at, () => {
      actor().then(() => this.#yield(), (e: unknown) => {
        this.#failure ??= e;
        this.#yield();
      });
    });
  }

  /** Called by the running actor: resumes it at `at`. */
  sleepUntil(at: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#push(at, resolve);
      this.#yield();
    });
  }

  sleep(ms: number): Promise<void> {
    return this.sleepUntil(this.clock.ms + Math.max(0, ms));
  }

  /** Runs every event up to `untilMs`; events later than that stay queued. Rejects on an actor's failure. */
  async run(untilMs: number, onStep?: () => void): Promise<void> {
    for (let e = this.#heap.peek(); e !== undefined && e.at <= untilMs; e = this.#heap.peek()) {
      this.#heap.pop();
      this.clock.set(e.at);
      const done = new Promise<void>((resolve) => (this.#yielded = resolve));
      e.wake();
      await done;
      this.steps++;
      if (this.#failure !== null) throw this.#failure;
      onStep?.();
    }
    this.clock.set(untilMs);
  }

  #push(at: number, wake: () => void): void {
    this.#heap.push({ at: Math.max(at, this.clock.ms), seq: this.#seq++, wake });
  }

  #yield(): void {
    const y = this.#yielded;
    this.#yielded = null;
    y?.();
  }
}
