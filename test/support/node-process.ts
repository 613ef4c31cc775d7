/**
 * A second labkluis node in its own OS process, for tests of what several nodes share through
 * one PostgreSQL database. It opens the app on the data directory, keyring and database given
 * in LABKLUIS_TEST_NODE (JSON), serves HTTP on 127.0.0.1 at a free port, prints
 * "listening <port>" and closes cleanly on SIGTERM. Test data only: synthetic.
 */
import { createApp, createLogger } from '../../src/app.js';
import { loadLocalKeyring } from '../../src/crypto/index.js';
import { systemClock, systemRandom } from '../../src/kernel/index.js';
import type { StoreConfig } from '../../src/config/index.js';
import type { SentinelPolicyInput } from '../../src/sentinel/index.js';

interface NodeSpec {
  readonly dataDir: string;
  readonly keyringPath: string;
  readonly storeConfig: StoreConfig;
  readonly origin: string;
  readonly publicUrl: string;
  readonly node: string;
  readonly sentinelPolicy: SentinelPolicyInput;
}

const spec = JSON.parse(process.env.LABKLUIS_TEST_NODE ?? '{}') as NodeSpec;
const kms = loadLocalKeyring({ path: spec.keyringPath, dataDir: spec.dataDir, random: systemRandom });
const app = await createApp({
  dataDir: spec.dataDir, storeConfig: spec.storeConfig, kms, origin: spec.origin, publicUrl: spec.publicUrl,
  clock: systemClock, random: systemRandom, logger: createLogger('silent'), node: spec.node, sentinelPolicy: spec.sentinelPolicy,
});
const server = app.server();
await server.listen({ host: '127.0.0.1', port: 0 });
const address = server.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => app.close()).finally(() => process.exit(0));
});
