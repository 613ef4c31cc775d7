/**
 * The RFC 5424 format as the RFC writes it: its own examples (§6.5) byte for byte, the
 * SD-PARAM escaping of §6.3.3, the header limits of §6, and the octet-counting frame of
 * RFC 6587 §3.4.1.
 */
import { describe, expect, it } from 'vitest';
import {
  escapeParamValue, formatSyslogMessage, octetCountingFrame, SYSLOG_FACILITIES, SYSLOG_SEVERITIES, type SyslogFields,
} from '../../../src/sentinel/delivery/index.js';
import { parseSd } from './syslog-reader.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** The RFC writes the BOM as the three letters "BOM". */
const rfcBytes = (text: string): Buffer => {
  const [before, after] = text.split('BOM');
  return after === undefined ? Buffer.from(text, 'utf8') : Buffer.concat([Buffer.from(before!, 'utf8'), BOM, Buffer.from(after, 'utf8')]);
};
const bytes = (f: SyslogFields) => Buffer.from(formatSyslogMessage(f), 'utf8');

describe('RFC 5424 §6.5 examples', () => {
  it('example 1: no structured data, MSG-UTF8 with a BOM', () => {
    // <34>: facility 4 (auth), severity 2 (critical).
    const out = bytes({
      facility: SYSLOG_FACILITIES.auth, severity: SYSLOG_SEVERITIES.critical, timestamp: new Date('2003-10-11T22:14:15.003Z'),
      hostname: 'mymachine.example.com', appName: 'su', procId: null, msgId: 'ID47', structuredData: [],
      msg: "'su root' failed for lonvick on /dev/pts/8",
    });
    expect(out.equals(rfcBytes("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed for lonvick on /dev/pts/8"))).toBe(true);
  });

  it('example 3: structured data and a message', () => {
    // <165>: facility 20 (local4), severity 5 (notice).
    const out = bytes({
      facility: SYSLOG_FACILITIES.local4, severity: SYSLOG_SEVERITIES.notice, timestamp: new Date('2003-10-11T22:14:15.003Z'),
      hostname: 'mymachine.example.com', appName: 'evntslog', procId: null, msgId: 'ID47',
      structuredData: [{ id: 'exampleSDID@32473', params: [['iut', '3'], ['eventSource', 'Application'], ['eventID', '1011']] }],
      msg: 'An application event log entry...',
    });
    expect(out.equals(rfcBytes('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] BOMAn application event log entry...'))).toBe(true);
  });

  it('example 4: two SD-ELEMENTs and no MSG at all', () => {
    const out = formatSyslogMessage({
      facility: 20, severity: 5, timestamp: new Date('2003-10-11T22:14:15.003Z'),
      hostname: 'mymachine.example.com', appName: 'evntslog', procId: null, msgId: 'ID47',
      structuredData: [
        { id: 'exampleSDID@32473', params: [['iut', '3'], ['eventSource', 'Application'], ['eventID', '1011']] },
        { id: 'examplePriority@32473', params: [['class', 'high']] },
      ],
    });
    expect(out).toBe('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]');
  });

  it('§7.2.5 / §6.3.3: an IANA-registered SD-ID without "@", and a PARAM-NAME repeated', () => {
    const out = formatSyslogMessage({
      facility: 10, severity: 6, timestamp: null, hostname: null, appName: null, procId: null, msgId: null,
      structuredData: [{ id: 'origin', params: [['ip', '192.0.2.1'], ['ip', '192.0.2.129']] }],
    });
    expect(out).toBe('<86>1 - - - - - [origin ip="192.0.2.1" ip="192.0.2.129"]');
  });

  it('all NILVALUEs: no structured data is "-" and no MSG means nothing after it', () => {
    expect(formatSyslogMessage({ facility: 0, severity: 0, timestamp: null, hostname: null, appName: null, procId: null, msgId: null, structuredData: [] }))
      .toBe('<0>1 - - - - - -');
  });
});

describe('PRI (§6.2.1): facility × 8 + severity', () => {
  it('authpriv (10) gives 80 to 87; local7 debug is the largest, 191', () => {
    const pri = (facility: number, severity: number) => /^<(\d+)>1 /.exec(formatSyslogMessage({
      facility, severity, timestamp: null, hostname: null, appName: null, procId: null, msgId: null, structuredData: [],
    }))![1];
    expect(SYSLOG_FACILITIES.authpriv).toBe(10);
    expect(pri(10, 2)).toBe('82');
    expect(pri(10, 5)).toBe('85');
    expect(pri(23, 7)).toBe('191');
  });

  it('refuses a facility or severity outside the tables', () => {
    const base = { timestamp: null, hostname: null, appName: null, procId: null, msgId: null, structuredData: [] };
    expect(() => formatSyslogMessage({ ...base, facility: 24, severity: 0 })).toThrow(TypeError);
    expect(() => formatSyslogMessage({ ...base, facility: 0, severity: 8 })).toThrow(TypeError);
    expect(() => formatSyslogMessage({ ...base, facility: 1.5, severity: 0 })).toThrow(TypeError);
  });
});

