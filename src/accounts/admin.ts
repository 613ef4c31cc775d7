/**
 * Accounts of people: an admin invites (a one-time enrolment link, never a password), disables
 * (every session ends at once) and re-issues links; a security officer ends all sessions of an
 * account. There are no default passwords: the first admin gets a link from `labkluis init`.
 * Every action is audited; admin actions need a fresh step-up.
 */
import { ALL_TENANTS, RECERTIFICATION_DAYS, TRAINING_DAYS, type Principal } from '../auth/index.js';
import { conflict, forbidden, invalidInput, notFound, randomId, type Clock, type Random } from '../kernel/index.js';
import type { Sessions } from '../sessions/index.js';
import { ROLES, type PrincipalRow, type AlertRow, type RecertificationRow, type Role, type Store, type TrainingRow } from '../store/index.js';
import type { AccountEvent } from '../vault/index.js';
import { USERNAME, type Facts, type SignIn } from './sign-in.js';
import { requireStepUp } from '../auth/index.js';

/** Links to enrol live 72 hours; the first admin's and the operator's reset links 24. */
export const INVITE_TTL_SECONDS = 72 * 3600;
export const FIRST_ADMIN_TTL_SECONDS = 24 * 3600;
export const OPERATOR_RESET_TTL_SECONDS = 24 * 3600;
const HUMAN_ROLES: readonly Role[] = ROLES.filter((r) => r !== 'instrument');

export interface NewAccount {
  readonly username: unknown;
  readonly displayName: unknown;
  readonly role: unknown;
  readonly tenants: unknown;
  readonly totpAllowed?: unknown;
}

export interface Invitation {
  readonly principalId: string;
  readonly username: string;
  readonly secret: string;
  readonly expiresAt: string;
}

/** What an operator reset did, besides making the link. */
export interface OperatorReset extends Invitation {
  readonly role: Role;
  readonly sessionsEnded: number;
  readonly passkeysRemoved: number;
  /** Earlier enrolment links of the account that were still unused and now never work. */
  readonly linksVoided: number;
}

/** One line of the operator's account list: no personal data beyond the username (a handle). */
export interface AccountSummary {
  readonly principalId: string;
  readonly username: string;
  readonly role: Role;
  readonly disabled: boolean;
  readonly passkeys: number;
  readonly totp: boolean;
  readonly recoveryCodes: number;
}

export class AccountAdmin {
  readonly #store: Store;
  readonly #signIn: SignIn;
  readonly #sessions: Sessions;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #events: (e: AccountEvent) => Promise<void>;

  constructor(deps: { store: Store; signIn: SignIn; sessions: Sessions; clock: Clock; random: Random; events: (e: AccountEvent) => Promise<void> }) {
    this.#store = deps.store;
    this.#signIn = deps.signIn;
    this.#sessions = deps.sessions;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#events = deps.events;
  }

