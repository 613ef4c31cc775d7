import { describe, expect, it } from 'vitest';
import { civilDate, isFhirDate, isFhirDateTime, isFhirInstant, timeRange } from '../../src/domain/index.js';

describe('FHIR date and time', () => {
  it('tells dates, dateTimes and instants apart', () => {
    expect(['2026', '2026-02', '2026-02-28', '2024-02-29'].every(isFhirDate)).toBe(true);
    expect(['2026-2', '2026-02-29', '2026-00', '0000', '2026-02-28T10:00:00Z'].some(isFhirDate)).toBe(false);
    expect(isFhirDateTime('2026-02-28T10:00:00+01:00')).toBe(true);
    expect(isFhirDateTime('2026-02-28T10:00:00')).toBe(false); // a time needs a zone
    expect(isFhirDateTime('2026-02-28T24:00:00Z')).toBe(false);
    expect(isFhirInstant('2026-02-28')).toBe(false);
    expect(isFhirInstant('2026-02-28T10:00:00.123456789Z')).toBe(true);
  });
  it('gives half-open ranges, summer and winter time included', () => {
    const r = timeRange('2026-03-29')!; // the day clocks go forward: 23 hours long
    expect((r.end - r.start) / 3_600_000).toBe(23);
    expect(new Date(timeRange('2026')!.end).toISOString()).toBe('2026-12-31T23:00:00.000Z');
    expect(timeRange('nonsense')).toBeUndefined();
  });
  it('reads today in Amsterdam', () => {
    expect(civilDate(new Date('2026-01-15T23:30:00Z'))).toBe('2026-01-16');
  });
});
