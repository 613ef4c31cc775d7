import { createDpopProof, loadDpopKey } from '../../sessions/index.js';
import { invalidInput, systemClock, systemRandom } from '../../kernel/index.js';

export interface ProofOptions {
  /** The service's private key file (from `token create --new-key`, or its own ES256 JWK). */
  readonly key: string;
  /** The API token the proof goes with (its hash becomes the proof's ath claim). */
  readonly token?: string;
}

/**
 * One DPoP proof (RFC 9449) for one request, for scripts and curl:
 *   curl -H "Authorization: DPoP $T" -H "DPoP: $(labkluis proof --key k.json --token "$T" GET "$URL")" "$URL"
 * A proof is valid for one request, within a minute; the server refuses it a second time.
 */
export async function proof(method: string, url: string, o: ProofOptions): Promise<string> {
  const m = method.toUpperCase();
  if (!/^[A-Z]{3,7}$/.test(m)) throw invalidInput(`'${method.slice(0, 20)}' is not an HTTP method`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidInput('the URL must be absolute: http(s)://host[:port]/path');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw invalidInput('the URL must be http(s)');
  const key = await loadDpopKey(o.key);
  return createDpopProof(key, {
    method: m, url: parsed.href, clock: systemClock, random: systemRandom, ...(o.token !== undefined ? { accessToken: o.token } : {}),
  });
}
