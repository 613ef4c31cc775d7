/**
 * What an alert looks like on the wire: the webhook's JSON and the RFC 5424 message, with ids
 * only (whatever else the caller's object holds stays home), MSGID within 32 characters, the
 * SD-ID labkluis@32473 and the summary as MSG-UTF8.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/kernel/index.js';
import { renderSyslogMessage, renderWebhookBody, SD_ID, type DeliverableAlert } from '../../../src/sentinel/delivery/index.js';
import { alert } from './alert-fixture.js';
import { parseSyslog } from './syslog-reader.js';

const clock = new ManualClock('2026-03-04T05:06:08.123Z');
const syslogOf = (a: DeliverableAlert, o: Partial<Parameters<typeof renderSyslogMessage>[1]> = {}) =>
  parseSyslog(Buffer.from(renderSyslogMessage(a, { facility: 10, at: clock.now(), hostname: 'vault-1.lab.example', procId: '4242', ...o }), 'utf8'));

/** An alert object carrying more than the delivery type has: what a careless caller might pass. */
const leaky = (a: DeliverableAlert) => ({
  ...a, displayName: 'Jan Jansen', bsn: '999990019', birthDate: '1970-01-01', note: 'patient called about HIV result', reason: Buffer.from('sealed'),
}) as DeliverableAlert;

describe('webhook body', () => {
  it('is exactly the alert\'s ids, times, severity, summary and evidence, in a fixed order', () => {
    const a = alert();
    expect(JSON.parse(renderWebhookBody(a))).toEqual({
      format: 'labkluis-alert/1', id: a.id, kind: a.kind, severity: 'critical', principalId: a.principalId, tenant: a.tenant,
      subject: a.subject, createdAt: a.createdAt, summary: a.summary, evidence: [41, 42],
    });
    expect(Object.keys(JSON.parse(renderWebhookBody(a)))).toEqual(['format', 'id', 'kind', 'severity', 'principalId', 'tenant', 'subject', 'createdAt', 'summary', 'evidence']);
  });

  it('renders no personal data fields beyond ids, whatever the caller passes along', () => {
    const body = renderWebhookBody(leaky(alert()));
    for (const s of ['Jan Jansen', '999990019', '1970-01-01', 'HIV', 'displayName', 'bsn', 'note', 'reason']) expect(body).not.toContain(s);
  });

  it('keeps nulls as nulls (an alert about no one principal or tenant)', () => {
    const body = JSON.parse(renderWebhookBody(alert({ principalId: null, tenant: null, subject: null, evidence: [] })));
    expect(body).toMatchObject({ principalId: null, tenant: null, subject: null, evidence: [] });
  });

  it('refuses a malformed alert as a programming error', () => {
    expect(() => renderWebhookBody(alert({ id: '' }))).toThrow(TypeError);
    expect(() => renderWebhookBody(alert({ evidence: [-1] }))).toThrow(TypeError);
    expect(() => renderWebhookBody(alert({ severity: 'urgent' as never }))).toThrow(TypeError);
    expect(() => renderWebhookBody(alert({ createdAt: 'yesterday' }))).toThrow(TypeError);
  });
});

