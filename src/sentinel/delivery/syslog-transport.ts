/**
 * Sends rendered RFC 5424 messages to a syslog collector:
 *  - udp: one message per datagram, nothing else in it (RFC 5426 §3.1); no acknowledgement,
 *    so "delivered" means handed to the network.
 *  - tcp: octet-counting frames (RFC 6587 §3.4.1), never the LF-terminated "non-transparent"
 *    framing, which a newline inside a message would break.
 *  - tls: the same frames over TLS (RFC 5425 §4.3), at least TLS 1.2, the collector's
 *    certificate checked against the system's CAs or the configured ones, and its name.
 * A stream is opened per message and closed after it: alerts are rare, and a fresh connection
 * has no half-dead state to detect.
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { DeliveryFailure, failureFromError } from './delivery-failure.js';
import type { DeliveryTransport } from './delivery-transport.js';
import type { SyslogConfig } from './alert-delivery-config.js';
import { octetCountingFrame } from './syslog-message.js';

/** The largest UDP payload over IPv4 (RFC 5426 §3.2 leaves the limit to the path). */
const MAX_UDP_PAYLOAD = 65_507;

export class SyslogTransport implements DeliveryTransport {
  readonly channel = 'syslog' as const;
  readonly #config: SyslogConfig;
  readonly #open = new Set<{ destroy(): unknown }>();

  constructor({ config }: { readonly config: SyslogConfig }) {
    this.#config = Object.freeze({ ...config });
  }

  async send({ payload }: { readonly id: string; readonly payload: string }): Promise<void> {
    const message = Buffer.from(payload, 'utf8');
    try {
      if (this.#config.transport === 'udp') await this.#sendDatagram(message);
      else await this.#sendFrame(octetCountingFrame(message));
    } catch (e) {
      throw failureFromError(e);
    }
  }

  async close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }

  async #sendDatagram(message: Buffer): Promise<void> {
    if (message.length > MAX_UDP_PAYLOAD) throw new DeliveryFailure('too-large');
    const { host, port, timeoutMs } = this.#config;
    const { address, family } = await withTimeout(lookup(host), timeoutMs);
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    let open = true;
    const handle = {
      destroy: () => {
        if (open) socket.close(); // a second close() throws
        open = false;
      },
    };
    this.#open.add(handle);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('close', () => reject(new DeliveryFailure('connection-closed')));
        socket.send(message, port, address, (err) => (err ? reject(err) : resolve()));
      });
    } finally {
      this.#open.delete(handle);
      handle.destroy();
    }
  }

  /**
   * Resolves once the frame is written and the write side closed. The socket then lingers until
   * the collector closes its side, at most the timeout.
   */
  #sendFrame(frame: Buffer): Promise<void> {
    const { host, port, timeoutMs, transport, ca } = this.#config;
    return new Promise<void>((resolve, reject) => {
      let written = false;
      const socket: Socket = transport === 'tls'
        ? tlsConnect({
          host, port, ca, minVersion: 'TLSv1.2', rejectUnauthorized: true,
          // SNI carries a DNS name only (RFC 6066 §3); an address is checked against the certificate's IP entries.
          ...(isIP(host) === 0 ? { servername: host } : {}),
        })
        : netConnect({ host, port });
      this.#open.add(socket);
      socket.resume(); // a collector says nothing back in this protocol; drop whatever it sends
      const timer = setTimeout(() => {
        socket.destroy();
        if (!written) reject(new DeliveryFailure('timeout'));
      }, timeoutMs);
      socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => {
        socket.end(frame, () => {
          written = true;
          resolve();
        });
      });
      socket.on('error', (err) => {
        socket.destroy();
        if (!written) reject(err);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        this.#open.delete(socket);
        if (!written) reject(new DeliveryFailure('connection-closed'));
      });
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeliveryFailure('timeout')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