  /** An admin invites a person: the account exists without password or factor until they enrol. */
  async invite(by: Principal, input: NewAccount, facts: Facts): Promise<Invitation> {
    await this.#guard(by, 'admin', 'inviting a person', facts);
    const account = checkNewAccount(input);
    for (const t of account.tenants) {
      if (t !== ALL_TENANTS && (await this.#store.getTenant(t)) === null) throw invalidInput('tenants: one of them is not a tenant of this lab');
    }
    const created = await this.#create(account, false);
    await this.#certify(created.principalId, account.role, account.tenants, by.id);
    const link = await this.#signIn.createEnrolmentLink({ principalId: created.principalId, purpose: 'invite', createdBy: by.id, ttlSeconds: INVITE_TTL_SECONDS });
    await this.#event('account-invited', by, created.principalId, facts);
    return { principalId: created.principalId, username: account.username, ...link };
  }

  /**
   * The first admin, made by `labkluis init` on the server itself: only while no person has an
   * account, so it cannot be used to add a second admin later.
   */
  async firstAdmin(username: string, facts: Facts): Promise<Invitation> {
    if (!USERNAME.test(username)) throw invalidInput('a username is 3-64 lowercase letters, digits, dots, dashes or underscores');
    if (await this.#store.accounts.anyAccount()) throw conflict('there are accounts already: an admin invites further people');
    const created = await this.#create({ username, displayName: username, role: 'admin', tenants: [ALL_TENANTS], totpAllowed: false }, false);
    await this.#certify(created.principalId, 'admin', [ALL_TENANTS], 'local-operator');
    const link = await this.#signIn.createEnrolmentLink({ principalId: created.principalId, purpose: 'first-admin', createdBy: null, ttlSeconds: FIRST_ADMIN_TTL_SECONDS });
    await this.#events({ kind: 'account-invited', reason: 'first-admin', principalId: created.principalId, sessionId: null, outcome: 'success', ip: facts.ip, userAgent: facts.userAgent });
    return { principalId: created.principalId, username, ...link };
  }

  /** A new one-time link for someone who lost their passkey or never finished enrolling. */
  async reissueLink(by: Principal, principalId: string, facts: Facts): Promise<Invitation> {
    await this.#guard(by, 'admin', 'issuing an enrolment link', facts);
    const account = await this.#store.accounts.getAccount(principalId);
    const target = await this.#store.getPrincipal(principalId);
    if (account === null || target === null) throw notFound('no such account');
    // A reset link is a way into the account: one admin must not take over another admin or the
    // security officer (who watches the admins). Those reset through recovery codes.
    if (target.role === 'admin' || target.role === 'security-officer') {
      throw forbidden('admin and security-officer accounts are not reset by link: use a recovery code');
    }
    const link = await this.#signIn.createEnrolmentLink({ principalId, purpose: 'reset', createdBy: by.id, ttlSeconds: INVITE_TTL_SECONDS });
    await this.#event('enrolment-link-issued', by, principalId, facts);
    return { principalId, username: account.username, ...link };
  }

  /**
   * Recovery when everything is lost (`labkluis account reset` on the server itself): the one
   * way back into an admin or security-officer account, which no admin may reset by link. Only
   * the local operator, who holds the keyring and the data directory and so could do anything
   * anyway, may call it. At once every factor is removed and every session ends (whoever holds
   * the old passkey, TOTP secret or a recovery code is out), earlier unused links stop working,
   * and a fresh one-time link (24 hours) is the only way in. The caller audits the action.
   */
  async resetByOperator(by: Principal, username: string, facts: Facts): Promise<OperatorReset> {
    if (by.authMethod !== 'local-cli') throw forbidden('an account is reset this way only by the operator at the server');
    if (!USERNAME.test(username)) throw invalidInput('a username is 3-64 lowercase letters, digits, dots, dashes or underscores');
    const account = await this.#store.accounts.findAccountByUsername(username);
    const target = account === null ? null : await this.#store.getPrincipal(account.principalId);
    if (account === null || target === null || target.kind !== 'human') throw notFound(`no account named ${username}`);
    if (target.disabled) throw conflict(`the account ${username} is disabled: a disabled account is not reset`);
    const linksVoided = await this.#store.accounts.voidEnrolmentLinksOf(target.id, this.#clock.now().toISOString());
    const gone = await this.#signIn.forgetFactors(target.id, { reason: 'operator-reset', sessionsEndedBecause: 'reset-by-operator' }, facts);
    const link = await this.#signIn.createEnrolmentLink({ principalId: target.id, purpose: 'reset', createdBy: by.id, ttlSeconds: OPERATOR_RESET_TTL_SECONDS });
    return {
      principalId: target.id, username: account.username, role: target.role, ...link,
      sessionsEnded: gone.sessions, passkeysRemoved: gone.passkeys, linksVoided,
    };
  }

  /** The operator's overview (`labkluis account list`): who has an account and how they sign in. */
  async listForOperator(by: Principal): Promise<AccountSummary[]> {
    if (by.authMethod !== 'local-cli') throw forbidden('the account list is for the operator at the server');
    const out: AccountSummary[] = [];
    for (const a of await this.#store.accounts.listAccounts()) {
      const p = await this.#store.getPrincipal(a.principalId);
      if (p === null) continue;
      out.push({
        principalId: p.id, username: a.username, role: p.role, disabled: p.disabled,
        passkeys: (await this.#store.passkeys.listCredentials(p.id)).length,
        totp: (await this.#store.safeguards.getTotp(p.id)) !== null,
        recoveryCodes: await this.#store.safeguards.countRecoveryCodes(p.id),
      });
    }
    return out;
  }

  /** Disabling ends every session of the account at once: the next request fails. */
  async disable(by: Principal, principalId: string, facts: Facts): Promise<{ sessionsEnded: number }> {
    await this.#guard(by, 'admin', 'disabling an account', facts);
    if (principalId === by.id) throw forbidden('an admin cannot disable their own account');
    const row = await this.#store.getPrincipal(principalId);
    if (row === null || row.kind !== 'human') throw notFound('no such account');
    await this.#store.setPrincipalDisabled(principalId, true);
    const sessionsEnded = await this.#sessions.revokeAllOf(principalId, 'account-disabled', facts);
    await this.#event('account-disabled', by, principalId, facts);
    return { sessionsEnded };
  }

  /** A security officer (or admin) ends every session of an account, e.g. on a suspected theft. */
  async revokeSessions(by: Principal, principalId: string, facts: Facts): Promise<{ sessionsEnded: number }> {
    await this.#guard(by, 'security-officer', "ending an account's sessions", facts);
    const sessionsEnded = await this.#sessions.revokeAllOf(principalId, 'revoked-by-security-officer', facts);
    await this.#event('sessions-revoked', by, principalId, facts);
    return { sessionsEnded };
  }

  /**
   * Records a person's security-awareness training. Without a current one their clinical access
   * is suspended (the vault refuses it) until an admin records the next.
   */
  async recordTraining(by: Principal, principalId: string, input: { completedAt: unknown; expiresAt?: unknown }, facts: Facts): Promise<TrainingRow> {
    await this.#guard(by, 'admin', 'recording training', facts);
    if ((await this.#store.accounts.getAccount(principalId)) === null) throw notFound('no such account');
    const now = this.#clock.now();
    const completed = isoDate(input.completedAt, 'completedAt');
    if (completed > now.toISOString()) throw invalidInput('completedAt lies in the future');
    const expires = input.expiresAt === undefined
      ? new Date(Date.parse(completed) + TRAINING_DAYS * 86_400_000).toISOString()
      : isoDate(input.expiresAt, 'expiresAt');
    if (expires <= completed) throw invalidInput('expiresAt must lie after completedAt');
    const row: TrainingRow = { principalId, completedAt: completed, expiresAt: expires, recordedBy: by.id, recordedAt: now.toISOString() };
    await this.#store.safeguards.recordTraining(row);
    await this.#event('training-recorded', by, principalId, facts);
    return row;
  }

  /** Quarterly recertification: an admin other than the person confirms the current role and tenants. */
  async recertify(by: Principal, principalId: string, facts: Facts): Promise<RecertificationRow> {
    await this.#guard(by, 'admin', 'recertifying an account', facts);
    if (principalId === by.id) throw forbidden('nobody recertifies their own account');
    const row = await this.#store.getPrincipal(principalId);
    if (row === null || row.kind !== 'human') throw notFound('no such account');
    const cert = await this.#certify(principalId, row.role, row.tenants, by.id);
    await this.#event('account-recertified', by, principalId, facts);
    return cert;
  }

  /** The security officer's list of alerts (break-glass and, later, the sentinel's), newest first. */
  async alerts(by: Principal, open: boolean, facts: Facts): Promise<AlertRow[]> {
    await this.#guard(by, 'security-officer', 'reading alerts', facts, false);
    return this.#store.safeguards.listAlerts({ open, limit: 200 });
  }

  async acknowledgeAlert(by: Principal, id: string, facts: Facts): Promise<{ acknowledged: boolean }> {
    await this.#guard(by, 'security-officer', 'acknowledging an alert', facts, false);
    const acknowledged = await this.#store.safeguards.acknowledgeAlert(id, by.id, this.#clock.now().toISOString());
    if (acknowledged) await this.#event('alert-acknowledged', by, { type: 'Alert', id }, facts);
    return { acknowledged };
  }

  async #certify(principalId: string, role: Role, tenants: readonly string[], by: string): Promise<RecertificationRow> {
    const now = this.#clock.now();
    const row: RecertificationRow = {
      principalId, role, tenants: [...tenants], certifiedBy: by, certifiedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + RECERTIFICATION_DAYS * 86_400_000).toISOString(),
    };
    await this.#store.safeguards.recordRecertification(row);
    return row;
  }

  async #create(a: CheckedAccount, disabled: boolean): Promise<{ principalId: string }> {
    const principalId = randomId(this.#random);
    const now = this.#clock.now().toISOString();
    const principal: PrincipalRow = {
      id: principalId, kind: 'human', role: a.role, tenants: a.tenants, instrument: null, displayName: a.displayName, disabled, createdAt: now,
    };
    await this.#store.accounts.insertAccount(principal, {
      principalId, username: a.username, passwordHash: null, passwordChangedAt: null, totpAllowed: a.totpAllowed, createdAt: now,
    });
    return { principalId };
  }

  /** Role check first, then step-up; a refusal is audited like every other. */
  async #guard(by: Principal, role: 'admin' | 'security-officer', what: string, facts: Facts, stepUp = true): Promise<void> {
    try {
      const allowed = role === 'admin' ? by.role === 'admin' : by.role === 'security-officer' || by.role === 'admin';
      if (!allowed) throw forbidden(`${what} is for the ${role} role`);
      if (by.suspended === 'recertification-lapsed') throw forbidden("this account's role lapsed: an approver must recertify it");
      if (stepUp) requireStepUp(by, this.#clock, what);
      else if (by.authMethod === 'api-token') throw forbidden(`${what} is for signed-in people`);
    } catch (e) {
      await this.#events({ kind: 'account-admin', reason: 'refused', principalId: by.id, sessionId: by.authMethod === 'session' ? by.credentialId : null, outcome: 'denied', errorCode: 'ERR_FORBIDDEN', ip: facts.ip, userAgent: facts.userAgent });
      throw e;
    }
  }

  async #event(kind: string, by: Principal, subject: string | { type: 'Account' | 'Alert'; id: string }, facts: Facts): Promise<void> {
    await this.#events({
      kind, principalId: by.id, sessionId: by.authMethod === 'session' ? by.credentialId : null,
      subject: typeof subject === 'string' ? { type: 'Account', id: subject } : subject, outcome: 'success', ip: facts.ip, userAgent: facts.userAgent,
    });
  }
}