describe('SD-PARAM escaping (§6.3.3)', () => {
  it('escapes exactly \'"\', \'\\\' and \']\', with a backslash each', () => {
    expect(escapeParamValue('a"b')).toBe('a\\"b');
    expect(escapeParamValue('a\\b')).toBe('a\\\\b');
    expect(escapeParamValue('a]b')).toBe('a\\]b');
    expect(escapeParamValue('"\\]')).toBe('\\"\\\\\\]');
    // '[' , '=' and spaces need no escaping inside a quoted value; UTF-8 passes as it is.
    expect(escapeParamValue('[x = y] é')).toBe('[x = y\\] é');
  });

  it('a hostile value cannot close the element or add a parameter', () => {
    const out = formatSyslogMessage({
      facility: 10, severity: 2, timestamp: null, hostname: null, appName: null, procId: null, msgId: null,
      structuredData: [{ id: 'x@32473', params: [['v', 'a" evil="1"] [fake@1 k="v']] }],
    });
    expect(out).toBe('<82>1 - - - - - [x@32473 v="a\\" evil=\\"1\\"\\] [fake@1 k=\\"v"]');
    expect(parseSd(out.slice('<82>1 - - - - - '.length))).toEqual([{ id: 'x@32473', params: [['v', 'a" evil="1"] [fake@1 k="v']] }]);
  });

  it('refuses SD-IDs and PARAM-NAMEs outside SD-NAME (1*32 printable, no =, space, ], ")', () => {
    const sd = (id: string, name = 'k') => () => formatSyslogMessage({
      facility: 10, severity: 2, timestamp: null, hostname: null, appName: null, procId: null, msgId: null,
      structuredData: [{ id, params: [[name, 'v']] }],
    });
    expect(sd('a'.repeat(32))).not.toThrow();
    for (const bad of ['', 'a'.repeat(33), 'a b', 'a=b', 'a]b', 'a"b', 'é', 'x@', 'x@pen', 'a@1@2']) expect(sd(bad), bad).toThrow(TypeError);
    for (const bad of ['', 'a b', 'a=b', 'a]b', 'a"b', 'n'.repeat(33)]) expect(sd('x@32473', bad), bad).toThrow(TypeError);
  });
});

describe('header fields (§6)', () => {
  const base = { facility: 10, severity: 2, timestamp: null, hostname: null, appName: null, procId: null, msgId: null, structuredData: [] } as const;
  it('MSGID is at most 32 printable US-ASCII characters; HOSTNAME 255, APP-NAME 48, PROCID 128', () => {
    expect(formatSyslogMessage({ ...base, msgId: 'm'.repeat(32) })).toContain(` ${'m'.repeat(32)} -`);
    expect(() => formatSyslogMessage({ ...base, msgId: 'm'.repeat(33) })).toThrow(TypeError);
    expect(() => formatSyslogMessage({ ...base, msgId: 'has space' })).toThrow(TypeError);
    expect(() => formatSyslogMessage({ ...base, msgId: 'é' })).toThrow(TypeError);
    expect(() => formatSyslogMessage({ ...base, hostname: 'h'.repeat(256) })).toThrow(TypeError);
    expect(() => formatSyslogMessage({ ...base, appName: 'a'.repeat(49) })).toThrow(TypeError);
    expect(() => formatSyslogMessage({ ...base, procId: 'p'.repeat(129) })).toThrow(TypeError);
    expect(() => formatSyslogMessage({ ...base, hostname: '' })).toThrow(TypeError);
  });

  it('TIMESTAMP is RFC 3339 in UTC with milliseconds (§6.2.3)', () => {
    const out = formatSyslogMessage({ ...base, timestamp: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)) });
    expect(out).toBe('<82>1 2026-01-02T03:04:05.006Z - - - - -');
  });
});

describe('octet-counting frame (RFC 6587 §3.4.1)', () => {
  it('MSG-LEN counts octets, not characters: the BOM and "é" are 3 and 2', () => {
    const msg = formatSyslogMessage({ facility: 10, severity: 2, timestamp: null, hostname: null, appName: null, procId: null, msgId: null, structuredData: [], msg: 'é' });
    const prefix = '<82>1 - - - - - - '; // HEADER, SP, STRUCTURED-DATA "-", SP
    expect(msg).toBe(`${prefix}\uFEFFé`);
    expect(msg).toHaveLength(prefix.length + 2);
    const frame = octetCountingFrame(msg);
    const octets = Buffer.byteLength(msg, 'utf8');
    expect(octets).toBe(prefix.length + 3 + 2);
    expect(frame.subarray(0, `${octets} `.length).toString('ascii')).toBe(`${octets} `);
    expect(frame.subarray(`${octets} `.length).equals(Buffer.from(msg, 'utf8'))).toBe(true);
  });
});
