import { SEARCH_PARAMS } from '../domain/index.js';
import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestResourceInteraction } from 'fhir/r4.js';

/**
 * What this server really does: no more (an auditor may hold us to it), no less.
 * Kept next to routes.ts; test/api checks that each advertised interaction answers.
 */
// Search parameters come from the domain's own table, so the statement cannot drift from parseSearch.
const SEARCH: Record<string, string[]> = {
  ...Object.fromEntries(Object.entries(SEARCH_PARAMS).map(([type, params]) => [type, Object.keys(params)])),
  AuditEvent: ['patient', 'agent', 'date'],
};
const TYPES: Record<string, string> = {
  identifier: 'token', _id: 'token', subject: 'reference', patient: 'reference', status: 'token', code: 'token', date: 'date',
  specimen: 'reference', 'based-on': 'reference', agent: 'reference',
};

const UPDATABLE = new Set(['ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport']);
const VERSIONED_READ = new Set(['ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport']);

export function capabilityStatement(version: string, date: string): CapabilityStatement {
  const resources: CapabilityStatementRestResource[] = Object.entries(SEARCH).map(([type, params]) => {
    const interaction: CapabilityStatementRestResourceInteraction[] = [{ code: 'read' }];
    if (type !== 'AuditEvent') interaction.push({ code: 'create' });
    if (params.length) interaction.push({ code: 'search-type' });
    if (UPDATABLE.has(type)) interaction.push({ code: 'update' });
    if (VERSIONED_READ.has(type)) interaction.push({ code: 'vread' });
    return {
      type: type as CapabilityStatementRestResource['type'],
      interaction,
      versioning: UPDATABLE.has(type) ? 'versioned-update' : 'versioned',
      readHistory: false,
      updateCreate: false,
      conditionalCreate: false,
      conditionalUpdate: false,
      conditionalDelete: 'not-supported',
      searchParam: [...params, '_count', '_cursor'].map((name) => ({ name, type: (TYPES[name] ?? 'special') as 'token' })),
    };
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    kind: 'instance',
    software: { name: 'labkluis', version },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [{
      mode: 'server',
      security: {
        cors: false,
        description: 'Every request needs an API token (Authorization: Bearer lkt_…). Deny by default; every access is audited (NEN 7513). '
          + 'Name the tenant with X-Labkluis-Tenant when a principal acts for several.',
      },
      resource: resources,
      interaction: [{ code: 'transaction' }],
    }],
  };
}