interface CheckedAccount {
  readonly username: string;
  readonly displayName: string;
  readonly role: Role;
  readonly tenants: string[];
  readonly totpAllowed: boolean;
}

function isoDate(v: unknown, name: string): string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw invalidInput(`${name}: a date (YYYY-MM-DD) or UTC time`);
  }
  return new Date(v).toISOString();
}

function checkNewAccount(input: NewAccount): CheckedAccount {
  const { username, displayName, role, tenants, totpAllowed } = input;
  if (typeof username !== 'string' || !USERNAME.test(username)) throw invalidInput('username: 3-64 lowercase letters, digits, dots, dashes or underscores');
  if (typeof displayName !== 'string' || !/^[\p{L}\p{N} .'-]{2,64}$/u.test(displayName)) throw invalidInput('displayName: 2-64 letters, digits, spaces, dots, dashes');
  if (typeof role !== 'string' || !(HUMAN_ROLES as readonly string[]).includes(role)) throw invalidInput(`role: one of ${HUMAN_ROLES.join(', ')}`);
  if (!Array.isArray(tenants) || tenants.length === 0 || tenants.length > 100 || !tenants.every((t) => typeof t === 'string' && (t === ALL_TENANTS || /^[a-z0-9-]{4,64}$/.test(t)))) {
    throw invalidInput("tenants: a list of tenant ids, or ['*'] for lab staff");
  }
  if (totpAllowed !== undefined && typeof totpAllowed !== 'boolean') throw invalidInput('totpAllowed: true or false');
  return { username, displayName, role: role as Role, tenants: [...new Set(tenants as string[])], totpAllowed: totpAllowed === true };
}
