import { sign } from 'node:crypto';
import { parseVerifierKey } from '../../audit/index.js';
import { buildReceiver, PRUNE_CONTEXT } from '../../backup/index.js';
import { ed25519FromSeed } from '../../crypto/index.js';
import { LabkluisError, systemClock, systemRandom } from '../../kernel/index.js';
import { createSeedKeyFile, readSeedKeyFile } from '../key-files.js';

const ADMIN_NAME = 'labkluis-backup-admin';

/**
 * `labkluis backup admin-key --out <file>`: the receiver's offline admin key (an Ed25519 seed,
 * mode 0600, in a new file, for the backup host's administrator, not production). Prints the
 * public half to start the receiver with.
 */
export async function backupAdminKey(o: { out: string }, out: (line: string) => void): Promise<void> {
  out(await createSeedKeyFile(o.out, ADMIN_NAME, systemRandom));
}

/**
 * `labkluis backup-receiver --root <dir> --admin-key <vkey>`: the append-only receiver, until
 * SIGINT/SIGTERM. The upload token (what production gets) is LABKLUIS_RECEIVER_TOKEN.
 */
export async function backupReceiver(
  o: { root: string; adminKey: string; backupKey: string; host: string; port: number; retentionDays: number }, out: (line: string) => void,
): Promise<void> {
  const token = process.env.LABKLUIS_RECEIVER_TOKEN ?? '';
  if (token.length < 32) throw new LabkluisError('ERR_CONFIG', 'set LABKLUIS_RECEIVER_TOKEN (at least 32 characters): the upload token production will hold');
  const key = parseVerifierKey(o.adminKey);
  const adminKey = Buffer.from(key.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const app = buildReceiver({ root: o.root, uploadToken: token, adminKey, backupKey: o.backupKey, retentionDays: o.retentionDays, clock: systemClock });
  await app.listen({ host: o.host, port: o.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  out(`backup receiver listening on http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}; keeping ${o.root}; retention floor ${o.retentionDays} days`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await app.close();
}

/** `labkluis backup prune --at <url> --admin-key-file <file> --before <time>`: a prune request signed with the admin key. */
export async function backupPrune(o: { at: string; adminKeyFile: string; before: string; receiver?: string }, out: (line: string) => void): Promise<void> {
  const seed = await readSeedKeyFile(o.adminKeyFile, 'admin key');
  if (Number.isNaN(Date.parse(o.before))) throw new LabkluisError('ERR_INVALID_INPUT', '--before is an ISO-8601 time');
  const base = o.at.replace(/\/+$/, '');
  // The request names the receiver it is for (its id), so it cannot be replayed at another.
  let receiver: unknown;
  try {
    receiver = ((await (await fetch(`${base}/v1/id`)).json()) as { receiver?: unknown }).receiver;
  } catch {
    throw new LabkluisError('ERR_STORE', `the receiver at ${o.at} did not answer`);
  }
  if (typeof receiver !== 'string') throw new LabkluisError('ERR_STORE', `${o.at} does not answer as a labkluis backup receiver`);
  // The id comes from whoever answers at --at: pinned, a stand-in there gets no signed request.
  if (o.receiver !== undefined && o.receiver !== receiver) throw new LabkluisError('ERR_INVALID_INPUT', `the receiver at ${o.at} is not ${o.receiver}: nothing signed`);
  const body = JSON.stringify({ before: new Date(o.before).toISOString(), at: systemClock.now().toISOString(), receiver });
  const signature = sign(null, Buffer.from(PRUNE_CONTEXT + body, 'utf8'), ed25519FromSeed(seed).privateKey).toString('base64');
  let res: Response;
  try {
    res = await fetch(`${base}/v1/prune`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-labkluis-admin-signature': signature }, body });
  } catch {
    throw new LabkluisError('ERR_STORE', `the receiver at ${o.at} did not answer`);
  }
  const answer = (await res.json().catch(() => ({}))) as { manifests?: number; objects?: number; error?: string };
  if (!res.ok) throw new LabkluisError(res.status === 403 ? 'ERR_FORBIDDEN' : 'ERR_INVALID_INPUT', `the receiver refused the prune: ${answer.error ?? res.status}`);
  out(`pruned ${answer.manifests ?? 0} snapshots and ${answer.objects ?? 0} objects no remaining snapshot needs`);
}
