/**
 * Real local listeners standing in for a SIEM: an HTTP server for the webhook, and a UDP socket,
 * a TCP server and a TLS server for syslog. Each records what arrived, byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, isIPv6, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { createTempDir } from '../../support/tmp.js';

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the webhook server answers: a status, or 'hang' (never answers). */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

export interface WebhookServer {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Answers for the coming requests, in order; when used up, 204. */
  answers: Answer[];
  close(): Promise<void>;
}

export async function startWebhookServer(): Promise<WebhookServer> {
  const requests: ReceivedRequest[] = [];
  const state = { answers: [] as Answer[] };
  const server: HttpServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = state.answers.shift() ?? { status: 204 };
      if (answer === 'hang') return;
      res.writeHead(answer.status, answer.headers).end(answer.status === 204 ? undefined : 'body the sender must not need');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/labkluis`,
    requests,
    get answers() { return state.answers; },
    set answers(a: Answer[]) { state.answers = a; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface Collector {
  readonly port: number;
  /** UDP: one entry per datagram. TCP/TLS: one entry per connection, the whole stream. */
  readonly received: Buffer[];
  /** Resolves when `n` entries have arrived. */
  waitFor(n: number, ms?: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

function collectorOf(received: Buffer[], port: number, close: () => Promise<void>): Collector {
  return {
    port, received, close,
    waitFor: async (n, ms = 5_000) => {
      const until = Date.now() + ms;
      while (received.length < n) {
        if (Date.now() > until) throw new Error(`waited ${ms} ms for ${n} messages, got ${received.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return received.slice(0, n);
    },
  };
}

/** `host`: an IPv4 or IPv6 address to listen on. */
export async function startUdpCollector(host = '127.0.0.1'): Promise<Collector> {
  const socket: UdpSocket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return collectorOf(received, socket.address().port, () => new Promise<void>((resolve) => socket.close(() => resolve())));
}

function streamCollector(server: NetServer, received: Buffer[], host = '127.0.0.1'): Promise<Collector> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve(collectorOf(received, (server.address() as AddressInfo).port, () => new Promise<void>((done) => {
    for (const s of sockets) s.destroy();
    server.close(() => done());
  })))));
}

const onStream = (received: Buffer[]) => (socket: Socket) => {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('end', () => {
    received.push(Buffer.concat(chunks));
    socket.end();
  });
  socket.on('error', () => undefined);
};

export async function startTcpCollector(): Promise<Collector> {
  const received: Buffer[] = [];
  return streamCollector(createNetServer(onStream(received)), received);
}

/** A TCP listener that accepts and then says nothing (no TLS handshake, no close). */
export async function startSilentListener(): Promise<Collector> {
  return streamCollector(createNetServer((s) => s.on('error', () => undefined)), []);
}

export interface TlsCollector extends Collector {
  /** PEM of the self-signed certificate (for 127.0.0.1, ::1 and localhost) the collector presents. */
  readonly ca: string;
}

export async function startTlsCollector(host = '127.0.0.1'): Promise<TlsCollector> {
  const dir = await createTempDir('labkluis-tls-');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-keyout', dir.file('key.pem'), '-out', dir.file('cert.pem'), '-subj', '/CN=syslog.test',
      '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
    ], { stdio: 'ignore' });
    const key = readFileSync(dir.file('key.pem'), 'utf8');
    const cert = readFileSync(dir.file('cert.pem'), 'utf8');
    const received: Buffer[] = [];
    const server = createTlsServer({ key, cert, minVersion: 'TLSv1.2' }, onStream(received));
    server.on('tlsClientError', () => undefined);
    const c = await streamCollector(server as unknown as NetServer, received, host);
    return { ...c, ca: cert };
  } finally {
    await dir.cleanup();
  }
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
