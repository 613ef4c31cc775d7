export type { Kms, Signer } from './kms.js';
export { createLocalKeyring, installKeyringText, keyringFromText, loadLocalKeyring, readKeyringText, assertOutsideDataDir } from './local-keyring.js';
export { aesGcmCipher, nullCipherForBenchmarkOnly, aadOf } from './envelope.js';
export type { RecordCipher, RecordAddress, DataKey } from './envelope.js';
export { blindToken } from './blind-index.js';
export { DataKeys } from './data-keys.js';
export { ed25519FromSeed, ed25519Verify } from './ed25519.js';
