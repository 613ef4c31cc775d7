/** A snapshot taken from a store's address (Store.snapshotAddress), in whatever thread calls it. */
import { postgresSnapshot } from './postgres/postgres-snapshot.js';
import type { SnapshotAddress, StoreSnapshot } from './snapshot-tables.js';
import { sqliteSnapshot } from './sqlite/sqlite-snapshot.js';

export async function openSnapshot(address: SnapshotAddress): Promise<StoreSnapshot> {
  return address.kind === 'sqlite' ? sqliteSnapshot(address.path) : postgresSnapshot(address.connectionString);
}
