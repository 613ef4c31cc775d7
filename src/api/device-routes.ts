/**
 * The device authorisation grant (RFC 8628) for the CLI: routes registered beside the /auth
 * routes. (Filled in by the device-flow work.)
 */
import type { AuthRoute } from './auth-routes.js';

export const deviceRoutes: readonly AuthRoute[] = [];
