/** The FHIR R4 domain: resources, validation, references, search and index inputs. */
export { BSN_SYSTEM, SYNTHETIC_BSN_PREFIX, isValidBsn, syntheticBsn } from './bsn.js';
export {
  ACT_REASON_SYSTEM, ADVICE, ADVICE_CODES, ADVICE_SYSTEM, AGB_SYSTEM, BARCODE_SYSTEM, CYTOLOGY_COMPONENT_SYSTEM, HTEST,
  INTERPRETATION_CODES, INTERPRETATION_SYSTEM, KOPAC_B_COMPONENT, KOPAC_B_PATTERN, KOPAC_B_SYSTEM, LAB_TESTS, LOINC, LOINC_CODES,
  ORGANIZATION_KINDS, ORGANIZATION_KIND_SYSTEM, PAP_CLASSES, PAP_SYSTEM, QUALITATIVE, QUALITATIVE_CODES, SNOMED, SPECIMEN_TYPES,
  SPECIMEN_TYPE_CODES, labTest, papCode,
} from './codes.js';
export type { Code, LabTest, OrganizationKind, PapClass, Qualitative, ValueKind } from './codes.js';
export type {
  Bundle, BundleEntry, CodeableConcept, Coding, DiagnosticReport, FhirResource, Identifier, Meta, Observation, OperationOutcome,
  Organization, Patient, Reference, Resource, ServiceRequest, Specimen,
} from './fhir-types.js';
export { civilDate, isFhirDate, isFhirDateTime, isFhirInstant, isoStart, timeRange } from './fhir-time.js';
export { validateResource, MAX_ISSUES } from './validate.js';
export type { ValidateOptions, ValidatedResource } from './validate.js';
export { LAB_RESOURCE_TYPES, isLabResourceType } from './resource-check.js';
export type { LabResource, LabResourceType } from './resource-check.js';
export { MAX_BUNDLE_ENTRIES } from './bundle.js';
export { AGB_PATTERN } from './organization.js';
export { BARCODE_PATTERN, SPECIMEN_STATUSES } from './specimen.js';
export { OBSERVATION_STATUSES } from './observation.js';
export { DIAGNOSTIC_REPORT_STATUSES } from './diagnostic-report.js';
export { SERVICE_REQUEST_INTENTS, SERVICE_REQUEST_STATUSES } from './service-request.js';
export {
  ID_PATTERN, URN_UUID_PATTERN, formatPath, formatReference, listReferences, parseReference, referencedId, resolveBundleReferences,
  rewriteReferences,
} from './references.js';
export type { FoundReference, ParsedReference, Path, ReferenceMapping } from './references.js';
export { indexFieldsOf } from './index-fields.js';
export type { IndexFields, IndexToken } from './index-fields.js';
export { DEFAULT_COUNT, MAX_COUNT, SEARCH_PARAMS, parseSearch } from './search-params.js';
export type { SearchQuery, SearchType, TokenTerm } from './search-params.js';
