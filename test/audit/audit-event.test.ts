import { describe, expect, it } from 'vitest';
import { createSealer, toAuditEvent, type AuditDraft } from '../../src/audit/index.js';
import { isLabkluisError, ManualClock } from '../../src/kernel/index.js';
import type { AuditRow } from '../../src/store/types.js';
import { countingRandom, draft, MAC_KEY } from './fixtures.js';

function seal(d: AuditDraft): AuditRow {
  const sealer = createSealer([draft(), d], { macKey: MAC_KEY, clock: new ManualClock('2026-03-01T10:00:00Z'), random: countingRandom() });
  return sealer({ size: 0, frontier: [], lastMac: null }).rows[1]!;
}

describe('toAuditEvent', () => {
  it('renders a patient read as a FHIR R4 AuditEvent', () => {
    const row = seal(draft());
    const e = toAuditEvent(row);
    expect(e).toMatchObject({
      resourceType: 'AuditEvent',
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }],
      action: 'R',
      recorded: '2026-03-01T10:00:00.000Z',
      outcome: '0',
      purposeOfEvent: [{ coding: [{ code: 'TREAT' }] }],
      source: { site: 'lab-rijswijk', observer: { display: 'node-a' } },
    });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.meta).toBeUndefined();
    const [requestor, org] = e.agent;
    expect(requestor).toMatchObject({
      requestor: true,
      who: { identifier: { value: 'p-analyst-07' }, display: 'analyst-07' },
      role: [{ coding: [{ code: 'analyst' }] }],
      purposeOfUse: [{ coding: [{ code: 'TREAT' }] }],
      network: { address: '192.0.2.10', type: '2' },
    });
    expect(org).toMatchObject({ requestor: false, who: { reference: 'Organization/lab-rijswijk' } });
    expect(e.entity).toEqual(expect.arrayContaining([
      expect.objectContaining({ what: { reference: 'Patient/k3x7q2m4n5p6r7s8t9u2v3w4x5' }, role: expect.objectContaining({ code: '1' }) }),
      expect.objectContaining({ what: { reference: 'Observation/obs-1/_history/2' } }),
      expect.objectContaining({ what: { identifier: { system: 'https://labkluis.nl/fhir/audit-log-seq', value: '1' } } }),
    ]));
  });

  it('shows break-glass as ETREAT plus the BTG security label, and outcomes as 4 / 8', () => {
    const btg = toAuditEvent(seal(draft({ purposeOfUse: 'ETREAT', emergency: true })));
    expect(btg.meta?.security).toEqual([expect.objectContaining({ code: 'BTG' })]);
    expect(btg.agent[0]!.purposeOfUse?.[0]?.coding?.[0]?.code).toBe('ETREAT');
    const denied = toAuditEvent(seal(draft({ outcome: 'denied', errorCode: 'ERR_FORBIDDEN' })));
    expect(denied).toMatchObject({ outcome: '4', outcomeDesc: 'ERR_FORBIDDEN' });
    expect(toAuditEvent(seal(draft({ outcome: 'failed', errorCode: 'ERR_STORE' }))).outcome).toBe('8');
  });

  it('renders a search with its blind-token query and a refusal without principal or patient', () => {
    const search = toAuditEvent(seal(draft({
      operation: 'search', patients: [], objects: [{ type: 'Observation', query: { code: ['bt_9f2c'] } }],
    })));
    expect(search.type).toMatchObject({ code: 'rest' });
    expect(search.subtype?.[0]?.code).toBe('search-type');
    const q = search.entity?.find((x) => x.query !== undefined);
    expect(Buffer.from(q!.query!, 'base64').toString()).toBe('{"code":["bt_9f2c"]}');
    const refused = toAuditEvent(seal(draft({
      principal: null, actingFor: null, operation: 'token-refused', outcome: 'denied', errorCode: 'ERR_UNAUTHENTICATED', patients: [], objects: [],
    })));
    expect(refused.agent).toHaveLength(1);
    expect(refused.subtype?.[0]).toEqual({ system: 'https://labkluis.nl/fhir/CodeSystem/audit-operation', code: 'token-refused' });
  });

  it('refuses a row whose leaf does not match', () => {
    const row = seal(draft());
    let err: unknown;
    try { toAuditEvent({ ...row, seq: 7 }); } catch (e) { err = e; }
    expect(isLabkluisError(err, 'ERR_INTEGRITY')).toBe(true);
  });
});
