/**
 * The tamper-evident NEN 7513 audit log: entries, RFC 6962 Merkle tree, HMAC chain,
 * C2SP signed checkpoints, verification and FHIR AuditEvent rendering.
 */
export { AuditLog } from './audit-log.js';
export type { AuditLogOptions, AuditLogger } from './audit-log.js';
export { toAuditEvent } from './audit-event.js';
export { canonicalBytes, canonicalJson, parseCanonical } from './canonical-json.js';
export type { JsonValue } from './canonical-json.js';
export {
  checkpointText, ed25519NoteSigner, keyHash, openCheckpoint, openNote, parseVerifierKey, signCheckpoint, signNote,
  verifierKeyString,
} from './checkpoint.js';
export type { Checkpoint, NoteSigner, VerifierKey } from './checkpoint.js';
export { checkDraft, ENTRY_VERSION, PURPOSES_OF_USE } from './entry.js';
export type {
  AccessPoint, AuditAction, AuditDraft, AuditEntry, AuditObject, AuditOutcome, AuditPrincipal, PurposeOfUse,
} from './entry.js';
export {
  consistencyProof, EMPTY_ROOT, frontierAppend, frontierRoot, HASH_SIZE, inclusionProof, leafHash, merkleRoot,
  nodeHash, verifyConsistency, verifyInclusion, verifySubtreeInclusion,
} from './merkle.js';
export { consistencyProofFor, inclusionProofFor } from './proof.js';
export { chainMac, createSealer, MIN_MAC_KEY_BYTES } from './seal.js';
export type { SealerDeps } from './seal.js';
export { verifyAuditLog, verifyAuditRows } from './verify.js';
export type { VerifyAuditLogOptions, VerifyOptions, VerifyResult } from './verify.js';
