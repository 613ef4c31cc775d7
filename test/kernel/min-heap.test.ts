// The kernel's min-heap (the replay cache's expiries, the attack replay's events): items come
// out in order, ties as the comparison says, and an empty heap gives undefined.
import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../src/kernel/index.js';

describe('MinHeap', () => {
  it('gives items back smallest first, whatever order they went in', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    const input = Array.from({ length: 200 }, (_, i) => (i * 7919) % 211);
    for (const n of input) heap.push(n);
    expect(heap.size).toBe(200);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!);
    expect(out).toEqual([...input].sort((a, b) => a - b));
    expect(heap.pop()).toBeUndefined();
    expect(heap.peek()).toBeUndefined();
  });

  it('breaks ties as the comparison says', () => {
    const heap = new MinHeap<{ at: number; seq: number }>((x, y) => x.at < y.at || (x.at === y.at && x.seq < y.seq));
    for (const [at, seq] of [[5, 3], [5, 1], [1, 9], [5, 2]] as const) heap.push({ at, seq });
    expect(heap.peek()).toEqual({ at: 1, seq: 9 });
    expect([heap.pop(), heap.pop(), heap.pop(), heap.pop()].map((e) => e?.seq)).toEqual([9, 1, 2, 3]);
  });
});
