/**
 * /web/webauthn.js: passkeys through navigator.credentials (WebAuthn L2 §5.1.3, §5.1.4). The
 * server's options JSON carries byte fields as base64url; the browser wants ArrayBuffers, and
 * the server wants the RegistrationResponseJSON / AuthenticationResponseJSON shapes back.
 */
export const webauthnJs = String.raw`// Passkeys: options JSON from the server in, response JSON for the server out (WebAuthn L2).
import { fromBase64url, toBase64url } from './base64url.js';

const withIds = (list) => (list ?? []).map((c) => ({ ...c, id: fromBase64url(c.id) }));

// authenticatorAttachment is left out when the browser does not know it (null).
const common = (credential) => ({
  id: credential.id,
  rawId: toBase64url(credential.rawId),
  type: credential.type,
  clientExtensionResults: credential.getClientExtensionResults(),
  ...(credential.authenticatorAttachment ? { authenticatorAttachment: credential.authenticatorAttachment } : {}),
});

/** Registers a new passkey for the options from /auth/enrol/start. */
export async function createPasskey(options) {
  const publicKey = {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: { ...options.user, id: fromBase64url(options.user.id) },
    excludeCredentials: withIds(options.excludeCredentials),
  };
  const credential = await navigator.credentials.create({ publicKey });
  const r = credential.response;
  return {
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      attestationObject: toBase64url(r.attestationObject),
      transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
    },
  };
}

/** Signs the challenge from /auth/sign-in or /auth/step-up/start with a passkey. */
export async function usePasskey(options) {
  const publicKey = { ...options, challenge: fromBase64url(options.challenge), allowCredentials: withIds(options.allowCredentials) };
  const credential = await navigator.credentials.get({ publicKey });
  const r = credential.response;
  return {
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      authenticatorData: toBase64url(r.authenticatorData),
      signature: toBase64url(r.signature),
      ...(r.userHandle ? { userHandle: toBase64url(r.userHandle) } : {}),
    },
  };
}

/** What to tell a person when the browser's passkey prompt fails (the DOMException names of §5.1.3/§5.1.4). */
export function passkeyTrouble(error) {
  switch (error?.name) {
    case 'NotAllowedError': return 'The passkey prompt was cancelled or timed out. Try again.';
    case 'InvalidStateError': return 'This authenticator already holds a passkey for this account.';
    case 'SecurityError': return 'This page is not on the address passkeys were set up for.';
    case 'NotSupportedError': return 'This browser or authenticator cannot make a suitable passkey.';
    default: return null;
  }
}
`;
