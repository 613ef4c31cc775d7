/** PostgreSQL's column decoding (native arrays, booleans and bytea[]) for the shared row mappers. */
import { rowMappers } from '../row-mapping.js';

export const {
  toTenant, toPrincipal, toApiToken, toDataKey, toPerson, toResource, toAudit, toCheckpoint, toHead,
} = rowMappers({
  strings: (v) => v as string[],
  flag: (v) => v === true,
  frontier: (v) => v as Buffer[],
});
