/**
 * `labkluis backup-receiver` (issue 5): an append-only HTTP store for backups, meant for
 * another host under another account. With its upload token (what the production server
 * holds) one may add objects and manifests and read them back; nothing can be overwritten
 * (other bytes under a name: 409), truncated (a name is the hash of its bytes: 400) or
 * deleted (there is no such route). Old snapshots go only by a prune request signed with the
 * offline admin key, and never those received within the retention floor (default 35 days):
 * production holds no credential that removes or changes what the receiver keeps.
 *
 * Routes (all under /v1, the upload token as `Authorization: Bearer <token>`):
 *   PUT/GET /objects/<sha256>     GET /objects
 *   PUT/GET /manifests/<name>     GET /manifests
 *   GET /pruned/<name>            GET /pruned      (pruned snapshots' manifests, kept as links)
 *   GET /id                       this receiver's id (random, made at its first start); no token needed
 *   POST /prune {before, at, receiver}  signed: `X-Labkluis-Admin-Signature: <base64 Ed25519>` over
 *                                 "labkluis-backup-prune\n" + the body; no token needed. A request
 *                                 names the receiver it is for and is taken once, within 5 minutes
 *                                 of `at`: it cannot be replayed here or at another receiver.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { link, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { parseVerifierKey } from '../../audit/index.js';
import { ed25519Verify } from '../../crypto/index.js';
import { LabkluisError, type Clock } from '../../kernel/index.js';
import { DirTarget } from '../targets/dir-target.js';
import { manifestName, OBJECT_NAME } from '../targets/target.js';
import { openManifest } from '../manifest.js';

export interface ReceiverOptions {
  /** Where it keeps what it receives (its own disk, not production's). */
  readonly root: string;
  /** The upload token production presents (compared by hash, in constant time). */
  readonly uploadToken: string;
  /** The offline admin key's public half (raw 32-byte Ed25519): the only way to prune. */
  readonly adminKey: Buffer;
  /**
   * The backup key's verifier key (as `labkluis backup` prints it): a manifest is taken only
   * when it is signed with it and named after its own sequence and snapshot, so the upload
   * token alone cannot plant a "newest" manifest that stops every later backup.
   */
  readonly backupKey: string;
  readonly retentionDays?: number;
  readonly clock: Clock;
  /** Largest object accepted, in bytes (default 64 MiB). */
  readonly maxObjectBytes?: number;
}

export const PRUNE_CONTEXT = 'labkluis-backup-prune\n';
const SKEW_MS = 5 * 60_000;

