import { describe, expect, it } from 'vitest';
import { isLabkluisError } from '../../src/kernel/index.js';
import { BARCODE_SYSTEM, BSN_SYSTEM, MAX_COUNT, parseSearch, type SearchType } from '../../src/domain/index.js';

const parse = (type: SearchType, qs: string) => parseSearch(type, new URLSearchParams(qs));

function refused(type: SearchType, qs: string, param: string): void {
  try {
    parse(type, qs);
    expect.unreachable(`${type}?${qs} was accepted`);
  } catch (e) {
    expect(isLabkluisError(e, 'ERR_INVALID_INPUT'), String(e)).toBe(true);
    expect((e as { issues: { expression: string }[] }).issues.map((i) => i.expression)).toContain(param);
  }
}

describe('parseSearch', () => {
  it('defaults _count to 20, caps it at 100 and refuses nonsense', () => {
    expect(parse('Observation', '').count).toBe(20);
    expect(parse('Observation', '_count=7').count).toBe(7);
    expect(parse('Observation', '_count=5000').count).toBe(MAX_COUNT);
    for (const v of ['0', '-1', '1.5', 'ten', '']) refused('Observation', `_count=${v}`, '_count');
    refused('Observation', '_count=5&_count=6', '_count');
  });
  it('accepts an opaque cursor and refuses a malformed one', () => {
    expect(parse('Observation', '_cursor=abc_DEF-12').cursor).toBe('abc_DEF-12');
    refused('Observation', '_cursor=a%20b', '_cursor');
  });
  it('refuses unknown parameters, modifiers and parameters of other types', () => {
    refused('Observation', 'name=x', 'name');
    refused('Observation', 'code:text=hpv', 'code:text');
    refused('Observation', '_sort=date', '_sort');
    refused('ServiceRequest', 'date=2026', 'date');
    refused('Specimen', 'code=1', 'code');
    refused('Patient', 'name=Test-Jansen', 'name');
  });
  it('names every bad parameter at once', () => {
    try {
      parse('Observation', 'status=done&date=yesterday');
      expect.unreachable();
    } catch (e) {
      expect((e as { issues: { expression: string }[] }).issues.map((i) => i.expression)).toEqual(['status', 'date']);
    }
  });
  it('parses subject and its patient alias, with or without the type', () => {
    expect(parse('Observation', 'subject=Patient/p1,p2').subject).toEqual(['p1', 'p2']);
    expect(parse('DiagnosticReport', 'patient=p3').subject).toEqual(['p3']);
    refused('Observation', 'subject=Group/g1', 'subject');
    refused('Observation', 'subject=p1&subject=p2', 'subject');
    refused('Observation', 'subject=p1&patient=p2', 'patient');
  });
  it('parses statuses from the type\'s value set', () => {
    expect(parse('Observation', 'status=final,amended').status).toEqual(['final', 'amended']);
    refused('DiagnosticReport', 'status=corrected', 'status');
    refused('Specimen', 'status=final', 'status');
  });
  it('parses tokens: comma is OR, repetition is AND, system optional', () => {
    const q = parse('Observation', 'code=http://loinc.org|77379-6,77399-4&code=77400-0');
    expect(q.tokens).toEqual([
      [{ param: 'code', system: 'http://loinc.org', value: '77379-6' }, { param: 'code', value: '77399-4' }],
      [{ param: 'code', value: '77400-0' }],
    ]);
    refused('Observation', 'code=a|b|c', 'code');
    refused('Observation', 'code=http://loinc.org|', 'code');
    refused('Observation', 'code=,77379-6', 'code');
  });
  it('handles escaped commas and pipes in token values', () => {
    const q = parse('ServiceRequest', 'code=a\\,b,c\\|d');
    expect(q.tokens).toEqual([[{ param: 'code', value: 'a,b' }, { param: 'code', value: 'c|d' }]]);
  });
  it('turns reference parameters into tokens of Type/id', () => {
    expect(parse('Observation', 'specimen=sp1,Specimen/sp2').tokens).toEqual([[{ param: 'specimen', value: 'Specimen/sp1' }, { param: 'specimen', value: 'Specimen/sp2' }]]);
    expect(parse('DiagnosticReport', 'based-on=sr1').tokens).toEqual([[{ param: 'based-on', value: 'ServiceRequest/sr1' }]]);
    refused('Observation', 'specimen=Patient/p1', 'specimen');
  });
  it('turns dates with prefixes into half-open UTC ranges (dates read in Europe/Amsterdam)', () => {
    expect(parse('Observation', 'date=2026-01-15')).toMatchObject({ dateFrom: '2026-01-14T23:00:00.000Z', dateTo: '2026-01-15T23:00:00.000Z' });
    expect(parse('Observation', 'date=2026-07')).toMatchObject({ dateFrom: '2026-06-30T22:00:00.000Z', dateTo: '2026-07-31T22:00:00.000Z' });
    expect(parse('Observation', 'date=ge2026&date=lt2026-03-01')).toMatchObject({ dateFrom: '2025-12-31T23:00:00.000Z', dateTo: '2026-02-28T23:00:00.000Z' });
    const gt = parse('DiagnosticReport', 'date=gt2026-01-15T10:00:00Z');
    expect(gt.dateFrom).toBe('2026-01-15T10:00:01.000Z');
    expect(gt.dateTo).toBeUndefined();
    expect(parse('Observation', 'date=le2026-01-15T10:00:00%2B01:00').dateTo).toBe('2026-01-15T09:00:01.000Z');
    expect(parse('Observation', 'date=eq2026-01-15T10:00:00.5Z')).toMatchObject({ dateFrom: '2026-01-15T10:00:00.500Z', dateTo: '2026-01-15T10:00:00.600Z' });
    for (const v of ['2026-13-01', 'sa2026', '2026-01-15T10:00Z', '2026-01-15T10:00:00', 'ne2026', '2026,2027']) refused('Observation', `date=${encodeURIComponent(v)}`, 'date');
  });
  it('parses a Patient BSN identifier and refuses one that fails the 11-check', () => {
    expect(parse('Patient', `identifier=${BSN_SYSTEM}|999990019`).identifier).toEqual({ system: BSN_SYSTEM, value: '999990019' });
    expect(parse('Patient', 'identifier=999990019').identifier).toEqual({ system: BSN_SYSTEM, value: '999990019' });
    refused('Patient', 'identifier=999990018', 'identifier');
    refused('Patient', 'identifier=urn:x|999990019', 'identifier');
    refused('Patient', 'identifier=999990019,123456782', 'identifier');
    expect(parse('Patient', '_id=a,b').ids).toEqual(['a', 'b']);
    refused('Patient', '_id=bad id', '_id');
  });
  it('parses a Specimen barcode as an identifier token and refuses malformed barcodes', () => {
    expect(parse('Specimen', 'identifier=TST0000001').tokens).toEqual([[{ param: 'identifier', value: 'TST0000001' }]]);
    expect(parse('Specimen', `identifier=${BARCODE_SYSTEM}|TST0000001`).tokens).toEqual([[{ param: 'identifier', system: BARCODE_SYSTEM, value: 'TST0000001' }]]);
    refused('Specimen', 'identifier=tst1', 'identifier');
    refused('Specimen', 'identifier=urn:x|TST0000001', 'identifier');
  });
  it('refuses empty values', () => {
    refused('Observation', 'status=', 'status');
  });
});
