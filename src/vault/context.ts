import { forbidden, invalidInput } from '../kernel/index.js';
import { ID_PATTERN } from '../domain/index.js';
import { ALL_TENANTS, mayActFor, type Principal } from '../auth/index.js';
import { defaultPurpose, mayClaimPurpose, PURPOSES } from './policy.js';

/** Everything the vault needs to know about one request besides its payload. */
export interface AccessContext {
  readonly principal: Principal;
  readonly tenant: string;
  readonly purposeOfUse: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** Break-glass: the request claims ETREAT; reads then need a live grant for the patient. */
  readonly emergency: boolean;
}

export interface RequestFacts {
  readonly tenant?: string | null | undefined;
  readonly purposeOfUse?: string | null | undefined;
  readonly ip?: string | null | undefined;
  readonly userAgent?: string | null | undefined;
}

/**
 * Picks the tenant a request acts for: the one named (it must be one of the principal's), or
 * the principal's only tenant. A principal of tenant A can never name tenant B. '*' (all
 * tenants) is accepted only from a principal that holds '*', and only the audit reads use it.
 */
export function accessContext(principal: Principal, facts: RequestFacts): AccessContext {
  let tenant = facts.tenant ?? null;
  if (tenant !== null) {
    if (!ID_PATTERN.test(tenant) && tenant !== ALL_TENANTS) throw invalidInput('the tenant header is not a valid id');
    if (!mayActFor(principal, tenant)) throw forbidden('this principal does not act for that tenant');
  } else {
    const named = principal.tenants.filter((t) => t !== ALL_TENANTS);
    if (named.length !== 1 || principal.tenants.includes(ALL_TENANTS)) {
      throw invalidInput('this principal acts for several tenants: name one in the X-Labkluis-Tenant header');
    }
    tenant = named[0]!;
  }
  const purpose = facts.purposeOfUse ?? defaultPurpose(principal.role);
  if (!PURPOSES.includes(purpose)) throw invalidInput(`unknown purpose of use (one of: ${PURPOSES.join(', ')})`);
  if (!mayClaimPurpose(principal.role, purpose)) throw forbidden(`role '${principal.role}' may not claim that purpose of use`);
  return Object.freeze({
    principal,
    tenant,
    purposeOfUse: purpose,
    ip: facts.ip ?? null,
    userAgent: facts.userAgent ? facts.userAgent.slice(0, 256) : null,
    emergency: purpose === 'ETREAT',
  });
}
