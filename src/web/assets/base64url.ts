/** /web/base64url.js: bytes to and from base64url without padding (RFC 4648 §5), as WebAuthn and JOSE use it. */
export const base64urlJs = String.raw`// base64url without padding (RFC 4648 §5): the encoding of WebAuthn's JSON forms and of JOSE.

export function toBase64url(bytes) {
  let binary = '';
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

export const utf8 = (text) => new TextEncoder().encode(text);
`;
