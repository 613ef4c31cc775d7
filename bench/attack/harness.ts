/**
 * The vault under attack, built the way production builds it: the real composition root, a temp
 * data directory with its keyring beside it (never inside), SQLite or a fresh PostgreSQL
 * database, a silent logger, and the simulated clock. The sentinel runs with the app's defaults,
 * exactly as `labkluis serve` would, whatever they become; the one setting on top is what an
 * operator sets for a bulk integration when onboarding it (restart()).
 */
import type { FastifyInstance } from 'fastify';
import { createApp, createLogger, type App } from '../../src/app.js';
import { systemRandom } from '../../src/kernel/index.js';
import type { SentinelPolicyInput } from '../../src/sentinel/index.js';
import { benchPlace, type Backend, type Cleanup } from '../lib/fixtures.js';
import type { SimClock } from './sim.js';

/** Where the simulated server says it lives (the DPoP htu base). Never resolved: requests are injected. */
export const PUBLIC_URL = 'https://labkluis.attack-bench.invalid';

export interface Harness {
  readonly backend: Backend;
  /** The running app and server; a restart replaces them (everything reads them from here). */
  app: App;
  server: FastifyInstance;
  readonly clock: SimClock;
  /**
   * Restarts the server on the same data with settings an operator put in labkluis.json (the
   * sentinel's `principals`: a bulk integration's own budget, set when it is onboarded).
   */
  restart(sentinelPolicy: SentinelPolicyInput): Promise<void>;
}

export async function openHarness(cleanup: Cleanup, backend: Backend, clock: SimClock): Promise<Harness> {
  const { dataDir, kms, origin, storeConfig } = await benchPlace(cleanup, backend, 'attack-bench');
  // No rateLimits or sessionPolicy: production defaults throughout. The sentinel's policy is the
  // default too, but for what an operator sets when onboarding a bulk integration (restart()).
  const start = async (sentinelPolicy?: SentinelPolicyInput) => {
    const app = await createApp({
      dataDir, storeConfig, kms, origin, publicUrl: PUBLIC_URL, clock, random: systemRandom, logger: createLogger('silent'),
      ...(sentinelPolicy ? { sentinelPolicy } : {}),
    });
    const server = app.server();
    await server.ready();
    return { app, server };
  };
  const first = await start();
  const h: Harness = {
    backend, clock, ...first,
    restart: async (sentinelPolicy) => {
      await h.server.close();
      await h.app.close();
      Object.assign(h, await start(sentinelPolicy));
    },
  };
  cleanup.add('close the app', () => h.app.close());
  cleanup.add('close the server', () => h.server.close());
  return h;
}
