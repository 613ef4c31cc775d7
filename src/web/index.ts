/**
 * The pages labkluis serves to people's browsers (sign-in, enrolment, their sessions, and
 * /device, where a person approves the CLI's sign-in): static HTML and JavaScript, registered on
 * the HTTP server by registerWebPages. The only public face of src/web.
 *
 * The browser files are TypeScript string constants (src/web/assets/), not files read from disk:
 * `npm run build` copies no other files into dist/, and the CLI runs from dist/.
 */
import type { FastifyInstance } from 'fastify';
import { securityHeaders, webPages } from './pages.js';

export { CONTENT_SECURITY_POLICY, webPages, type WebPage } from './pages.js';
export { DPOP_DB, DPOP_KEY_ID, DPOP_STORE } from './assets/dpop.js';
export { SESSION_ENDED_MESSAGE, SESSION_STORAGE_KEY } from './assets/api.js';

export interface WebDeps {
  readonly baseUrl: string;
}

/** Registers the browser pages on the server: public GET routes, an explicit list (src/web/pages.ts). */
export function registerWebPages(app: FastifyInstance, deps: WebDeps): void {
  const headers = securityHeaders(deps.baseUrl);
  for (const page of webPages) {
    app.get(page.path, async (_req, reply) => reply.headers(headers).type(page.contentType).send(page.body));
  }
}
