import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { AuditLog } from './audit/index.js';
import type { Principal } from './auth/index.js';
import { Sentinel, type SentinelPolicyInput } from './sentinel/index.js';
import { Canaries } from './sentinel/index.js'; // canary patients (issue 4)
import { AlertDelivery, type AlertDeliveryConfigInput } from './sentinel/delivery/index.js';
import type { StoreConfig } from './config/index.js';
import { aesGcmCipher, DataKeys, type Kms, type RecordCipher } from './crypto/index.js';
import { buildServer, PublicRateLimiter, type CredentialRequest, type RateLimitOptions } from './api/index.js';
import { authenticateApiTokenRequest, DpopKeyCache, looksLikeAccessToken, MemoryReplayCache, Sessions, StoreReplayCache, type SessionEventSink, type SessionPolicy } from './sessions/index.js';
import { isLabkluisError, LabkluisError, type Clock, type Random } from './kernel/index.js';
import { createPostgresStore, createSqliteStore, type Store } from './store/index.js';
import { Vault, type AccountEvent } from './vault/index.js';
import { AccountAdmin, DeviceGrant, Factors, OwnSessions, PasskeyFactors, PasswordChange, SignIn, SignInThrottle } from './accounts/index.js';
import { Passkeys } from './passkeys/index.js';
import { ExportService, type ExportPolicy } from './export/index.js'; // four-eyes bulk export (issue 4)
import { DrillWatch, type DrillPolicy } from './backup/index.js'; // restore drills (issue 5)

/**
 * The composition root (STYLE.md §1): the one place that builds every part and hands it down.
 * Nothing below reads configuration, the clock, randomness or keys from anywhere else.
 */
export interface AppOptions {
  readonly dataDir: string;
  readonly storeConfig: StoreConfig;
  /** Overrides the PostgreSQL URL in the config (LABKLUIS_PG_URL), so no password sits on disk. */
  readonly postgresUrl?: string | undefined;
  readonly kms: Kms;
  readonly origin: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  readonly node?: string;
  /** Only the benchmark passes another cipher (the null cipher, to measure the overhead). */
  readonly cipher?: RecordCipher;
  readonly checkpointEvery?: { entries: number; ms: number };
  /** An already-open store (tests that share one database between two apps). */
  readonly store?: Store;
  /**
   * The URL people and clients use to reach this server (default http://localhost:8080). It is
   * the WebAuthn origin (its host the relying party id) and the base of every DPoP htu.
   */
  readonly publicUrl?: string;
  /** Session timeouts (defaults: 5-minute access tokens, 15 minutes idle, 12 hours absolute). */
  readonly sessionPolicy?: Partial<SessionPolicy>;
  /**
   * Request budgets per client network (IPv4 address, IPv6 /64) on the public /auth routes
   * (defaults in api/rate-limits.ts: 30 a minute for enrolment and sign-in, 60 for refresh and
   * the device grant). In this node's memory: each node counts what reaches it.
   */
  readonly rateLimits?: RateLimitOptions;
  /** Body limit on the JSON /auth routes (default 16 KiB). */
  readonly authBodyLimitBytes?: number;
  /** The sentinel's limits (defaults in sentinel/policy.ts). */
  readonly sentinelPolicy?: SentinelPolicyInput;
  /** Where alerts go besides the security officer's list: a webhook, syslog (sentinel/delivery). */
  readonly alertDelivery?: AlertDeliveryConfigInput;
  /** Four-eyes bulk export: how long a request, a ready file and a run may take (export/export-policy.ts). */
  readonly exportPolicy?: Partial<ExportPolicy>;
  /** Restore drills: the drill key, the allowed age, whether to alert (backup/drill/drill-watch.ts). */
  readonly drillPolicy?: DrillPolicy;
}

