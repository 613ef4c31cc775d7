import { LabkluisError, randomId, type Clock, type Random } from '../kernel/index.js';
import { ROLES, type PrincipalRow, type Role, type Store } from '../store/index.js';
import { ALL_TENANTS } from './principal.js';

export interface NewPrincipal {
  readonly role: string;
  readonly tenants: readonly string[];
  readonly displayName: string;
  readonly instrument?: string | null;
  readonly kind?: 'human' | 'service';
}

const HANDLE = /^[a-z0-9][a-z0-9._-]{1,62}$/;

/** Validates and stores a principal. Handles, not names: a principal row never holds personal data of patients. */
export async function createPrincipal(deps: { store: Store; clock: Clock; random: Random }, input: NewPrincipal): Promise<PrincipalRow> {
  if (!(ROLES as readonly string[]).includes(input.role)) {
    throw new LabkluisError('ERR_INVALID_INPUT', `unknown role '${input.role}' (one of: ${ROLES.join(', ')})`);
  }
  const role = input.role as Role;
  if (!HANDLE.test(input.displayName)) {
    throw new LabkluisError('ERR_INVALID_INPUT', 'the display handle must be 2-63 lowercase letters, digits, dot, dash or underscore');
  }
  if (input.tenants.length === 0) throw new LabkluisError('ERR_INVALID_INPUT', 'a principal needs at least one tenant');
  for (const t of input.tenants) {
    if (t === ALL_TENANTS) {
      if (role === 'requester' || role === 'instrument') {
        throw new LabkluisError('ERR_INVALID_INPUT', `a ${role} acts for named tenants only, not '*'`);
      }
      continue;
    }
    if (!(await deps.store.getTenant(t))) throw new LabkluisError('ERR_INVALID_INPUT', `unknown tenant '${t}'`);
  }
  const instrument = input.instrument ?? null;
  if ((role === 'instrument') !== (instrument !== null)) {
    throw new LabkluisError('ERR_INVALID_INPUT', 'an instrument principal needs --instrument <device id>, and only it');
  }
  const row: PrincipalRow = {
    id: randomId(deps.random),
    kind: input.kind ?? (role === 'instrument' ? 'service' : 'human'),
    role,
    tenants: [...new Set(input.tenants)],
    instrument,
    displayName: input.displayName,
    disabled: false,
    createdAt: deps.clock.now().toISOString(),
  };
  await deps.store.insertPrincipal(row);
  return row;
}
