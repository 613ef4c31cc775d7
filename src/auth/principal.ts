import type { PrincipalRow, Role } from '../store/index.js';
import type { Suspension } from './hygiene.js';

/**
 * Who is acting: a person in a device-bound session (password + passkey), a service with its
 * DPoP-bound API token, or the local operator on the host. The vault sees one shape for all.
 */
export interface Principal {
  readonly id: string;
  readonly kind: 'human' | 'service' | 'local-operator';
  readonly role: Role | 'importer';
  /** Tenants this principal may act for; '*' means every tenant (lab staff). */
  readonly tenants: readonly string[];
  readonly instrument: string | null;
  readonly displayName: string;
  readonly authMethod: 'api-token' | 'local-cli' | 'session';
  /** The API token id, or the session id for a signed-in person. */
  readonly credentialId: string | null;
  /** Signed-in people only: when the last second-factor assertion was made (step-up needs a recent one). */
  readonly authenticatedAt?: string;
  /** Signed-in people only: powers suspended by access hygiene (see hygiene.ts). */
  readonly suspended?: Suspension;
  /**
   * Whether the sentinel held a live containment of the principal when this request was
   * authenticated (read with the principal's row, so it holds across nodes). Absent when the
   * principal was not read from the store (tools, tests): the sentinel then asks the store.
   */
  readonly contained?: boolean;
}

export const ALL_TENANTS = '*';

export function principalFromRow(row: PrincipalRow, credentialId: string): Principal {
  return Object.freeze({
    id: row.id,
    kind: row.kind,
    role: row.role,
    tenants: Object.freeze([...row.tenants]),
    instrument: row.instrument,
    displayName: row.displayName,
    authMethod: 'api-token',
    credentialId,
    ...(row.contained === undefined ? {} : { contained: row.contained }),
  });
}

/** A signed-in person, through a live device-bound session. */
export function principalFromSession(row: PrincipalRow, session: { id: string; authenticatedAt: string }, suspended: Suspension | null = null): Principal {
  return Object.freeze({
    id: row.id,
    kind: row.kind,
    role: row.role,
    tenants: Object.freeze([...row.tenants]),
    instrument: row.instrument,
    displayName: row.displayName,
    authMethod: 'session',
    credentialId: session.id,
    authenticatedAt: session.authenticatedAt,
    ...(suspended ? { suspended } : {}),
    ...(row.contained === undefined ? {} : { contained: row.contained }),
  });
}

/**
 * The operator at the machine running `labkluis import` or `demo`: may create records and
 * tenants, reads nothing, and is audited under the OS user name.
 */
export function localImporter(osUser: string): Principal {
  return Object.freeze({
    id: `local-${osUser.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 50)}`,
    kind: 'local-operator',
    role: 'importer',
    tenants: Object.freeze([ALL_TENANTS]),
    instrument: null,
    displayName: `cli:${osUser}`,
    authMethod: 'local-cli',
    credentialId: null,
  });
}

export function mayActFor(principal: Principal, tenant: string): boolean {
  return principal.tenants.includes(ALL_TENANTS) || principal.tenants.includes(tenant);
}