export interface App {
  readonly store: Store;
  readonly vault: Vault;
  readonly audit: AuditLog;
  readonly keys: DataKeys;
  readonly logger: Logger;
  readonly sessions: Sessions;
  /** Watches what leaves the vault and contains a principal that crosses a limit (issue 4). */
  readonly sentinel: Sentinel;
  /** Canary patients (issue 4): seeded, listed and removed by the security officer or the local operator. */
  readonly canaries: Canaries;
  /** Four-eyes bulk export jobs (issue 4): the only way many patients' records leave together. */
  readonly exports: ExportService;
  /** Restore drills' reports and the alert when the last good one is too old (issue 5). */
  readonly drills: DrillWatch;
  /** The alert outbox: `serve` starts its loop; runDue() sends what is due now. */
  readonly alertDelivery: AlertDelivery;
  readonly signIn: SignIn;
  readonly accounts: AccountAdmin;
  /** The CLI's sign-in: the device authorisation grant (RFC 8628), bound to DPoP. */
  readonly device: DeviceGrant;
  /** TOTP (where allowed) and recovery codes. */
  readonly factors: Factors;
  readonly publicUrl: string;
  /** The HTTP server; baseUrl defaults to publicUrl. */
  server(options?: { baseUrl?: string; version?: string }): ReturnType<typeof buildServer>;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

export function openStore(dataDir: string, config: StoreConfig, postgresUrl?: string): Store {
  if (config.kind === 'sqlite') return createSqliteStore({ path: join(dataDir, config.file) });
  const url = postgresUrl ?? config.url;
  if (!url) throw new LabkluisError('ERR_CONFIG', 'PostgreSQL needs a URL: set LABKLUIS_PG_URL');
  return createPostgresStore({ connectionString: url });
}

/** An http(s) origin without path, query or credentials: what WebAuthn and DPoP compare against. */
function checkPublicUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LabkluisError('ERR_CONFIG', 'the public URL is not a URL');
  }
  if ((u.protocol !== 'https:' && !(u.protocol === 'http:' && u.hostname === 'localhost')) || u.username || u.password || u.pathname !== '/' || u.search || u.hash) {
    throw new LabkluisError('ERR_CONFIG', 'the public URL is https://host[:port] (http only for localhost), without a path');
  }
  return u.origin;
}

