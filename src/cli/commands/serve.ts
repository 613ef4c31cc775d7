import type { App } from '../../app.js';

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
}

/** Serves the FHIR API until SIGINT/SIGTERM, then writes a final audit checkpoint and closes. */
export async function serve(app: App, opts: ServeOptions, out: (line: string) => void): Promise<void> {
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const server = app.server({ baseUrl: `http://${shownHost}:${opts.port}` });
  await server.listen({ host: opts.host, port: opts.port });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  out(`labkluis serving FHIR R4 at http://${shownHost}:${port}/fhir  (metadata: /fhir/metadata)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  out('stopping: closing connections and writing the final audit checkpoint');
  await server.close();
  await app.close();
}
