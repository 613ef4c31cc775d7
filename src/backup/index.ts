/**
 * Backups that ransomware cannot erase or read (issue 5). Built so far: content-defined
 * chunking, chunks sealed to offline age recipients, signed and chained manifests, the dir:
 * target, the append-only receiver and its HTTP target, a store's snapshot written as a backup
 * and restored into an empty store of either backend, verify without the decryption key, and
 * keyring escrow. Not yet: the `backup`, `backup verify`, `restore` and `restore-drill`
 * commands, the server's drill status, the benchmark.
 */
export { Chunker, chunksOf, checkChunkSizes, DEFAULT_CHUNK_SIZES } from './chunker.js';
export type { ChunkSizes } from './chunker.js';
export { checkChain, manifestHash, manifestText, MANIFEST_FORMAT, openManifest, signManifest } from './manifest.js';
export type { ChainProblem, Manifest, ManifestObject, OpenedManifest } from './manifest.js';
export { checkRecipients, objectId, ObjectSealer, openObject } from './objects.js';
export type { SealedObject } from './objects.js';
export { DirTarget } from './targets/dir-target.js';
export { HttpTarget } from './targets/http-target.js';
export { buildReceiver, PRUNE_CONTEXT } from './receiver/receiver.js';
export type { ReceiverOptions } from './receiver/receiver.js';
export { manifestName, MANIFEST_NAME, OBJECT_NAME } from './targets/target.js';
export type { BackupTarget } from './targets/target.js';
export { verifyTarget } from './verify.js';
export type { ObjectProblem, VerifyOptions, VerifyReport } from './verify.js';
export { writeSnapshot } from './writer.js';
export { restoreFromTarget } from './restore.js';
export type { RestoreSummary } from './restore.js';
export { decodeTables, storeSource } from './snapshot-codec.js';
export { escrowKeyring, openEscrow } from './escrow.js';
export type { SnapshotIndex, SnapshotSource, SnapshotTable, WriteOptions, WriteSummary } from './writer.js';
