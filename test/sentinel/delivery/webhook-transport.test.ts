/**
 * The webhook against a real local HTTP server: a signed POST the receiver can verify, the
 * delivery id for de-duplication, and failures by machine reason (an error status, a redirect
 * that is not followed, a timeout, nobody listening).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/kernel/index.js';
import {
  DeliveryFailure, parseAlertDeliveryConfig, renderWebhookBody, signWebhook, verifyWebhookSignature, WebhookTransport,
} from '../../../src/sentinel/delivery/index.js';
import { alert } from './alert-fixture.js';
import { closedPort, startWebhookServer, type WebhookServer } from './listeners.js';

const SECRET = 'whsec-0123456789abcdef0123456789abcdef';
const clock = new ManualClock('2026-05-06T07:08:09.000Z');
const transportTo = (url: string, timeoutMs = 2_000) =>
  new WebhookTransport({ config: parseAlertDeliveryConfig({ webhook: { url, secret: SECRET, timeoutMs } }).webhook!, clock });
const failureOf = async (p: Promise<unknown>) => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(DeliveryFailure);
  return (e as DeliveryFailure).reason;
};

describe('webhook transport', () => {
  let server: WebhookServer;
  beforeAll(async () => {
    server = await startWebhookServer();
  });
  afterAll(() => server.close());

  it('POSTs the body as JSON with a signature the receiver verifies over timestamp and body', async () => {
    const body = renderWebhookBody(alert());
    await transportTo(server.url).send({ id: 'dlv-1', payload: body });
    const req = server.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hooks/labkluis');
    expect(req.body).toBe(body);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-labkluis-delivery']).toBe('dlv-1');
    const sig = req.headers['x-labkluis-signature'] as string;
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(sig.startsWith(`t=${Math.floor(clock.now().getTime() / 1000)},`)).toBe(true);
    expect(verifyWebhookSignature({ header: sig, body: req.body, secret: SECRET, clock })).toBe(true);
  });

  it('a signature does not verify with another secret, another body, or after five minutes', async () => {
    const body = renderWebhookBody(alert());
    const sig = signWebhook(SECRET, body, clock.now());
    expect(verifyWebhookSignature({ header: sig, body, secret: `${SECRET}x`, clock })).toBe(false);
    expect(verifyWebhookSignature({ header: sig, body: body.replace('critical', 'low'), secret: SECRET, clock })).toBe(false);
    const later = new ManualClock(clock.now());
    later.advance(301_000);
    expect(verifyWebhookSignature({ header: sig, body, secret: SECRET, clock: later })).toBe(false);
    later.advance(-2_000);
    expect(verifyWebhookSignature({ header: sig, body, secret: SECRET, clock: later })).toBe(true);
    for (const bad of [undefined, '', 'v1=abc', sig.replace(/^t=\d+/, 't=1'), `${sig},x=1=2`]) {
      expect(verifyWebhookSignature({ header: bad, body, secret: SECRET, clock }), String(bad)).toBe(false);
    }
  });

  it('HMAC-SHA256 over "<t>.<body>", as documented', async () => {
    const { createHmac } = await import('node:crypto');
    const at = new Date('2026-05-06T07:08:09.999Z');
    const expected = createHmac('sha256', SECRET).update('1778051289.{"a":1}').digest('hex');
    expect(signWebhook(SECRET, '{"a":1}', at)).toBe(`t=1778051289,v1=${expected}`);
  });

  it('a 500 is a failure "http-500"', async () => {
    server.answers = [{ status: 500 }];
    expect(await failureOf(transportTo(server.url).send({ id: 'dlv-2', payload: '{}' }))).toBe('http-500');
  });

  it('does not follow a redirect: "http-302", and the other location never hears of the alert', async () => {
    const elsewhere = await startWebhookServer();
    try {
      server.answers = [{ status: 302, headers: { location: elsewhere.url } }];
      expect(await failureOf(transportTo(server.url).send({ id: 'dlv-3', payload: '{}' }))).toBe('http-302');
      server.answers = [{ status: 307, headers: { location: elsewhere.url } }];
      expect(await failureOf(transportTo(server.url).send({ id: 'dlv-3', payload: '{}' }))).toBe('http-307');
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('gives up after the timeout: "timeout"', async () => {
    server.answers = ['hang'];
    const started = Date.now();
    expect(await failureOf(transportTo(server.url, 300).send({ id: 'dlv-4', payload: '{}' }))).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('nobody listening: "connection-refused"', async () => {
    const port = await closedPort();
    expect(await failureOf(transportTo(`http://127.0.0.1:${port}/x`).send({ id: 'dlv-5', payload: '{}' }))).toBe('connection-refused');
  });
});