export function buildReceiver(o: ReceiverOptions): FastifyInstance {
  if (o.uploadToken.length < 32) throw new LabkluisError('ERR_CONFIG', 'the receiver upload token is at least 32 characters');
  if (o.adminKey.length !== 32) throw new LabkluisError('ERR_CONFIG', 'the receiver admin key is a raw 32-byte Ed25519 public key');
  const retentionDays = o.retentionDays ?? 35;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new LabkluisError('ERR_CONFIG', 'the retention floor is a whole number of days, at least 1');
  try {
    parseVerifierKey(o.backupKey);
  } catch {
    throw new LabkluisError('ERR_CONFIG', "the backup key is a verifier key, as 'labkluis backup key' prints it");
  }
  const store = new DirTarget(o.root);
  const receiverId = ownId(o.root);
  /** Prune signatures taken within the last window: a second use is a replay. */
  const usedPrunes = new Map<string, number>();
  const tokenHash = createHash('sha256').update(o.uploadToken).digest();
  const app = Fastify({ logger: false, bodyLimit: o.maxObjectBytes ?? 64 * 1024 * 1024 });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const authorised = (req: FastifyRequest): boolean => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(createHash('sha256').update(m[1]!).digest(), tokenHash);
  };
  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    if (authorised(req)) return true;
    await reply.code(401).send({ error: 'upload token missing or wrong' });
    return false;
  };
  const put = async (reply: FastifyReply, write: () => Promise<'written' | 'exists'>): Promise<unknown> => {
    try {
      const outcome = await write();
      return reply.code(outcome === 'written' ? 201 : 200).send({ outcome });
    } catch (e) {
      if (e instanceof LabkluisError && e.code === 'ERR_CONFLICT') return reply.code(409).send({ error: 'other bytes are stored under that name; nothing is overwritten' });
      if (e instanceof LabkluisError && e.code === 'ERR_INVALID_INPUT') return reply.code(400).send({ error: e.message });
      throw e;
    }
  };

  app.put<{ Params: { id: string } }>('/v1/objects/:id', async (req, reply) => {
    if (!(await guard(req, reply))) return reply;
    if (!Buffer.isBuffer(req.body)) return reply.code(415).send({ error: 'send the object as application/octet-stream' });
    return put(reply, async () => {
      const outcome = await store.putObject(req.params.id, req.body as Buffer);
      // When it arrived, by this host's clock: a prune keeps what arrived after its cut.
      if (outcome === 'written') {
        const at = o.clock.now();
        await utimes(join(o.root, 'objects', req.params.id.slice(0, 2), req.params.id), at, at);
      }
      return outcome;
    });
  });
  app.get<{ Params: { id: string } }>('/v1/objects/:id', async (req, reply) => {
    if (!(await guard(req, reply))) return reply;
    const bytes = OBJECT_NAME.test(req.params.id) ? await store.getObject(req.params.id) : null;
    return bytes === null ? reply.code(404).send({ error: 'no such object' }) : reply.type('application/octet-stream').send(bytes);
  });
  app.get('/v1/objects', async (req, reply) => ((await guard(req, reply)) ? { objects: await store.listObjects() } : reply));
  app.put<{ Params: { name: string } }>('/v1/manifests/:name', async (req, reply) => {
    if (!(await guard(req, reply))) return reply;
    if (typeof req.body !== 'string') return reply.code(415).send({ error: 'send the manifest note as text/plain' });
    const note = req.body;
    try {
      const m = openManifest(note, o.backupKey).manifest;
      if (manifestName(m.sequence, m.snapshot) !== req.params.name) throw new Error('misnamed');
    } catch {
      return reply.code(400).send({ error: 'not a manifest signed with the backup key, under its own name' });
    }
    if (await exists(join(o.root, 'pruned', `${req.params.name}.note`))) return reply.code(409).send({ error: 'that snapshot was pruned; its name is taken' });
    return put(reply, async () => {
      const outcome = await store.putManifest(req.params.name, note);
      // When it arrived, by this host's clock: what the retention floor counts from.
      if (outcome === 'written') await writeFile(join(o.root, 'manifests', `${req.params.name}.received`), o.clock.now().toISOString(), { flag: 'wx', mode: 0o444 }).catch(() => {});
      return outcome;
    });
  });
  app.get<{ Params: { name: string } }>('/v1/manifests/:name', async (req, reply) => {
    if (!(await guard(req, reply))) return reply;
    const note = await store.getManifest(req.params.name);
    return note === null ? reply.code(404).send({ error: 'no such manifest' }) : reply.type('text/plain; charset=utf-8').send(note);
  });
  app.get('/v1/manifests', async (req, reply) => ((await guard(req, reply)) ? { manifests: await store.listManifests() } : reply));
  app.get('/v1/pruned', async (req, reply) => ((await guard(req, reply)) ? { manifests: await store.listPrunedManifests() } : reply));
  app.get<{ Params: { name: string } }>('/v1/pruned/:name', async (req, reply) => {
    if (!(await guard(req, reply))) return reply;
    const note = await store.getPrunedManifest(req.params.name);
    return note === null ? reply.code(404).send({ error: 'no such pruned manifest' }) : reply.type('text/plain; charset=utf-8').send(note);
  });

  app.get('/v1/id', async () => ({ receiver: receiverId }));
  app.post('/v1/prune', async (req, reply) => {
    // The signature is over the bytes sent: the body stays text (text/plain), parsed here.
    if (typeof req.body !== 'string') return reply.code(415).send({ error: 'send the prune request as text/plain JSON' });
    const raw = req.body;
    const sig = Buffer.from(String(req.headers['x-labkluis-admin-signature'] ?? ''), 'base64');
    if (!ed25519Verify(o.adminKey, Buffer.from(PRUNE_CONTEXT + raw, 'utf8'), sig)) return reply.code(401).send({ error: 'prune needs a request signed with the offline admin key' });
    const body = safeJson(raw) as { before?: unknown; at?: unknown; receiver?: unknown } | null;
    const now = o.clock.now().getTime();
    const [before, at] = [Date.parse(String(body?.before)), Date.parse(String(body?.at))];
    if (Number.isNaN(before) || Number.isNaN(at)) return reply.code(400).send({ error: 'prune takes {before, at, receiver}: ISO-8601 times and this receiver\'s id' });
    if (body?.receiver !== receiverId) return reply.code(400).send({ error: 'the prune request is for another receiver' });
    if (Math.abs(now - at) > SKEW_MS) return reply.code(400).send({ error: 'the prune request is stale or from the future (at)' });
    for (const [s, t] of usedPrunes) if (now - t > 2 * SKEW_MS) usedPrunes.delete(s);
    const sigKey = sig.toString('base64');
    if (usedPrunes.has(sigKey)) return reply.code(409).send({ error: 'that prune request was taken before; sign a new one' });
    usedPrunes.set(sigKey, now);
    const floor = now - retentionDays * 86_400_000;
    if (before > floor) return reply.code(403).send({ error: `nothing received in the last ${retentionDays} days is pruned` });
    return pruneBefore(o.root, store, before);
  });
  return app;
}

