/**
 * The pages labkluis serves to people's browsers (sign-in, enrolment, device approval): static
 * HTML and JavaScript, registered on the HTTP server by registerWebPages. The only public face
 * of src/web.
 */
import type { FastifyInstance } from 'fastify';

export interface WebDeps {
  readonly baseUrl: string;
}

/** Registers the browser pages on the server. (Filled in by the sign-in page work.) */
export function registerWebPages(_app: FastifyInstance, _deps: WebDeps): void {}
