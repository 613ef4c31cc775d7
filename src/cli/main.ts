#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { readConfig } from '../config/index.js';
import { loadLocalKeyring } from '../crypto/index.js';
import { isLabkluisError, systemRandom } from '../kernel/index.js';
import { VERSION } from '../app.js';
import { accountList, accountReset } from './commands/account.js';
import { auditVerify } from './commands/audit-verify.js';
import { canaryList, canarySeed } from './commands/canary.js';
import { demo } from './commands/demo.js';
import { importFile } from './commands/import.js';
import { keyringEscrow, keyringRestore } from './commands/keyring.js';
import { backup, backupKey, backupVerify, recordedNewest } from './commands/backup.js';
import { restore } from './commands/restore.js';
import { createIdentityFile } from './key-files.js';
import { restoreDrill, restoreDrillKey } from './commands/restore-drill.js';
import { backupAdminKey, backupPrune, backupReceiver } from './commands/receiver.js';
import { init } from './commands/init.js';
import { login, logout } from './commands/login.js';
import { proof } from './commands/proof.js';
import { serve } from './commands/serve.js';
import { tokenCreate, tokenRevoke } from './commands/token.js';
import { auditOperatorAction } from './operator.js';
import { openApp } from './open-app.js';
import { resolvePaths, type PathOptions } from './paths.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

type DrillCommandArgs = { from: string; identity: string; escrow: string; escrowIdentity?: string; drillKey: string; production: string; report?: string; scratch?: string };

/** Exit codes: 0 done, 1 verification failed or the vault could not do it, 2 bad input or usage. */
class ExitError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

