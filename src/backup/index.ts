/**
 * Backups that ransomware cannot erase or read (issue 5). Built so far: content-defined
 * chunking, chunks packed and sealed to offline age recipients (in threads of their own), signed and chained manifests, the dir:
 * target, the append-only receiver and its HTTP target, a store's snapshot written as a backup
 * and restored into an empty store of either backend, verify without the decryption key, and
 * keyring escrow, and restore drills (drill/: the drill on the backup host, its signed report,
 * and production's watch over the last one).
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
export { packHere, reusable, writePacked, writeSnapshot } from './writer.js';
export { packInWorker } from './pack-worker.js';
export { restoreFromTarget } from './restore.js';
export type { RestoreSummary, RestoreWatch } from './restore.js';
export { decodeTables, storeSource } from './snapshot-codec.js';
export { packStore, writeStoreSnapshot } from './store-threads.js';
export { escrowKeyring, openEscrow } from './escrow.js';
export { DRILL_CHECKS, DRILL_FORMAT, DRILL_KEY_NAME, DRILL_REQUEST_HEADER, openDrillReport, signDrillReport, signDrillRequest } from './drill/drill-report.js';
export type { DrillCheck, DrillCheckName, DrillReport } from './drill/drill-report.js';
export { DEFAULT_DRILL_MAX_AGE_DAYS, DrillWatch } from './drill/drill-watch.js';
export type { DrillAlert, DrillPolicy, DrillState, DrillStatus, DrillSummary } from './drill/drill-watch.js';
export { httpProductionLog } from './drill/production-log.js';
export type { ProductionLog } from './drill/production-log.js';
export { runRestoreDrill } from './drill/restore-drill.js';
export type { DrillOptions, DrillResult } from './drill/restore-drill.js';
export type { Packing, SnapshotIndex, SnapshotSource, SnapshotTable, WriteOptions, WriteSummary } from './writer.js';