describe('syslog message', () => {
  it('has PRI authpriv/critical, VERSION 1, the clock\'s time, HOSTNAME, APP-NAME labkluis, PROCID, MSGID = kind', () => {
    const a = alert();
    const m = syslogOf(a);
    expect(m).toMatchObject({
      pri: 82, facility: 10, severity: 2, version: 1, timestamp: '2026-03-04T05:06:08.123Z', hostname: 'vault-1.lab.example', appName: 'labkluis',
      procId: '4242', msgId: 'sentinel:canary', bom: true, msg: 'canary patient touched; access contained',
    });
  });

  it('maps severities critical, high, medium, low to 2, 3, 4, 5 and uses the configured facility', () => {
    expect(['critical', 'high', 'medium', 'low'].map((severity) => syslogOf(alert({ severity: severity as DeliverableAlert['severity'] })).severity)).toEqual([2, 3, 4, 5]);
    expect(syslogOf(alert({ severity: 'low' }), { facility: 16 }).pri).toBe(16 * 8 + 5);
  });

  it('carries id, kind, principal, tenant and evidence in one labkluis@32473 element, and not the subject', () => {
    const a = alert();
    expect(SD_ID).toBe('labkluis@32473');
    expect(syslogOf(a).structuredData).toEqual([{
      id: 'labkluis@32473',
      params: [['id', a.id], ['kind', a.kind], ['principal', a.principalId], ['tenant', a.tenant], ['evidence', '41,42'], ['evidenceCount', '2']],
    }]);
    expect(renderSyslogMessage(a, { facility: 10, at: clock.now(), hostname: null, procId: null })).not.toContain(a.subject!);
  });

  it('leaves out absent principal, tenant and evidence rather than sending empty values', () => {
    const m = syslogOf(alert({ principalId: null, tenant: null, evidence: [] }));
    expect(m.structuredData[0]!.params.map(([k]) => k)).toEqual(['id', 'kind']);
  });

  it('lists at most 32 evidence indices, with the full count', () => {
    const evidence = Array.from({ length: 40 }, (_, i) => 1000 + i);
    const params = new Map(syslogOf(alert({ evidence })).structuredData[0]!.params);
    expect(params.get('evidence')!.split(',')).toHaveLength(32);
    expect(params.get('evidenceCount')).toBe('40');
  });

  it('MSGID is cut to 32 printable US-ASCII characters; the whole kind stays in the structured data', () => {
    const kind = 'sentinel:budget-patients-86400s-tenant-wide';
    expect(kind.length).toBeGreaterThan(32);
    const m = syslogOf(alert({ kind }));
    expect(m.msgId).toBe(kind.slice(0, 32));
    expect(new Map(m.structuredData[0]!.params).get('kind')).toBe(kind);
    const odd = syslogOf(alert({ kind: 'bad kind\twith é' }));
    expect(odd.msgId).toBe('bad_kind_with__');
    expect(odd.msgId).toMatch(/^[\x21-\x7e]{1,32}$/);
  });

  it('escapes hostile values so that a collector reads back exactly what was meant', () => {
    const a = alert({ tenant: 'org"] [evil@1 x="y', kind: 'k\\]' });
    const params = new Map(syslogOf(a).structuredData[0]!.params);
    expect(params.get('tenant')).toBe('org"] [evil@1 x="y');
    expect(params.get('kind')).toBe('k\\]');
    expect(syslogOf(a).structuredData).toHaveLength(1);
  });

  it('turns control characters into spaces: one alert is one line in a collector\'s file', () => {
    const m = renderSyslogMessage(alert({ summary: 'line one\n<86>1 2026-01-01T00:00:00Z forged - - - - fake\r\u2028x' }), { facility: 10, at: clock.now(), hostname: 'h', procId: '1' });
    expect(m).not.toMatch(/[\n\r\u2028]/);
    expect(renderWebhookBody(alert({ summary: 'a\nb' }))).toContain('"summary":"a b"');
  });

  it('renders no personal data fields beyond ids', () => {
    const m = renderSyslogMessage(leaky(alert()), { facility: 10, at: clock.now(), hostname: 'h', procId: '1' });
    for (const s of ['Jan Jansen', '999990019', '1970-01-01', 'HIV', 'bsn']) expect(m).not.toContain(s);
  });

  it('sanitises a host name that does not fit HOSTNAME, and null gives the NILVALUE', () => {
    expect(syslogOf(alert(), { hostname: 'my host' }).hostname).toBe('my_host');
    expect(syslogOf(alert(), { hostname: null, procId: null })).toMatchObject({ hostname: '-', procId: '-' });
  });
});