/**
 * Drops the manifests received before `before` and every object no remaining manifest names
 * and that was itself received before `before` (an object of a backup still being written has
 * no manifest yet: it is kept).
 */
async function pruneBefore(root: string, store: DirTarget, before: number): Promise<{ manifests: number; objects: number }> {
  const names = await store.listManifests();
  const doomed: string[] = [];
  const keep = new Set<string>();
  for (const name of names) {
    const received = Date.parse((await readFile(join(root, 'manifests', `${name}.received`), 'utf8').catch(() => '')) || 'x');
    if (!Number.isNaN(received) && received < before) {
      doomed.push(name);
      continue;
    }
    for (const id of namedObjects((await store.getManifest(name)) ?? '')) keep.add(id);
  }
  // A pruned snapshot's manifest stays, apart, as a link of the chain (a few hundred bytes).
  await mkdir(join(root, 'pruned'), { recursive: true });
  for (const name of doomed) {
    // Linked, then unlinked: a link already in pruned/ is never replaced.
    await link(join(root, 'manifests', `${name}.note`), join(root, 'pruned', `${name}.note`)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    await rm(join(root, 'manifests', `${name}.note`), { force: true });
    await rm(join(root, 'manifests', `${name}.received`), { force: true });
  }
  let objects = 0;
  for (const id of await store.listObjects()) {
    if (keep.has(id)) continue;
    const received = await stat(join(root, 'objects', id.slice(0, 2), id)).then((s) => s.mtimeMs, () => Number.POSITIVE_INFINITY);
    if (received >= before) continue;
    await rm(join(root, 'objects', id.slice(0, 2), id), { force: true });
    objects += 1;
  }
  return { manifests: doomed.length, objects };
}

/** The object names a manifest note mentions (its signed JSON text, not verified here). */
function namedObjects(note: string): string[] {
  const text = note.slice(0, note.indexOf('\n'));
  const m = safeJson(text) as { index?: unknown; objects?: { id?: unknown }[] } | null;
  const ids = [m?.index, ...(Array.isArray(m?.objects) ? m.objects.map((x) => x?.id) : [])];
  return ids.filter((x): x is string => typeof x === 'string' && OBJECT_NAME.test(x));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The receiver's id, kept in its root: made once (random), read at every start after. */
function ownId(root: string): string {
  const file = join(root, 'receiver-id');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${randomBytes(16).toString('hex')}\n`, { flag: 'wx', mode: 0o444 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new LabkluisError('ERR_CONFIG', `cannot write the receiver's id in ${root}`);
  }
  const id = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{32}$/.test(id)) throw new LabkluisError('ERR_CONFIG', `${file} is damaged`);
  return id;
}
