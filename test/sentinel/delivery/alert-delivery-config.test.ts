/**
 * The delivery configuration refuses what would send alerts in the clear or elsewhere: a
 * webhook over plain http to anything but this machine, credentials in the URL, a short secret.
 */
import { describe, expect, it } from 'vitest';
import { isLabkluisError } from '../../../src/kernel/index.js';
import { alertDeliveryConfig, isAllowedWebhookUrl, parseAlertDeliveryConfig, WebhookTransport } from '../../../src/sentinel/delivery/index.js';
import { ManualClock } from '../../../src/kernel/index.js';

const SECRET = 's'.repeat(32);
const webhook = (url: string, secret = SECRET) => ({ webhook: { url, secret } });

describe('alert delivery configuration', () => {
  it('accepts https anywhere and plain http to loopback addresses only', () => {
    for (const url of ['https://siem.lab.example/hooks/labkluis', 'https://192.0.2.10:8443/x', 'http://127.0.0.1:9000/hook', 'http://127.3.2.1/', 'http://localhost:8080/a', 'http://[::1]:8080/a']) {
      expect(isAllowedWebhookUrl(url), url).toBe(true);
      expect(alertDeliveryConfig.safeParse(webhook(url)).success, url).toBe(true);
    }
  });

  it('refuses a non-https webhook URL that is not loopback, at configuration time', () => {
    for (const url of [
      'http://siem.lab.example/hook', 'http://192.0.2.10/hook', 'http://10.0.0.1/hook', 'http://[::ffff:7f00:1]/', 'http://localhost.evil.example/',
      'http://127.0.0.1.nip.io/', 'ftp://127.0.0.1/', 'ws://localhost/', 'file:///etc/passwd', 'not a url', '',
    ]) {
      expect(isAllowedWebhookUrl(url), url).toBe(false);
      const e = (() => { try { parseAlertDeliveryConfig(webhook(url)); } catch (x) { return x; } return null; })();
      expect(isLabkluisError(e, 'ERR_CONFIG'), url).toBe(true);
    }
    // The transport checks again: a config object made by hand does not get around the schema.
    expect(() => new WebhookTransport({ config: { url: 'http://siem.lab.example/', secret: SECRET, timeoutMs: 1000 }, clock: new ManualClock() })).toThrow(/https/);
  });

  it('refuses credentials and fragments in the URL, and says so without echoing the URL or the secret', () => {
    for (const url of ['https://user:pw@siem.lab.example/hook', 'https://siem.lab.example/hook#x']) {
      const e = (() => { try { parseAlertDeliveryConfig(webhook(url)); } catch (x) { return x as Error; } return null; })();
      expect(isLabkluisError(e, 'ERR_CONFIG')).toBe(true);
      expect(e!.message).not.toContain('pw');
      expect(e!.message).not.toContain(SECRET);
      expect(e!.message).toContain('alertDelivery.webhook.url');
    }
  });

  it('refuses a secret shorter than 32 characters without quoting it', () => {
    const e = (() => { try { parseAlertDeliveryConfig(webhook('https://siem.lab.example/', 'hunter2-hunter2')); } catch (x) { return x as Error; } return null; })();
    expect(isLabkluisError(e, 'ERR_CONFIG')).toBe(true);
    expect(e!.message).not.toContain('hunter2');
  });

  it('fills defaults: webhook timeout 5 s, syslog facility authpriv (10)', () => {
    const c = parseAlertDeliveryConfig({ webhook: { url: 'https://siem.lab.example/', secret: SECRET }, syslog: { host: 'log.lab.example', port: 514, transport: 'udp' } });
    expect(c.webhook!.timeoutMs).toBe(5_000);
    expect(c.syslog!.facility).toBe(10);
    expect(Object.isFrozen(c) && Object.isFrozen(c.syslog)).toBe(true);
    expect(parseAlertDeliveryConfig({ syslog: { host: 'h', port: 514, transport: 'tcp', facility: 'local3' } }).syslog!.facility).toBe(19);
    expect(parseAlertDeliveryConfig({ syslog: { host: 'h', port: 514, transport: 'tcp', facility: 13 } }).syslog!.facility).toBe(13);
    expect(parseAlertDeliveryConfig({})).toEqual({});
  });

  it('refuses a bad facility, port, transport, HOSTNAME, unknown keys and a CA for a non-TLS transport', () => {
    const syslog = { host: 'h', port: 514, transport: 'udp' };
    for (const bad of [
      { ...syslog, facility: 24 }, { ...syslog, facility: 'authprivate' }, { ...syslog, port: 0 }, { ...syslog, port: 70_000 },
      { ...syslog, transport: 'relp' }, { ...syslog, hostname: 'has space' }, { ...syslog, hostname: 'h'.repeat(256) }, { ...syslog, extra: 1 },
      { ...syslog, ca: '-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----' },
    ]) {
      expect(alertDeliveryConfig.safeParse({ syslog: bad }).success, JSON.stringify(bad)).toBe(false);
    }
    expect(alertDeliveryConfig.safeParse({ email: {} }).success).toBe(false);
  });
});
