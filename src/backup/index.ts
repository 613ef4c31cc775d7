/**
 * Backups that ransomware cannot erase or read (issue 5). Built so far: content-defined
 * chunking, chunks sealed to offline age recipients, signed and chained manifests, the dir:
 * target. Not yet: the snapshot of the stores, the receiver, the CLI, verify, restore, escrow
 * and drills.
 */
export { Chunker, chunksOf, checkChunkSizes, DEFAULT_CHUNK_SIZES } from './chunker.js';
export type { ChunkSizes } from './chunker.js';
export { checkChain, manifestHash, manifestText, MANIFEST_FORMAT, openManifest, signManifest } from './manifest.js';
export type { ChainProblem, Manifest, ManifestObject, OpenedManifest } from './manifest.js';
export { checkRecipients, objectId, ObjectSealer, openObject } from './objects.js';
export type { SealedObject } from './objects.js';
export { DirTarget } from './targets/dir-target.js';
export { manifestName, MANIFEST_NAME, OBJECT_NAME } from './targets/target.js';
export type { BackupTarget } from './targets/target.js';
