/**
 * The passkey contract cases on MemoryPasskeyStore, the reference implementation the
 * database backends are held to (it keeps no principals: any principal id will do).
 */
import { describe } from 'vitest';
import { MemoryPasskeyStore } from '../../src/passkeys/index.js';
import { rid } from '../support/store-fixtures.js';
import { describePasskeyCases } from './contract-passkeys.js';

describe('PasskeyStore contract: memory', () => {
  const store = new MemoryPasskeyStore();
  describePasskeyCases({ passkeys: () => store, newPrincipal: async () => rid('prn') });
});
