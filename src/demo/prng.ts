/**
 * A small, fast, deterministic generator (sfc32, from PractRand) for synthetic data only.
 * It is seeded once from the injected Random, so a demo run is reproducible from that
 * Random, and 10,000 patients cost milliseconds rather than thousands of crypto calls.
 * Never use it for ids that must be unguessable, keys or nonces.
 */
import type { Random } from '../kernel/index.js';

export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: Uint8Array) {
    if (seed.length < 16) throw new TypeError('Prng needs a 16-byte seed');
    const view = new DataView(seed.buffer, seed.byteOffset, 16);
    this.#a = view.getUint32(0);
    this.#b = view.getUint32(4);
    this.#c = view.getUint32(8);
    this.#d = view.getUint32(12) | 1;
    for (let i = 0; i < 15; i++) this.next(); // mix the seed in
  }

  static from(random: Random): Prng {
    return new Prng(random.bytes(16));
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new TypeError('pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Picks by weight: [[value, weight], …]. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((s, [, w]) => s + w, 0);
    let r = this.float() * total;
    for (const [value, w] of choices) if ((r -= w) < 0) return value;
    return choices[choices.length - 1]![0];
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.next();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (24 - 8 * j)) & 0xff;
    }
    return out;
  }

  /** An RFC 9562 version-4-shaped UUID (lowercase) from this stream. */
  uuid(): string {
    const b = this.bytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** This stream seen through the kernel's Random interface (for syntheticBsn and friends). */
  asRandom(): Random {
    return { bytes: (n) => this.bytes(n), uuid: () => this.uuid() };
  }
}
