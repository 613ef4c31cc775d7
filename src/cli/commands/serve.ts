import type { App } from '../../app.js';

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
}

/** Serves the FHIR API until SIGINT/SIGTERM, then writes a final audit checkpoint and closes. */
export async function serve(app: App, opts: ServeOptions, out: (line: string) => void): Promise<void> {
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  // Links, WebAuthn and DPoP use the public URL (LABKLUIS_PUBLIC_URL or the config), not the listen address.
  const server = app.server();
  await server.listen({ host: opts.host, port: opts.port });
  app.alertDelivery.start(); // alerts to the webhook and syslog, if configured
  // A failed or overdue restore drill is the officer's to know at once, not only at the hourly check.
  await app.drills.check().catch(() => app.logger.warn('restore drill check failed; retried hourly'));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  out(`labkluis listening on http://${shownHost}:${port}; public URL ${app.publicUrl} (FHIR R4 at ${app.publicUrl}/fhir, sign-in at ${app.publicUrl}/sign-in)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  out('stopping: closing connections and writing the final audit checkpoint');
  await server.close();
  await app.close();
}
