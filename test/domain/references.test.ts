import { describe, expect, it } from 'vitest';
import { isLabkluisError } from '../../src/kernel/index.js';
import { listReferences, parseReference, referencedId, resolveBundleReferences, rewriteReferences } from '../../src/domain/index.js';
import { report, transaction, urn } from './fixtures.js';

describe('parseReference', () => {
  it('parses Type/id and urn:uuid, and nothing else', () => {
    expect(parseReference('Patient/abc-1.2')).toEqual({ kind: 'literal', type: 'Patient', id: 'abc-1.2' });
    expect(parseReference(urn(1))).toEqual({ kind: 'urn', urn: urn(1) });
    for (const bad of ['Patient', 'Patient/', '/1', 'http://x/Patient/1', 'Patient/1/_history/1', 'urn:uuid:not-a-uuid', 'urn:oid:1.2.3']) {
      expect(parseReference(bad), bad).toBeUndefined();
    }
    expect(referencedId('Patient/p1', 'Patient')).toBe('p1');
    expect(referencedId('Group/g1', 'Patient')).toBeUndefined();
  });
});

describe('listReferences', () => {
  it('finds every reference with its FHIRPath-like location', () => {
    const refs = listReferences(report());
    expect(refs.map((r) => [r.path, r.reference])).toEqual([
      ['DiagnosticReport.subject', 'Patient/pseudo-1'],
      ['DiagnosticReport.basedOn[0]', 'ServiceRequest/sr-1'],
      ['DiagnosticReport.specimen[0]', 'Specimen/sp-1'],
      ['DiagnosticReport.result[0]', 'Observation/obs-1'],
    ]);
    expect(refs[3]!.segments).toEqual(['result', 0]);
  });
});

describe('rewriteReferences', () => {
  it('rewrites in place from a map or a function and counts the changes', () => {
    const r = report();
    const n = rewriteReferences(r, new Map([['Patient/pseudo-1', 'Patient/p2'], ['Observation/obs-1', 'Observation/o2']]));
    expect(n).toBe(2);
    expect(r.subject.reference).toBe('Patient/p2');
    expect(r.result[0].reference).toBe('Observation/o2');
    expect(r.specimen[0].reference).toBe('Specimen/sp-1');
    expect(rewriteReferences(r, (ref) => (ref.startsWith('Specimen/') ? 'Specimen/s9' : undefined))).toBe(1);
    expect(r.specimen[0].reference).toBe('Specimen/s9');
  });
});

describe('resolveBundleReferences', () => {
  it('turns urn:uuid references into server-assigned ids without changing the bundle', () => {
    const b = transaction();
    const assigned = new Map<string, string>(b.entry.map((e: { fullUrl: string; resource: { resourceType: string } }, i: number) => [e.fullUrl, `${e.resource.resourceType}/id${i}`]));
    const resolved = resolveBundleReferences(b, assigned) as Record<string, any>[];
    expect(resolved[4]!.result[0].reference).toBe('Observation/id3');
    expect(resolved[3]!.subject.reference).toBe('Patient/id0');
    expect(b.entry[4].resource.result[0].reference).toBe(urn(4));
    for (const r of resolved) for (const ref of listReferences(r)) expect(ref.reference.startsWith('urn:')).toBe(false);
  });
  it('refuses a urn:uuid it cannot resolve, naming where', () => {
    const b = transaction();
    try {
      resolveBundleReferences(b, new Map([[urn(1), 'Patient/p']]));
      expect.unreachable();
    } catch (e) {
      expect(isLabkluisError(e, 'ERR_INVALID_RESOURCE')).toBe(true);
      expect((e as { issues: { expression: string }[] }).issues.map((i) => i.expression)).toContain('Bundle.entry[4].resource.result[0].reference');
    }
  });
});
