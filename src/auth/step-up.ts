/**
 * Step-up (ASVS 5.0 V7.5.1, V7.5.3): sensitive actions (every admin action, revealing more than one
 * patient's identity, exports, break-glass, changing one's own factors) need a passkey
 * assertion made in this session at most five minutes ago. The local operator at the machine
 * (`labkluis` CLI on the server) is trusted as the host is; API tokens never qualify.
 */
import type { Principal } from './principal.js';
import { forbidden, type Clock } from '../kernel/index.js';

export const STEP_UP_MAX_AGE_SECONDS = 300;

export function requireStepUp(principal: Principal, clock: Clock, what: string): void {
  if (principal.authMethod === 'local-cli') return;
  if (principal.authMethod !== 'session' || principal.authenticatedAt === undefined) {
    throw forbidden(`${what} needs a signed-in person with a fresh passkey assertion`);
  }
  const age = clock.now().getTime() - Date.parse(principal.authenticatedAt);
  if (!(age >= 0 && age <= STEP_UP_MAX_AGE_SECONDS * 1000)) {
    throw forbidden(`${what} needs a fresh passkey assertion (step-up): POST /auth/step-up/start`);
  }
}
