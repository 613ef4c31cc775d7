/**
 * The outbox on both real stores (SQLite and PostgreSQL), sending to real local listeners:
 * one row per channel, delivered or failed with back-off and retried, a failing channel that
 * does not hold up the other, logs without payloads, and the timer loop.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, systemRandom } from '../../../src/kernel/index.js';
import {
  AlertDelivery, backoffDelayMs, DEFAULT_BACKOFF, verifyWebhookSignature, type AlertDeliveryConfigInput, type DeliveryLogger,
} from '../../../src/sentinel/delivery/index.js';
import type { DeliveryRow, SentinelStore } from '../../../src/store/index.js';
import { createStoreEnv, type StoreEnv } from '../../support/store-env.js';
import { BACKENDS } from '../../support/vault-fixture.js';
import { alert } from './alert-fixture.js';
import { startTcpCollector, startUdpCollector, startWebhookServer, type Collector, type WebhookServer } from './listeners.js';
import { parseSyslog, splitOctetCounted } from './syslog-reader.js';

const SECRET = 'whsec-0123456789abcdef0123456789abcdef';
const FAR_FUTURE = '2100-01-01T00:00:00.000Z';

interface LogLine { level: 'info' | 'warn'; fields: Record<string, unknown>; message: string }
const recordingLogger = (lines: LogLine[]): DeliveryLogger => ({
  info: (fields, message) => lines.push({ level: 'info', fields, message }),
  warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
});

describe('backoffDelayMs', () => {
  it('waits 30 s after the first failure, doubling to at most an hour', () => {
    expect(DEFAULT_BACKOFF).toEqual({ firstMs: 30_000, maxMs: 3_600_000 });
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 10_000].map((n) => backoffDelayMs(n) / 1000)).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]);
    expect(() => backoffDelayMs(0)).toThrow(TypeError);
    expect(backoffDelayMs(3, { firstMs: 1000, maxMs: 5000 })).toBe(4000);
  });
});

describe.each(BACKENDS)('alert delivery outbox (%s)', (backend) => {
  let env: StoreEnv;
  let store: SentinelStore;
  let clock: ManualClock;
  let hook: WebhookServer;
  let udp: Collector;
  let tcp: Collector;
  let logs: LogLine[];
  let workers: AlertDelivery[];

  beforeEach(async () => {
    clock = new ManualClock('2026-07-08T09:10:11.000Z');
    env = await createStoreEnv(backend, clock); // a fresh store each: the outbox is global, not per tenant
    store = env.store.sentinel;
    [hook, udp, tcp] = await Promise.all([startWebhookServer(), startUdpCollector(), startTcpCollector()]);
    logs = [];
    workers = [];
  }, 60_000);
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all([hook.close(), udp.close(), tcp.close()]);
    await env.cleanup();
  });

  const worker = (config: AlertDeliveryConfigInput, extra: { intervalMs?: number } = {}) => {
    const w = new AlertDelivery({ store, config, clock, random: systemRandom, logger: recordingLogger(logs), hostname: 'vault-1.lab.example', procId: '4242', ...extra });
    workers.push(w);
    return w;
  };
  const webhook = (timeoutMs = 2_000) => ({ url: hook.url, secret: SECRET, timeoutMs });
  const udpSyslog = () => ({ host: '127.0.0.1', port: udp.port, transport: 'udp' as const });
  /** Every undelivered row, due or not. */
  const pending = (): Promise<DeliveryRow[]> => store.dueDeliveries(FAR_FUTURE, 100);
  const due = (): Promise<DeliveryRow[]> => store.dueDeliveries(clock.now().toISOString(), 100);
  const plus = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();

  it('enqueue writes one rendered row per configured channel, due now; runDue delivers both', async () => {
    const w = worker({ webhook: webhook(), syslog: udpSyslog() });
    expect(w.channels).toEqual(['webhook', 'syslog']);
    const a = alert();
    const ids = await w.enqueue(a);
    expect(ids).toHaveLength(2);

    const rows = await due();
    expect(rows.map((r) => [r.id, r.alertId, r.channel, r.attempts, r.nextAttemptAt, r.createdAt, r.deliveredAt, r.lastError]).sort()).toEqual([
      [ids[0], a.id, 'webhook', 0, clock.now().toISOString(), clock.now().toISOString(), null, null],
      [ids[1], a.id, 'syslog', 0, clock.now().toISOString(), clock.now().toISOString(), null, null],
    ].sort());
    const webhookRow = rows.find((r) => r.channel === 'webhook')!;
    const syslogRow = rows.find((r) => r.channel === 'syslog')!;
    expect(JSON.parse(webhookRow.payload)).toMatchObject({ format: 'labkluis-alert/1', id: a.id, kind: a.kind });
    expect(parseSyslog(Buffer.from(syslogRow.payload, 'utf8'))).toMatchObject({ pri: 82, timestamp: clock.now().toISOString(), hostname: 'vault-1.lab.example', procId: '4242' });

    expect(await w.runDue()).toEqual({ delivered: 2, failed: 0, deferred: 0 });
    const req = hook.requests[0]!;
    expect(req.body).toBe(webhookRow.payload);
    expect(req.headers['x-labkluis-delivery']).toBe(webhookRow.id);
    expect(verifyWebhookSignature({ header: req.headers['x-labkluis-signature'] as string, body: req.body, secret: SECRET, clock })).toBe(true);
    const [datagram] = await udp.waitFor(1);
    expect(datagram!.toString('utf8')).toBe(syslogRow.payload);
    expect(await pending()).toEqual([]);
    expect(await w.runDue()).toEqual({ delivered: 0, failed: 0, deferred: 0 });
    expect(hook.requests).toHaveLength(1);
  });

  it('sends only to the channels configured: syslog alone, over TCP with octet counting; none at all writes nothing', async () => {
    const w = worker({ syslog: { host: '127.0.0.1', port: tcp.port, transport: 'tcp', facility: 'local0' } });
    expect(await w.enqueue(alert({ severity: 'medium' }))).toHaveLength(1);
    expect(await w.runDue()).toEqual({ delivered: 1, failed: 0, deferred: 0 });
    const [stream] = await tcp.waitFor(1);
    const [frame] = splitOctetCounted(stream!);
    expect(parseSyslog(frame!)).toMatchObject({ facility: 16, severity: 4 });
    expect(hook.requests).toHaveLength(0);

    const none = worker({});
    expect(none.channels).toEqual([]);
    expect(await none.enqueue(alert())).toEqual([]);
    expect(await pending()).toEqual([]);
  });

  it('a 500 marks the row failed with back-off (30 s, then 60 s) and it is retried later, the same bytes each time', async () => {
    hook.answers = [{ status: 500 }, { status: 503 }];
    const w = worker({ webhook: webhook() });
    const [id] = await w.enqueue(alert());
    const t0 = clock.now().getTime();

    expect(await w.runDue()).toEqual({ delivered: 0, failed: 1, deferred: 0 });
    expect(await pending()).toMatchObject([{ id, attempts: 1, lastError: 'http-500', nextAttemptAt: plus(30_000), deliveredAt: null }]);
    clock.advance(29_999);
    expect(await due()).toEqual([]);
    expect(await w.runDue()).toEqual({ delivered: 0, failed: 0, deferred: 0 });
    expect(hook.requests).toHaveLength(1);

    clock.advance(1);
    expect(await w.runDue()).toEqual({ delivered: 0, failed: 1, deferred: 0 });
    expect(await pending()).toMatchObject([{ id, attempts: 2, lastError: 'http-503', nextAttemptAt: plus(60_000) }]);

    clock.advance(60_000);
    expect(await w.runDue()).toEqual({ delivered: 1, failed: 0, deferred: 0 });
    expect(await pending()).toEqual([]);
    expect(hook.requests).toHaveLength(3);
    expect(new Set(hook.requests.map((r) => r.body)).size).toBe(1);
    expect(new Set(hook.requests.map((r) => r.headers['x-labkluis-delivery']))).toEqual(new Set([id]));
    // Each attempt is signed when it is sent.
    const stamps = hook.requests.map((r) => Number(/^t=(\d+),/.exec(r.headers['x-labkluis-signature'] as string)![1]));
    expect(stamps).toEqual([t0 / 1000, t0 / 1000 + 30, t0 / 1000 + 90]);
  });

  it('a timeout marks the row failed "timeout" and it is delivered on a later run', async () => {
    hook.answers = ['hang'];
    const w = worker({ webhook: webhook(300) });
    const [id] = await w.enqueue(alert());
    expect(await w.runDue()).toEqual({ delivered: 0, failed: 1, deferred: 0 });
    expect(await pending()).toMatchObject([{ id, attempts: 1, lastError: 'timeout', nextAttemptAt: plus(30_000) }]);
    clock.advance(30_000);
    expect(await w.runDue()).toEqual({ delivered: 1, failed: 0, deferred: 0 });
    expect(await pending()).toEqual([]);
  });

  it('the back-off reaches an hour and stays there', async () => {
    const w = worker({ webhook: webhook() });
    const [id] = await w.enqueue(alert());
    hook.answers = Array.from({ length: 9 }, () => ({ status: 502 }));
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      const before = clock.now().getTime();
      expect((await w.runDue()).failed).toBe(1);
      const [row] = await pending();
      expect(row).toMatchObject({ id, attempts: i + 1, lastError: 'http-502' });
      waits.push((Date.parse(row!.nextAttemptAt) - before) / 1000);
      clock.advance(Date.parse(row!.nextAttemptAt) - before);
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
  });

  it('a failing channel does not hold up the other; its remaining rows wait untried for the next run', async () => {
    hook.answers = [{ status: 500 }];
    const w = worker({ webhook: webhook(), syslog: udpSyslog() });
    await w.enqueue(alert());
    clock.advance(1);
    await w.enqueue(alert());
    expect(await w.runDue()).toEqual({ delivered: 2, failed: 1, deferred: 1 });
    expect(hook.requests).toHaveLength(1);
    expect(await udp.waitFor(2)).toHaveLength(2);
    const left = await pending();
    expect(left.map((r) => [r.channel, r.attempts])).toEqual([['webhook', 1], ['webhook', 0]]);

    expect(await w.runDue()).toEqual({ delivered: 1, failed: 0, deferred: 0 }); // the untried one was still due
    clock.advance(30_000);
    expect(await w.runDue()).toEqual({ delivered: 1, failed: 0, deferred: 0 });
    expect(await pending()).toEqual([]);
  });

  it('a row whose channel is no longer configured fails "not-configured" and is delivered once the channel is back', async () => {
    const both = worker({ webhook: webhook(), syslog: udpSyslog() });
    await both.enqueue(alert());
    const syslogOnly = worker({ syslog: udpSyslog() });
    expect(await syslogOnly.runDue()).toEqual({ delivered: 1, failed: 1, deferred: 0 });
    expect(await pending()).toMatchObject([{ channel: 'webhook', attempts: 1, lastError: 'not-configured' }]);
    clock.advance(30_000);
    expect(await both.runDue()).toEqual({ delivered: 1, failed: 0, deferred: 0 });
    expect(hook.requests).toHaveLength(1);
  });

  it('logs ids, channel, attempts and reasons, never the payload, the URL or the secret', async () => {
    hook.answers = [{ status: 500 }];
    const a = alert({ summary: 'a summary the logs must not repeat' });
    const w = worker({ webhook: webhook(), syslog: udpSyslog() });
    const [webhookId] = await w.enqueue(a);
    const retryAt = plus(30_000);
    await w.runDue();
    clock.advance(30_000);
    await w.runDue();
    const text = JSON.stringify(logs);
    for (const s of ['a summary the logs must not repeat', 'labkluis-alert/1', 'labkluis@32473', hook.url, '127.0.0.1', SECRET]) expect(text).not.toContain(s);
    expect(logs.filter((l) => l.level === 'warn')).toEqual([{
      level: 'warn', message: 'alert delivery failed; will retry',
      fields: { deliveryId: webhookId, alertId: a.id, channel: 'webhook', attempts: 1, reason: 'http-500', nextAttemptAt: retryAt },
    }]);
    expect(logs.filter((l) => l.level === 'info').map((l) => [l.fields.channel, l.fields.attempts]).sort()).toEqual([['syslog', 1], ['webhook', 2]]);
  });

  it('runDue during a run returns that run: each row is sent once', async () => {
    const w = worker({ webhook: webhook() });
    await w.enqueue(alert());
    const [first, second] = await Promise.all([w.runDue(), w.runDue()]);
    expect(first).toEqual({ delivered: 1, failed: 0, deferred: 0 });
    expect(second).toBe(first);
    expect(hook.requests).toHaveLength(1);
  });

  it('start() delivers what is queued without being asked; stop() ends the loop', async () => {
    const w = worker({ webhook: webhook() }, { intervalMs: 100 });
    w.start();
    w.start(); // harmless
    await w.enqueue(alert());
    await waitUntil(() => hook.requests.length === 1);
    await waitUntil(async () => (await pending()).length === 0);
    await w.stop();
    await w.enqueue(alert());
    await new Promise((r) => setTimeout(r, 400));
    expect(hook.requests).toHaveLength(1);
    expect(await due()).toHaveLength(1);
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
