/**
 * The key-management boundary. The local keyring file implements it today; a HashiCorp Vault
 * transit or HSM adapter implements the same four members later. Key-encryption keys never
 * leave the KMS: callers get wrapped data keys and an Ed25519 signer for audit checkpoints.
 */
export interface Signer {
  readonly name: string; // key name in C2SP signed notes
  readonly publicKey: Buffer; // raw 32-byte Ed25519 public key
  sign(message: Buffer): Buffer;
}

export interface Kms {
  /** Identifies the key-encryption key that wrap() uses now. */
  readonly kekId: string;
  /** Encrypts a data key; `context` is bound as associated data (tenant, purpose, version). */
  wrap(key: Buffer, context: string): Promise<Buffer>;
  /** Decrypts a data key wrapped by the KEK `kekId`; fails with ERR_DECRYPTION_FAILED. */
  unwrap(wrapped: Buffer, kekId: string, context: string): Promise<Buffer>;
  readonly auditSigner: Signer;
  /** Signs backup manifests (issue 5): a key of its own, not the audit checkpoints'. */
  readonly backupSigner: Signer;
}