/** A logger that cannot carry personal data by accident: known personal fields are censored. */
export function createLogger(level = process.env.LABKLUIS_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { app: 'labkluis' },
    redact: {
      paths: ['bsn', 'name', 'address', 'birthDate', 'telecom', '*.bsn', '*.name', '*.address', '*.birthDate', '*.telecom', 'authorization', '*.authorization', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}

export async function createApp(options: AppOptions): Promise<App> {
  const { dataDir, storeConfig, kms, origin, clock, random } = options;
  const logger = options.logger ?? createLogger();
  const store = options.store ?? openStore(dataDir, storeConfig, options.postgresUrl);
  await store.migrate();
  const keys = new DataKeys({ store, kms, clock, random });
  const macKey = await keys.current('*', 'audit-mac');
  const audit = new AuditLog({
    store,
    macKey: macKey.key,
    signer: kms.auditSigner,
    origin,
    clock,
    random,
    logger,
    coalesce: store.backend === 'sqlite',
    ...(options.checkpointEvery ? { checkpointEvery: options.checkpointEvery } : {}),
  });
  const node = options.node ?? 'labkluis';
  // The sentinel stands in the vault's path; what it does on containment (end sessions, audit)
  // reaches parts made below, called only once requests flow.
  // Account secrets and security notes are always sealed with AES-GCM (the benchmark's null cipher is for records only).
  const secretCipher = aesGcmCipher(random);
  const alertDelivery = new AlertDelivery({ store: store.sentinel, config: options.alertDelivery ?? {}, clock, random, logger });
  const sentinel: Sentinel = new Sentinel({
    store, clock, random, deliver: (alert) => alertDelivery.enqueue(alert),
    actions: {
      endSessions: (principalId, reason) => sessions.revokeAllOf(principalId, reason, { ip: null, userAgent: null }),
      revokeApiTokens: async (principalId, reason) => {
        const n = await store.revokeApiTokensOf(principalId, clock.now().toISOString());
        if (n > 0) await vault.recordAccountEvent({ kind: 'api-tokens-revoked', reason, principalId, sessionId: null, outcome: 'success' });
        return n;
      },
    },
    events: (e): Promise<void> => vault.recordAccountEvent(e),
    // Sealed under the '*' key that seals account secrets; the AAD names what it is.
    sealNote: async (kind, id, text) => secretCipher.seal(await keys.current('*', 'factor'), { tenant: '*', type: kind, id, version: 1 }, Buffer.from(text, 'utf8')),
    ...(options.sentinelPolicy ? { policy: options.sentinelPolicy } : {}),
    node,
  });
  // What the sentinel's leases let pass is written to the store once a lease ends (leases.ts).
  const leaseFlush = setInterval(() => {
    sentinel.flushLeases().catch((e: unknown) => logger.warn({ code: isLabkluisError(e) ? e.code : 'unknown' }, 'sentinel lease flush failed; retried'));
  }, 1_000);
  leaseFlush.unref();
  const vault: Vault = new Vault({ store, keys, cipher: options.cipher ?? aesGcmCipher(random), audit, clock, random, node, guard: sentinel });
  const publicUrl = checkPublicUrl(options.publicUrl ?? 'http://localhost:8080');
  // SQLite: one process, the cache in memory. PostgreSQL: several nodes may serve one database,
  // so a proof seen by any of them is refused by all (the cache lives in the database).
  const replay = store.backend === 'postgres' ? new StoreReplayCache({ store, clock }) : new MemoryReplayCache({ clock });
  const sessionEvents: SessionEventSink = async (e) => {
    await vault.recordAccountEvent({
      kind: e.kind, reason: e.reason, principalId: e.principalId, sessionId: e.sessionId, ip: e.ip, userAgent: e.userAgent,
      outcome: e.kind === 'session-opened' || e.kind === 'session-refreshed' || e.kind === 'session-revoked' ? 'success' : 'denied',
    });
    // A copied token or a reused refresh token: the device is in other hands. Contain the account.
    if ((e.kind === 'token-replay' || e.kind === 'refresh-reuse') && e.principalId !== null) {
      await sentinel.signal(e.kind, e.principalId, { ip: e.ip, userAgent: e.userAgent });
    }
    if (e.kind === 'session-opened' && e.principalId !== null) await sentinel.sessionOpened(e.principalId, e.sessionId, e.ip);
  };
  const dpopKeys = new DpopKeyCache();
  const sessions = new Sessions({
    store, keys, clock, random, replay, dpopKeys,
    events: sessionEvents,
    ...(options.sessionPolicy ? { policy: options.sessionPolicy } : {}),
  });
  // A session's access token comes as 'DPoP <jwt>' with its proof; a service's API token as
  // 'DPoP lkt_…' with a proof from its registered key. A bearer token of either kind is refused.
  const authenticateRequest = async (r: CredentialRequest): Promise<Principal> => {
    const m = /^(\S+) +(\S+)$/.exec(r.authorization?.trim() ?? '');
    const scheme = m?.[1]?.toLowerCase();
    const token = m?.[2];
    if (token !== undefined && looksLikeAccessToken(token)) return sessions.authenticate(r.authorization, r);
    if (token === undefined || (scheme !== 'bearer' && scheme !== 'dpop')) {
      throw new LabkluisError('ERR_UNAUTHENTICATED', 'this request needs a credential (Authorization: DPoP … or Bearer …)');
    }
    return authenticateApiTokenRequest({ store, clock, replay, events: sessionEvents, dpopKeys }, scheme, token, r);
  };

  const accountEvents = (e: AccountEvent) => vault.recordAccountEvent(e);
  const passkeys = new Passkeys({
    store: store.passkeys, clock, random, rpId: new URL(publicUrl).hostname, rpName: 'labkluis', origins: [publicUrl], challengeTtlSeconds: 600,
  });
  const factors = new Factors({ store, keys, cipher: secretCipher, clock, random, events: accountEvents });
  // One budget of password guesses per account, shared by sign-in and the password change.
  const passwordThrottle = new SignInThrottle({ clock });
  const signIn = new SignIn({ store, passkeys, sessions, factors, throttle: passwordThrottle, replay, clock, random, events: accountEvents });
  const accounts = new AccountAdmin({ store, signIn, sessions, clock, random, events: accountEvents });
  const passkeyFactors = new PasskeyFactors({ store, passkeys, clock, events: accountEvents });
  const passwordChange = new PasswordChange({ store, sessions, throttle: passwordThrottle, clock, random, events: accountEvents });
  const ownSessions = new OwnSessions({ sessions, clock });
  // Its own throttle: failed device approvals must not lock anyone out of signing in.
  const device = new DeviceGrant({ store, sessions, replay, throttle: new SignInThrottle({ clock }), clock, random, events: accountEvents, publicUrl });
  // One budget per app, shared by every server it builds.
  const publicLimiter = new PublicRateLimiter({ clock, ...options.rateLimits });
  // Canary patients (issue 4): written through the vault, read the tenant's style with the records' cipher.
  const canaries = new Canaries({
    vault, store, keys, cipher: options.cipher ?? aesGcmCipher(random), clock, random, events: accountEvents, changed: (t) => sentinel.canariesChanged(t),
  });
  // Four-eyes bulk export (issue 4): reads through the vault, encrypts to the recipient's age key.
  // The requester's reason is sealed like the sentinel's notes: the '*' factor key, the AAD naming it.
  const exportReason = (id: string) => ({ tenant: '*', type: 'ExportReason', id, version: 1 });
  const exports = new ExportService({
    store, vault, keys, clock, random, publicUrl, logger, events: accountEvents,
    sealNote: async (_kind, id, text) => secretCipher.seal(await keys.current('*', 'factor'), exportReason(id), Buffer.from(text, 'utf8')),
    openNote: async (_kind, id, sealed) => secretCipher.open(await keys.version('*', 'factor', secretCipher.keyVersionOf(sealed)), exportReason(id), sealed).toString('utf8'),
    ...(options.exportPolicy ? { policy: options.exportPolicy } : {}),
  });

  // Restore drills (issue 5): reports taken with the drill key; the officer is alerted when the
  // last drill failed or the last good one is too old (checked hourly and on each report).
  const drills = new DrillWatch({
    store, clock, origin, ...(options.drillPolicy ? { policy: options.drillPolicy } : {}),
    raise: async (a) => {
      try {
        await store.safeguards.insertAlert({
          id: a.id, kind: a.kind, principalId: null, tenant: null, subject: a.subject, createdAt: a.createdAt, acknowledgedAt: null, acknowledgedBy: null,
        });
      } catch (e) {
        if (isLabkluisError(e) && e.code === 'ERR_CONFLICT') return; // raised before (its id says what it is about)
        throw e;
      }
      await alertDelivery.enqueue({ id: a.id, kind: a.kind, principalId: null, tenant: null, subject: a.subject, createdAt: a.createdAt, severity: 'high', summary: a.summary, evidence: [] });
    },
    received: (e) => vault.recordAccountEvent({
      kind: 'backup-drill-received', ...(e.reason ? { reason: e.reason } : {}), ...(e.errorCode ? { errorCode: e.errorCode } : {}), principalId: null, sessionId: null,
      ...(e.drillId ? { subject: { type: 'BackupDrill' as const, id: e.drillId } } : {}), outcome: e.outcome, ip: e.ip, userAgent: e.userAgent,
    }),
  });
  // Only a vault that watches drills checks them (no store calls on one that does not).
  const drillCheck = drills.watching ? setInterval(() => {
    drills.check().catch((e: unknown) => logger.warn({ code: isLabkluisError(e) ? e.code : 'unknown' }, 'restore drill check failed; retried'));
  }, 3_600_000) : null;
  drillCheck?.unref();

  return {
    store, vault, audit, keys, logger, sessions, sentinel, canaries, alertDelivery, drills, signIn, accounts, device, factors, publicUrl,
    server: ({ baseUrl = publicUrl, version = VERSION } = {}) => buildServer({
      vault, sentinel, canaries, auth: { signIn, admin: accounts, sessions, device, factors, passkeyFactors, passwordChange, ownSessions }, authenticate: authenticateRequest,
      onRefusedCredential: (facts, error) => vault.recordRefusedCredential(facts, error), logger, baseUrl, version, publicLimiter,
      exports, // four-eyes bulk export routes (issue 4)
      backups: { drills, audit, store }, // restore drills and the audit log's public proofs (issue 5)
      ...(options.authBodyLimitBytes === undefined ? {} : { authBodyLimitBytes: options.authBodyLimitBytes }),
    }),
    exports, // four-eyes bulk export (issue 4)
    close: async () => {
      clearInterval(leaseFlush);
      if (drillCheck) clearInterval(drillCheck);
      await alertDelivery.stop();
      await exports.settled(); // an export run still writing finishes (or fails) before the store closes
      await sentinel.flushLeases(true).catch(() => {}); // counts are detection state: a closed store loses the last second
      await audit.close();
      if (!options.store) await store.close();
    },
  };
}
