/**
 * Accounts of people: passwords (argon2id, the new-password policy, changing one's own), enrolment
 * through one-time links, sign-in with password and passkey, one's own passkeys and sessions,
 * throttling, step-up, account administration and the operator's reset.
 * The only public face of src/accounts.
 */
export { PASSWORD_HASH_PARAMS, dummyVerify, hashPassword, needsRehash, verifyPassword } from './passwords.js';
export { CONTEXT_WORDS, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, checkNewPassword, passwordAdvice } from './password-policy.js';
export type { PasswordContext, PasswordReason, PasswordVerdict } from './password-policy.js';
export { SignIn, USERNAME } from './sign-in.js';
export type { Facts, SignInDeps } from './sign-in.js';
export { AccountAdmin, FIRST_ADMIN_TTL_SECONDS, INVITE_TTL_SECONDS, OPERATOR_RESET_TTL_SECONDS } from './admin.js';
export type { AccountSummary, Invitation, NewAccount, OperatorReset } from './admin.js';
export { MAX_PASSKEYS, PasskeyFactors, passkeyHandle } from './passkey-factors.js';
export type { PasskeyFactorsDeps, PasskeyView } from './passkey-factors.js';
export { SignInThrottle, ACCOUNT_RULE, ADDRESS_RULE } from './throttle.js';
export { PasswordChange } from './password-change.js';
export type { PasswordChangeDeps } from './password-change.js';
export { OwnSessions } from './own-sessions.js';
export type { OwnSessionsDeps } from './own-sessions.js';
export { Factors, RECOVERY_CODES, TOTP_PERIOD_SECONDS } from './factors.js';
export type { ThrottleRule } from './throttle.js';
export { requireStepUp, STEP_UP_MAX_AGE_SECONDS } from '../auth/index.js';
export { DeviceGrant, DEVICE_GRANT_TTL_SECONDS, DEVICE_POLL_INTERVAL_SECONDS, USER_CODE_ALPHABET, normaliseUserCode } from './device-grant.js';
export type { DeviceAuthorisation, DeviceGrantDeps, DeviceTokenError, DeviceTokenResult } from './device-grant.js';
