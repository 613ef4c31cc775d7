/**
 * Renders a sealed audit row as a FHIR R4 AuditEvent (http://hl7.org/fhir/R4/auditevent.html),
 * for the security officer's audit search and the patient access report. The leaf is the
 * authority: the event is built from the verified canonical entry, not from index columns.
 * R4 has no AuditEvent.identifier, so the log position (seq, the RFC 6962 leaf index) is given
 * as an entity identifier, next to the event id.
 */
// '.js': under NodeNext ESM resolution a bare 'fhir/r4' does not find @types/fhir/r4.d.ts.
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from 'fhir/r4.js';
import { LabkluisError } from '../kernel/index.js';
import type { AuditRow } from '../store/types.js';
import { canonicalJson, parseCanonical } from './canonical-json.js';
import type { AuditEntry, AuditOutcome } from './entry.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const LABKLUIS = 'https://labkluis.nl/fhir';

/** NEN 7513 operations that are FHIR RESTful interactions; the rest get a labkluis code. */
const INTERACTIONS: Readonly<Record<string, string>> = {
  read: 'read', vread: 'vread', search: 'search-type', create: 'create', update: 'update',
  delete: 'delete', transaction: 'transaction', history: 'history-instance',
};

/** AuditEvent.outcome: 0 success, 4 minor failure (refused), 8 serious failure. */
const OUTCOME: Readonly<Record<AuditOutcome, '0' | '4' | '8'>> = { success: '0', denied: '4', failed: '8' };

function entryOf(row: AuditRow): AuditEntry {
  const value = parseCanonical(row.leaf) as unknown as AuditEntry;
  if (value === null || typeof value !== 'object' || value.seq !== row.seq) {
    throw new LabkluisError('ERR_INTEGRITY', 'audit leaf does not match its row');
  }
  return value;
}

function agents(e: AuditEntry): AuditEventAgent[] {
  const purpose = [{ coding: [{ system: ACT_REASON, code: e.purposeOfUse }] }];
  const requestor: AuditEventAgent = {
    requestor: true,
    who: e.principal === null
      ? { display: 'unauthenticated' }
      : { identifier: { system: `${LABKLUIS}/principal`, value: e.principal.id }, display: e.principal.handle },
    purposeOfUse: purpose,
    network: { address: e.accessPoint.ip, type: '2' }, // 2 = IP address
  };
  if (e.principal !== null) requestor.role = [{ coding: [{ system: `${LABKLUIS}/CodeSystem/role`, code: e.principal.role }] }];
  const out = [requestor];
  // R4 has no agent.onBehalfOf: the organisation acted for is its own, responsible agent.
  if (e.actingFor !== null) {
    out.push({
      requestor: false,
      type: { coding: [{ system: PARTICIPATION, code: 'RESP', display: 'responsible party' }] },
      who: { reference: `Organization/${e.actingFor}` },
    });
  }
  return out;
}

function entities(e: AuditEntry): AuditEventEntity[] {
  const patients = e.patients.map((p): AuditEventEntity => ({
    what: { reference: `Patient/${p}` },
    type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
    role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
  }));
  const objects = e.objects.map((o): AuditEventEntity => {
    const entity: AuditEventEntity = { type: { system: ENTITY_TYPE, code: '2', display: 'System Object' } };
    if (o.id !== undefined) {
      entity.what = { reference: `${o.type}/${o.id}${o.version === undefined ? '' : `/_history/${o.version}`}` };
      entity.role = { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' };
    } else {
      entity.name = o.type;
    }
    if (o.query !== undefined) {
      entity.role = { system: OBJECT_ROLE, code: '24', display: 'Query' };
      entity.query = Buffer.from(canonicalJson(o.query), 'utf8').toString('base64'); // blind tokens only
    }
    return entity;
  });
  const position: AuditEventEntity = {
    what: { identifier: { system: `${LABKLUIS}/audit-log-seq`, value: String(e.seq) } },
    type: { system: ENTITY_TYPE, code: '4', display: 'Other' },
    description: 'position in the tamper-evident audit log (RFC 6962 leaf index)',
  };
  return [...patients, ...objects, position];
}

export function toAuditEvent(row: AuditRow): AuditEvent {
  const e = entryOf(row);
  const subtype: Coding = e.operation in INTERACTIONS
    ? { system: RESTFUL, code: INTERACTIONS[e.operation]! }
    : { system: `${LABKLUIS}/CodeSystem/audit-operation`, code: e.operation };
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: e.id,
    type: e.patients.length > 0
      ? { system: DCM, code: '110110', display: 'Patient Record' }
      : { system: EVENT_TYPE, code: 'rest', display: 'RESTful Operation' },
    subtype: [subtype],
    action: e.action,
    recorded: e.time,
    outcome: OUTCOME[e.outcome],
    purposeOfEvent: [{ coding: [{ system: ACT_REASON, code: e.purposeOfUse }] }],
    agent: agents(e),
    source: {
      observer: { display: e.accessPoint.node },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    entity: entities(e),
  };
  if (e.errorCode !== null) event.outcomeDesc = e.errorCode;
  if (e.tenant !== null) event.source.site = e.tenant;
  // Break-glass: NEN 7513 emergency flag as the BTG security label (HL7 v3 ActReason).
  if (e.emergency) event.meta = { security: [{ system: ACT_REASON, code: 'BTG', display: 'break the glass' }] };
  return event;
}
