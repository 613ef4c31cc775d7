/// <reference types="fhir" />
/**
 * FHIR R4 types from @types/fhir, re-exported as a module.
 *
 * Why not `import type { Patient } from 'fhir/r4'`: under this project's NodeNext module
 * resolution TypeScript 5.9 does not resolve that subpath of @types/fhir (the package has no
 * "exports" map), while the package's global `fhir4` namespace always works. Everything in
 * labkluis can import these names from '../domain/index.js' instead.
 */
export type Resource = fhir4.Resource;
export type FhirResource = fhir4.FhirResource;
export type Patient = fhir4.Patient;
export type Organization = fhir4.Organization;
export type ServiceRequest = fhir4.ServiceRequest;
export type Specimen = fhir4.Specimen;
export type Observation = fhir4.Observation;
export type DiagnosticReport = fhir4.DiagnosticReport;
export type Bundle<T extends fhir4.Resource = fhir4.FhirResource> = fhir4.Bundle<T>;
export type BundleEntry<T extends fhir4.Resource = fhir4.FhirResource> = fhir4.BundleEntry<T>;
export type OperationOutcome = fhir4.OperationOutcome;
export type Reference = fhir4.Reference;
export type Coding = fhir4.Coding;
export type CodeableConcept = fhir4.CodeableConcept;
export type Identifier = fhir4.Identifier;
export type Meta = fhir4.Meta;
