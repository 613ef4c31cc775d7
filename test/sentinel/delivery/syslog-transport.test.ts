/**
 * Syslog against real local collectors: one message per UDP datagram (RFC 5426), octet-counted
 * frames over TCP (RFC 6587 §3.4.1) and over TLS with the collector's certificate checked
 * (RFC 5425); failures by machine reason.
 */
import { lookup } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/kernel/index.js';
import {
  DeliveryFailure, parseAlertDeliveryConfig, renderSyslogMessage, SyslogTransport, type AlertDeliveryConfigInput,
} from '../../../src/sentinel/delivery/index.js';
import { alert } from './alert-fixture.js';
import { closedPort, startSilentListener, startTcpCollector, startTlsCollector, startUdpCollector, type Collector, type TlsCollector } from './listeners.js';
import { parseSyslog, splitOctetCounted } from './syslog-reader.js';

const clock = new ManualClock('2026-05-06T07:08:09.010Z');
type SyslogInput = NonNullable<AlertDeliveryConfigInput['syslog']>;
const transport = (syslog: SyslogInput) => new SyslogTransport({ config: parseAlertDeliveryConfig({ syslog }).syslog! });
const message = () => renderSyslogMessage(alert(), { facility: 10, at: clock.now(), hostname: 'vault-1.lab.example', procId: '77' });
const failureOf = async (p: Promise<unknown>) => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(DeliveryFailure);
  return (e as DeliveryFailure).reason;
};

describe('syslog over UDP (RFC 5426)', () => {
  let udp: Collector;
  beforeAll(async () => {
    udp = await startUdpCollector();
  });
  afterAll(() => udp.close());

  it('sends exactly one message per datagram: no frame, no trailing newline', async () => {
    const a = message();
    const b = message();
    const t = transport({ host: '127.0.0.1', port: udp.port, transport: 'udp' });
    await t.send({ id: 'd1', payload: a });
    await t.send({ id: 'd2', payload: b });
    const [first, second] = await udp.waitFor(2);
    expect(first!.equals(Buffer.from(a, 'utf8'))).toBe(true);
    expect(second!.equals(Buffer.from(b, 'utf8'))).toBe(true);
    const m = parseSyslog(first!);
    expect(m).toMatchObject({ pri: 82, version: 1, appName: 'labkluis', msgId: 'sentinel:canary', bom: true });
    await t.close();
  });

  it('resolves a host name: "localhost" reaches a collector on the address it resolves to', async () => {
    const { address } = await lookup('localhost');
    const local = await startUdpCollector(address);
    try {
      await transport({ host: 'localhost', port: local.port, transport: 'udp' }).send({ id: 'd3', payload: message() });
      expect(parseSyslog((await local.waitFor(1))[0]!).appName).toBe('labkluis');
    } finally {
      await local.close();
    }
  });

  it('refuses a message larger than a UDP datagram can carry: "too-large"', async () => {
    const huge = `<82>1 - - - - - - ${'x'.repeat(70_000)}`;
    expect(await failureOf(transport({ host: '127.0.0.1', port: udp.port, transport: 'udp' }).send({ id: 'd4', payload: huge }))).toBe('too-large');
  });

  it('an unknown host: "dns"', async () => {
    expect(await failureOf(transport({ host: 'collector.invalid', port: 514, transport: 'udp' }).send({ id: 'd5', payload: message() }))).toBe('dns');
  });
});

describe('syslog over TCP with octet counting (RFC 6587 §3.4.1)', () => {
  let tcp: Collector;
  beforeAll(async () => {
    tcp = await startTcpCollector();
  });
  afterAll(() => tcp.close());

  it('sends one frame "MSG-LEN SP SYSLOG-MSG", MSG-LEN in octets, and closes', async () => {
    const m = message();
    await transport({ host: '127.0.0.1', port: tcp.port, transport: 'tcp' }).send({ id: 'd1', payload: m });
    const [stream] = await tcp.waitFor(1);
    const frames = splitOctetCounted(stream!);
    expect(frames).toHaveLength(1);
    expect(stream!.toString('utf8').startsWith(`${Buffer.byteLength(m, 'utf8')} <82>1 `)).toBe(true);
    expect(frames[0]!.equals(Buffer.from(m, 'utf8'))).toBe(true);
    expect(parseSyslog(frames[0]!).structuredData[0]!.id).toBe('labkluis@32473');
  });

  it('is transparent: a newline and multi-byte characters inside a message survive the frame', async () => {
    const m = '<82>1 - - - - - - \uFEFFline one\nline two — é';
    await transport({ host: '127.0.0.1', port: tcp.port, transport: 'tcp' }).send({ id: 'd2', payload: m });
    const streams = await tcp.waitFor(2);
    expect(splitOctetCounted(streams[1]!).map((f) => f.toString('utf8'))).toEqual([m]);
  });

  it('nobody listening: "connection-refused"', async () => {
    expect(await failureOf(transport({ host: '127.0.0.1', port: await closedPort(), transport: 'tcp' }).send({ id: 'd3', payload: message() }))).toBe('connection-refused');
  });
});

describe('syslog over TLS (RFC 5425)', () => {
  let tls: TlsCollector;
  let silent: Collector;
  let otherCa: string;
  beforeAll(async () => {
    tls = await startTlsCollector();
    silent = await startSilentListener();
    const other = await startTlsCollector();
    otherCa = other.ca;
    await other.close();
  });
  afterAll(async () => {
    await tls.close();
    await silent.close();
  });

  it('sends an octet-counted frame to a collector whose certificate the configured CA signs', async () => {
    const m = message();
    await transport({ host: '127.0.0.1', port: tls.port, transport: 'tls', ca: tls.ca }).send({ id: 'd1', payload: m });
    const [stream] = await tls.waitFor(1);
    expect(splitOctetCounted(stream!).map((f) => f.toString('utf8'))).toEqual([m]);
  });

  it('checks the name: the certificate names localhost, so "localhost" passes; refused without the CA: "tls"', async () => {
    const { address } = await lookup('localhost');
    const local = await startTlsCollector(address);
    try {
      await transport({ host: 'localhost', port: local.port, transport: 'tls', ca: local.ca }).send({ id: 'd2', payload: message() });
      expect(await local.waitFor(1)).toHaveLength(1);
    } finally {
      await local.close();
    }
    expect(await failureOf(transport({ host: '127.0.0.1', port: tls.port, transport: 'tls' }).send({ id: 'd3', payload: message() }))).toBe('tls');
    // Another collector's certificate is not this one's CA.
    expect(await failureOf(transport({ host: '127.0.0.1', port: tls.port, transport: 'tls', ca: otherCa }).send({ id: 'd3', payload: message() }))).toBe('tls');
  });

  it('a listener that never completes the handshake: "timeout"', async () => {
    const started = Date.now();
    expect(await failureOf(transport({ host: '127.0.0.1', port: silent.port, transport: 'tls', ca: tls.ca, timeoutMs: 300 }).send({ id: 'd4', payload: message() }))).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
