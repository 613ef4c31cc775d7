// The sentinel's softer signals, on their own: usual hours in the lab's time zone, walks
// through barcodes, broad searches, refusals in a row, and how they make limits stricter.
import { describe, expect, it } from 'vitest';
import { percentile95 } from '../../src/sentinel/baselines.js';
import { DEFAULT_SENTINEL_POLICY } from '../../src/sentinel/index.js';
import { networkOf } from '../../src/sentinel/sentinel.js';
import { Signals } from '../../src/sentinel/signals.js';

const at = (iso: string) => Date.parse(iso);

describe('sentinel signals', () => {
  const policy = DEFAULT_SENTINEL_POLICY.signals;

  it('knows usual hours in Amsterdam time, summer and winter, and Sunday', () => {
    const s = new Signals(policy);
    // Monday 9 March 2026, 07:30 in Amsterdam is 06:30 UTC (winter time): working hours.
    expect(s.strictness('x', at('2026-03-09T06:30:00Z')).signals).toEqual([]);
    // 06:30 in Amsterdam (05:30 UTC): before hours, limits halve.
    expect(s.strictness('x', at('2026-03-09T05:30:00Z'))).toEqual({ factor: 2, signals: ['off-hours'] });
    // Monday 6 July 2026 18:30 in Amsterdam is 16:30 UTC (summer time): working hours; 19:00 is not.
    expect(s.strictness('x', at('2026-07-06T16:30:00Z')).signals).toEqual([]);
    expect(s.strictness('x', at('2026-07-06T17:00:00Z')).signals).toEqual(['off-hours']);
    // Sunday noon.
    expect(s.strictness('x', at('2026-07-05T10:00:00Z')).signals).toEqual(['off-hours']);
    expect(new Signals({ ...policy, workingHours: null }).strictness('x', at('2026-07-05T10:00:00Z')).signals).toEqual([]);
  });

  it('sees a walk of eight barcodes in small steps, not scattered ones or another prefix', () => {
    const s = new Signals({ ...policy, workingHours: null });
    const t = at('2026-07-06T10:00:00Z');
    for (let i = 0; i < 7; i++) s.observe('walker', 'requester', { broad: false, identifiers: [`LKW${1000 + i * 2}`] }, t + i);
    expect(s.strictness('walker', t + 10).signals).toEqual([]);
    s.observe('walker', 'requester', { broad: false, identifiers: ['LKW1014'] }, t + 11);
    expect(s.strictness('walker', t + 12)).toEqual({ factor: 2, signals: ['walking'] });
    // It lasts an hour after it was seen.
    expect(s.strictness('walker', t + 3_600_000 + 12).signals).toEqual([]);
    for (let i = 0; i < 20; i++) s.observe('scatter', 'requester', { broad: false, identifiers: [`LKW${1000 + i * 50}`] }, t + i);
    for (let i = 0; i < 20; i++) s.observe('hopper', 'requester', { broad: false, identifiers: [`${i % 2 ? 'AB' : 'CD'}${1000 + i}`] }, t + i);
    expect(s.strictness('scatter', t + 30).signals).toEqual([]);
    // An analyst going through a plate in barcode order is at work: no signal.
    for (let i = 0; i < 20; i++) s.observe('analyst', 'analyst', { broad: false, identifiers: [`LKW${1000 + i}`] }, t + i);
    expect(s.strictness('analyst', t + 30).signals).toEqual([]);
    expect(s.strictness('hopper', t + 30).signals).toEqual([]);
  });

  it('counts broad searches within the hour and refusals only in a row', () => {
    const s = new Signals({ ...policy, workingHours: null });
    const t = at('2026-07-06T10:00:00Z');
    for (let i = 0; i < policy.broadSearches - 1; i++) s.observe('broad', 'requester', { broad: true, identifiers: [] }, t + i * 1000);
    expect(s.strictness('broad', t + 60_000).signals).toEqual([]);
    // The first of them has left the hour: still one short.
    s.observe('broad', 'requester', { broad: true, identifiers: [] }, t + 3_600_500);
    expect(s.strictness('broad', t + 3_600_600).signals).toEqual([]);
    s.observe('broad', 'requester', { broad: true, identifiers: [] }, t + 3_600_700);
    expect(s.strictness('broad', t + 3_600_800).signals).toEqual(['broad-search']);
    for (let i = 0; i < policy.refusalsInARow - 1; i++) s.refused('prober', t);
    s.observe('prober', 'requester', null, t);
    for (let i = 0; i < policy.refusalsInARow - 1; i++) s.refused('prober', t);
    expect(s.strictness('prober', t).signals).toEqual([]);
    s.refused('prober', t);
    expect(s.strictness('prober', t).signals).toEqual(['refusals']);
  });

  it('multiplies factors and never goes below the floor or above the limit', () => {
    const s = new Signals({ ...policy, workingHours: null });
    const t = at('2026-07-06T10:00:00Z');
    s.securityEvent('both', t);
    for (let i = 0; i < policy.refusalsInARow; i++) s.refused('both', t);
    const strict = s.strictness('both', t);
    expect(strict.factor).toBe(4);
    expect(s.stricter(20, strict, 600)).toBe(5);
    expect(s.stricter(8, strict, 600)).toBe(5);
    expect(s.stricter(3, strict, 600)).toBe(3);
    expect(s.stricter(300, strict, 3_600)).toBe(75);
  });

  it('leaves windows longer than a signal lasts (the day) as they are', () => {
    const s = new Signals(policy);
    // 20:30 in Amsterdam on a Monday, after a sign-in from a new network: factor 4.
    const t = at('2026-07-06T18:30:00Z');
    s.newNetwork('home', t);
    const strict = s.strictness('home', t);
    expect(strict.factor).toBe(4);
    expect(s.stricter(200, strict, policy.lastsSeconds)).toBe(50);
    expect(s.stricter(200, strict, 86_400)).toBe(200);
  });

  it('groups sign-in addresses by network: IPv4 per /24, IPv6 per /64', () => {
    expect(networkOf('192.0.2.17')).toBe(networkOf('192.0.2.200'));
    expect(networkOf('192.0.2.17')).not.toBe(networkOf('192.0.3.17'));
    expect(networkOf('::ffff:192.0.2.17')).toBe(networkOf('192.0.2.1'));
    expect(networkOf('2001:db8:1:2::1')).toBe(networkOf('2001:db8:1:2:ffff::9'));
    expect(networkOf('2001:db8:1:2::1')).not.toBe(networkOf('2001:db8:1:3::1'));
  });

  it('takes the nearest-rank 95th percentile', () => {
    expect(percentile95([5])).toBe(5);
    expect(percentile95(Array.from({ length: 20 }, (_, i) => i + 1))).toBe(19);
    expect(percentile95(Array.from({ length: 100 }, (_, i) => 100 - i))).toBe(95);
  });
});
