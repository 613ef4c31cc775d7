/**
 * Accounts: how human passwords are stored and which new passwords are accepted.
 * The only public face of src/accounts.
 */
export { PASSWORD_HASH_PARAMS, dummyVerify, hashPassword, needsRehash, verifyPassword } from './passwords.js';
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, checkNewPassword, passwordAdvice } from './password-policy.js';
export type { PasswordContext, PasswordReason, PasswordVerdict } from './password-policy.js';