const positiveInt = (name: string) => (v: string) => {
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`);
  return Number(v);
};
const port = (v: string) => {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError('the port must be 0..65535');
  return Number(v);
};

function paths(cmd: Command) {
  return resolvePaths(cmd.optsWithGlobals<PathOptions>());
}

export function program(): Command {
  const p = new Command('labkluis')
    .description('A FHIR R4 results vault for clinical and screening laboratories')
    .version(VERSION)
    .option('--data <dir>', 'data directory (or LABKLUIS_DATA)')
    .option('--keyring <file>', 'keyring file, outside the data directory (or LABKLUIS_KEYRING)')
    .showHelpAfterError(false)
    .exitOverride();

  p.command('init')
    .description('create the data directory and the keyring (refuses to overwrite either)')
    .addOption(new Option('--store <kind>', 'storage backend').choices(['sqlite', 'postgres']).default('sqlite'))
    .option('--pg-url <url>', 'PostgreSQL URL (better: LABKLUIS_PG_URL, so no password is written to disk)')
    .option('--origin <name>', 'audit log origin, host/name')
    .option('--admin <username>', 'username of the first admin (who gets a one-time enrolment link)', 'admin')
    .option('--public-url <url>', 'URL people use to reach this server (or LABKLUIS_PUBLIC_URL)', process.env.LABKLUIS_PUBLIC_URL ?? 'http://localhost:8080')
    .action(async (o: { store: 'sqlite' | 'postgres'; pgUrl?: string; origin?: string; admin: string; publicUrl: string }, cmd: Command) => {
      await init(paths(cmd), o, out);
    });

  p.command('serve')
    .description('serve the FHIR API')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port', port, 8080)
    .action(async (o: { host: string; port: number }, cmd: Command) => {
      const app = await openApp(paths(cmd), { logLevel: 'info' });
      await serve(app, o, out);
    });

  p.command('import')
    .description('import a FHIR transaction Bundle (JSON) or NDJSON of resources or bundles; atomic per bundle')
    .argument('<file>', 'the file to import')
    .requiredOption('--tenant <id>', 'the tenant (client organisation) the data belongs to')
    .action(async (file: string, o: { tenant: string }, cmd: Command) => {
      const app = await openApp(paths(cmd));
      try {
        const summary = await importFile(app, file, o.tenant);
        out(`imported ${summary.resources} resources in ${summary.transactions} transaction(s) into tenant ${o.tenant}`);
      } finally {
        await app.close();
      }
    });

  const token = p.command('token').description('API tokens for principals');
  token.command('create')
    .description('create a principal and print its API token (shown once)')
    .requiredOption('--role <role>', 'registrar, analyst, validator, requester, instrument, security-officer or admin')
    .requiredOption('--tenant <id...>', "tenant(s) it acts for; '*' for lab-wide staff")
    .requiredOption('--name <handle>', 'a handle such as analyst-07 (not a person\'s name)')
    .option('--instrument <device>', 'for role instrument: the Device id it reports for')
    .option('--ttl-days <days>', 'expiry in days (default 90)', positiveInt('--ttl-days'))
    .option('--public-key <file>', "the service's DPoP public key (JWK, EC P-256 or Ed25519): the token works only with proofs from it")
    .option('--new-key <file>', 'or: create a new key pair in this file (mode 0600) for the service, and bind the token to it')
    .action(async (o: { role: string; tenant: string[]; name: string; instrument?: string; ttlDays?: number; publicKey?: string; newKey?: string }, cmd: Command) => {
      const app = await openApp(paths(cmd));
      try {
        const t = await tokenCreate(app, o);
        out(`principal ${t.principalId} (${o.role}, service) created; key thumbprint ${t.jkt}`);
        out(`token (shown once, expires ${t.expiresAt ?? 'never'}; send as 'Authorization: DPoP <token>' with a proof from the key, see 'labkluis proof'):`);
        out(t.token);
      } finally {
        await app.close();
      }
    });

  token.command('revoke')
    .description('revoke an API token at once (a retired service, or a key that may be lost)')
    .argument('<id>', 'the token id (after lkt_, before the dot) or the whole token')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const app = await openApp(paths(cmd));
      try {
        const r = await tokenRevoke(app, id);
        out(r.alreadyRevoked ? `token ${r.id} was already revoked` : `token ${r.id} revoked`);
      } finally {
        await app.close();
      }
    });

  p.command('proof')
    .description('print a DPoP proof for one request with an API token (for curl and scripts)')
    .argument('<method>', 'the HTTP method, e.g. GET')
    .argument('<url>', 'the full URL of the request')
    .requiredOption('--key <file>', "the service's private key file (see token create --new-key)")
    .option('--token <token>', 'the API token sent with the request')
    .action(async (method: string, url: string, o: { key: string; token?: string }) => {
      out(await proof(method, url, o));
    });

  const account = p.command('account').description("people's accounts, from the server itself (needs the data directory and keyring)");
  account.command('reset')
    .description('remove every factor and session of an account (admins included) and print a one-time enrolment link (24 h)')
    .argument('<username>', 'the account to reset')
    .action(async (username: string, _o: unknown, cmd: Command) => {
      const app = await openApp(paths(cmd));
      try {
        await accountReset(app, username, out);
      } finally {
        await app.close();
      }
    });
  account.command('list')
    .description('every account: username, role, status and its sign-in factors (no personal data)')
    .action(async (_o: unknown, cmd: Command) => {
      const app = await openApp(paths(cmd));
      try {
        await accountList(app, out);
      } finally {
        await app.close();
      }
    });

  // Canary patients (issue 4): on the server, like `account`.
  const canary = p.command('canary').description('canary patients: synthetic patients that contain whoever touches one (needs the data directory and keyring)');
  canary.command('seed')
    .description('seed canary patients in a tenant, written like its own records')
    .requiredOption('--tenant <id>', 'the tenant')
    .requiredOption('--count <n>', 'how many (1 to 50)', (v: string) => (/^\d{1,9}$/.test(v) ? Number(v) : Number.NaN))
    .action(async (o: { tenant: string; count: number }, cmd: Command) => {
      const app = await openApp(paths(cmd));
      try {
        await canarySeed(app, o, out);
      } finally {
        await app.close();
      }
    });
  canary.command('list')
    .description("a tenant's canary patients: pseudonym, when and by whom")
    .requiredOption('--tenant <id>', 'the tenant')
    .action(async (o: { tenant: string }, cmd: Command) => {
      const app = await openApp(paths(cmd));
      try {
        await canaryList(app, o.tenant, out);
      } finally {
        await app.close();
      }
    });

  // Backups (issue 5): snapshots sealed to offline recipients, at a dir: target or a receiver.
  const backupCmd = p.command('backup')
    .description('back up the whole vault (a consistent snapshot while the server runs) to the configured target, sealed to the offline recipients')
    .option('--to <target>', 'dir:/path or a receiver URL (default: backup.target in labkluis.json)')
    .option('--recipient <age1...>', 'offline age recipients (default: backup.recipients in labkluis.json)')
    .action(async (o: { to?: string; recipient?: string[] }, cmd: Command) => {
      const ps = paths(cmd);
      const config = readConfig(ps.dataDir);
      const target = o.to ?? config.backup?.target;
      const recipients = o.recipient ?? config.backup?.recipients;
      if (target === undefined || recipients === undefined) throw new ExitError('say where and to whom: --to and --recipient, or backup.target and backup.recipients in labkluis.json', 2);
      const kms = loadLocalKeyring({ path: ps.keyringPath, dataDir: ps.dataDir, random: systemRandom });
      const app = await openApp(ps);
      try {
        await backup(app, kms, ps.dataDir, { target, recipients }, out);
        await auditOperatorAction(app, 'E', 'backup', [{ type: 'Backup' }]);
      } finally {
        await app.close();
      }
    });
  backupCmd.command('verify')
    .description('check a backup target without the decryption key: signatures, the chain, every object; exit 1 naming what is wrong')
    .option('--from <target>', 'dir:/path or a receiver URL (default: backup.target in labkluis.json)')
    .option('--key <vkey>', "the backup key (as 'backup' prints it); default: from the keyring")
    .option('--read-data <share>', 'share of the objects whose bytes are read and hashed, 0 to 1', (v: string) => Number(v), 1)
    .action(async (o: { from?: string; key?: string; readData: number }, cmd: Command) => {
      const ps = paths(cmd);
      if (!(o.readData >= 0 && o.readData <= 1)) throw new ExitError('--read-data is a share from 0 to 1', 2);
      const config = o.from === undefined || o.key === undefined ? readConfig(ps.dataDir) : null;
      const target = o.from ?? config?.backup?.target;
      if (target === undefined) throw new ExitError('say which target: --from, or backup.target in labkluis.json', 2);
      const key = o.key ?? backupKey(loadLocalKeyring({ path: ps.keyringPath, dataDir: ps.dataDir, random: systemRandom }));
      const newest = await recordedNewest(ps.dataDir, target);
      const report = await backupVerify({ target, key, readData: o.readData, ...(newest ? { newest } : {}) }, out);
      if (!report.ok) throw new ExitError('backup FAILED verification (see above)', 1);
    });

  backupCmd.command('key')
    .description("print the vault's backup key (its public half): for the receiver's --backup-key and for backup verify --key elsewhere")
    .action(async (_o: unknown, cmd: Command) => {
      const ps = paths(cmd);
      out(backupKey(loadLocalKeyring({ path: ps.keyringPath, dataDir: ps.dataDir, random: systemRandom })));
    });
  backupCmd.command('identity')
    .description('create an offline age identity in a new file (mode 0600); prints its recipient (age1…) for --recipient, backup.recipients or keyring escrow --to')
    .requiredOption('--out <file>', 'the identity file to write (must not exist)')
    .option('--post-quantum', 'the ML-KEM-768 + X25519 hybrid (age1pq1…) instead of X25519')
    .action(async (o: { out: string; postQuantum?: boolean }) => {
      out(await createIdentityFile(o.out, o.postQuantum === true));
    });
  backupCmd.command('admin-key')
    .description("create the receiver's offline admin key (the only key that prunes) in a new file; prints its public half")
    .requiredOption('--out <file>', 'the key file to create')
    .action(async (o: { out: string }) => {
      await backupAdminKey(o, out);
    });
  backupCmd.command('prune')
    .description('ask a receiver to drop snapshots received before a time, signed with the offline admin key (never inside its retention floor)')
    .requiredOption('--at <url>', "the receiver's URL")
    .requiredOption('--admin-key-file <file>', 'the admin key file')
    .requiredOption('--before <time>', 'ISO-8601: snapshots received before it go')
    .option('--receiver <id>', "the receiver's id (in receiver-id in its root): refuse to sign for any other that answers at --at")
    .action(async (o: { at: string; adminKeyFile: string; before: string; receiver?: string }) => {
      await backupPrune(o, out);
    });
  p.command('backup-receiver')
    .description('serve an append-only backup receiver (for another host); the upload token is LABKLUIS_RECEIVER_TOKEN')
    .requiredOption('--root <dir>', 'where it keeps what it receives')
    .requiredOption('--admin-key <vkey>', "the admin key's public half, as 'backup admin-key' printed it")
    .requiredOption('--backup-key <vkey>', "the vault's backup key, as 'backup key' prints it: manifests signed with anything else are refused")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port', port, 8440)
    .option('--retention-days <n>', 'nothing received within this many days is pruned', (v: string) => (/^\d{1,5}$/.test(v) ? Number(v) : Number.NaN), 35)
    .action(async (o: { root: string; adminKey: string; backupKey: string; host: string; port: number; retentionDays: number }) => {
      await backupReceiver(o, out);
    });

  p.command('restore')
    .description('restore a snapshot into a new data directory with an empty store (either backend), with the offline identity and the keyring')
    .requiredOption('--from <target>', 'dir:/path or a receiver URL')
    .requiredOption('--identity <file>', 'the offline age identity file (AGE-SECRET-KEY-1…)')
    .option('--snapshot <n>', 'the snapshot by sequence number (default: the newest)', (v: string) => (/^\d{1,8}$/.test(v) ? Number(v) : Number.NaN))
    .addOption(new Option('--store <kind>', 'storage backend of the restored vault').choices(['sqlite', 'postgres']).default('sqlite'))
    .option('--pg-url <url>', 'PostgreSQL URL (better: LABKLUIS_PG_URL)')
    .action(async (o: { from: string; identity: string; snapshot?: number; store: 'sqlite' | 'postgres'; pgUrl?: string }, cmd: Command) => {
      if (o.snapshot !== undefined && !Number.isInteger(o.snapshot)) throw new ExitError('--snapshot is a sequence number', 2);
      await restore(paths(cmd), o, out);
    });

  // Restore drills (issue 5): on the backup host, never on production.
  const drill = p.command('restore-drill')
    .description('on the backup host: restore the newest snapshot into a scratch store, check it and production\'s log, write a signed report and hand it to production; exit 1 if it failed')
    .option('--from <target>', 'dir:/path or a receiver URL')
    .option('--identity <file>', 'the offline age identity file the snapshots are sealed to')
    .option('--escrow <file>', "the keyring escrow file ('keyring escrow')")
    .option('--escrow-identity <file>', 'an age identity the escrow is sealed to (default: --identity)')
    .option('--drill-key <file>', "the drill key file ('restore-drill key')")
    .option('--production <url>', "the production server's public URL")
    .option('--no-submit', 'write the report only; do not hand it to production')
    .option('--report <file>', 'the signed report file to write (default: labkluis-drill-<time>.txt here)')
    .option('--scratch <dir>', 'where the scratch store is made and removed (default: the temp directory)')
    .option('--sample <n>', 'records to decrypt, of results and of identities each', positiveInt('--sample'), 100)
    .option('--max-snapshot-age <hours>', 'how old the newest snapshot may be before the drill fails (backups have stopped)', positiveInt('--max-snapshot-age'), 48)
    .action(async (o: Partial<DrillCommandArgs> & { submit: boolean; sample: number; maxSnapshotAge: number }) => {
      const missing = (['from', 'identity', 'escrow', 'drillKey', 'production'] as const).filter((k) => o[k] === undefined);
      if (missing.length > 0) throw new ExitError(`restore-drill needs ${missing.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`, 2);
      const report = await restoreDrill({ ...(o as DrillCommandArgs & { submit: boolean; sample: number }), maxSnapshotAgeHours: o.maxSnapshotAge }, out);
      if (report.outcome !== 'passed') throw new ExitError('restore drill FAILED (see above)', 1);
    });
  drill.command('key')
    .description("create the drill key (on the backup host) in a new file; prints its public half for production's backup.drill.key")
    .requiredOption('--out <file>', 'the key file to write (must not exist)')
    .action(async (o: { out: string }) => {
      await restoreDrillKey(o, out);
    });

  // Keyring escrow (issue 5): apart from the data backups, sealed to offline recipients.
  const keyring = p.command('keyring').description('the keyring: escrow to offline recipients, and recovery from escrow');
  keyring.command('escrow')
    .description('seal the keyring to offline age recipients (each can recover it alone) in a new file')
    .requiredOption('--to <recipient...>', 'age public keys (age1…), one or more')
    .requiredOption('--out <file>', 'the escrow file to write (must not exist)')
    .action(async (o: { to: string[]; out: string }, cmd: Command) => {
      await keyringEscrow(paths(cmd), o, out);
    });
  keyring.command('restore')
    .description('recover the keyring from an escrow file with one recipient\'s identity, as a new file at --keyring')
    .requiredOption('--escrow <file>', 'the escrow file')
    .requiredOption('--identity <file>', 'an age identity file (AGE-SECRET-KEY-1…)')
    .action(async (o: { escrow: string; identity: string }, cmd: Command) => {
      await keyringRestore(paths(cmd), o, out);
    });

  const audit = p.command('audit').description('the NEN 7513 audit log');
  audit.command('verify')
    .description('recompute the whole log and its signed checkpoints; exit 1 naming the first bad entry')
    .action(async (_o: unknown, cmd: Command) => {
      const ps = paths(cmd);
      const config = readConfig(ps.dataDir);
      const kms = loadLocalKeyring({ path: ps.keyringPath, dataDir: ps.dataDir, random: systemRandom });
      const app = await openApp(ps);
      try {
        const result = await auditVerify(app, kms, config.origin);
        if (!result.ok) {
          await auditOperatorAction(app, 'E', 'verify', [{ type: 'AuditLog' }], 'failed').catch(() => {});
          throw new ExitError(`audit log FAILED verification at entry ${result.seq}: ${result.reason}`, 1);
        }
        await auditOperatorAction(app, 'E', 'verify', [{ type: 'AuditLog' }]);
        out(`audit log verified: ${result.size} entries, ${result.checkpoints} signed checkpoints, root ${result.root.toString('base64')}`);
      } finally {
        await app.close();
      }
    });

  p.command('demo')
    .description('initialise (if needed) and load a clearly synthetic demo dataset; optionally serve it')
    .option('--patients <n>', 'synthetic patients per tenant', positiveInt('--patients'), 40)
    .option('--serve', 'serve the API afterwards')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port', port, 8080)
    .action(async (o: { patients: number; serve?: boolean; host: string; port: number }, cmd: Command) => {
      await demo(paths(cmd), o, out);
    });

  p.command('login')
    .description('sign this machine in: approve a code in the browser with your passkey (RFC 8628); tokens are bound to a key file')
    .requiredOption('--server <url>', "the server's public URL, https://host[:port]")
    .option('--key <path>', 'DPoP key file, created if absent (or LABKLUIS_DEVICE_KEY; default ~/.config/labkluis/device-key.json)')
    .action(async (o: { server: string; key?: string }) => {
      await login({ server: o.server, keyPath: o.key }, out);
    });

  p.command('logout')
    .description('end the session of `labkluis login` and remove its tokens from this machine')
    .option('--server <url>', 'the server (default: the one signed in to)')
    .option('--key <path>', 'DPoP key file (default: the one signed in with)')
    .action(async (o: { server?: string; key?: string }) => {
      await logout({ server: o.server, keyPath: o.key }, out);
    });
  return p;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) return 2; // commander printed the message
    if (e instanceof ExitError) {
      process.stderr.write(`labkluis: ${e.message}\n`);
      return e.exitCode;
    }
    if (isLabkluisError(e)) {
      const detail = e.issues.length > 0 ? ` (${e.issues.slice(0, 3).map((i) => (i.expression ? `${i.expression}: ${i.diagnostics}` : i.diagnostics)).join('; ')})` : '';
      process.stderr.write(`labkluis: ${e.message}${detail}\n`);
      const clientMistake = ['ERR_INVALID_INPUT', 'ERR_INVALID_RESOURCE', 'ERR_CONFLICT', 'ERR_CONFIG', 'ERR_KEYRING', 'ERR_NOT_FOUND', 'ERR_FORBIDDEN', 'ERR_UNSUPPORTED'];
      return clientMistake.includes(e.code) ? 2 : 1;
    }
    process.stderr.write('labkluis: unexpected failure (run with LABKLUIS_LOG_LEVEL=debug for details)\n');
    if (process.env.LABKLUIS_LOG_LEVEL === 'debug') console.error(e);
    return 1;
  }
}
