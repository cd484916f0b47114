// JWTs for the auth tests, made with node:crypto: good ones for an issuer
// from oidc.mjs, and the forgeries a verifier must refuse.
//
//   const token = mint(idp);                                   // valid access token
//   mint(idp, { kid, claims: { scope: 'mcp/tools' } });        // claims merged over the defaults
//   mint(idp, { claims: { token_use: undefined } });           // undefined drops a claim
//   mint(idp, { key: attacker, header: { jku: url } });        // signed with another key
//   forgeAlgNone(idp), forgeHs256WithPem(idp), tamperPayload(t, {...}), tamperSignature(t),
//   malformBase64url(t, 'plus' | 'pad'), oversized(idp)
import crypto from 'node:crypto';

// The client id the auth tests allow (--allowed-clients).
export const CLIENT_ID = 'mcpd-test-client';
export const OVERSIZE_BYTES = 8 * 1024;

export function b64url(data) {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
  return buf.toString('base64url');
}

// Splits a token into its parts (no verification).
export function decode(token) {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    claims: JSON.parse(Buffer.from(p, 'base64url')),
    signature: Buffer.from(s ?? '', 'base64url'),
    segments: [h, p, s],
  };
}

function dropUndefined(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

export const now = () => Math.floor(Date.now() / 1000);

// The claims of a Cognito access token from `idp` for CLIENT_ID, valid for an hour.
export function accessClaims(idp, overrides = {}) {
  const t = now();
  return dropUndefined({
    sub: 'c0ffee00-0000-4000-8000-000000000001',
    iss: idp.issuer,
    token_use: 'access',
    scope: 'mcp/tools openid',
    client_id: CLIENT_ID,
    username: 'tester',
    auth_time: t,
    iat: t,
    exp: t + 3600,
    jti: crypto.randomUUID(),
    ...overrides,
  });
}

// What turns the default access token into a Cognito ID token: aud instead
// of client_id, no scope.  Use as mint(idp, { claims: idToken({ aud }) }).
export function idToken(overrides = {}) {
  return {
    token_use: 'id',
    aud: CLIENT_ID,
    client_id: undefined,
    scope: undefined,
    username: undefined,
    'cognito:username': 'tester',
    email: 'tester@example.com',
    ...overrides,
  };
}

const RSA_HASH = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

// The `header.payload` part that gets signed.
export function signingInput(header, claims) {
  return `${b64url(header)}.${b64url(claims)}`;
}

// Signs `input` the way `alg` says, with a node KeyObject (or an HMAC secret).
function sign(alg, input, key) {
  if (RSA_HASH[alg]) return crypto.sign(RSA_HASH[alg], Buffer.from(input), key);
  if (alg === 'PS256') {
    return crypto.sign('sha256', Buffer.from(input), { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING });
  }
  if (alg === 'ES256') return crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  if (alg === 'HS256') return crypto.createHmac('sha256', key).update(input).digest();
  if (alg === 'none') return Buffer.alloc(0);
  throw new Error(`tokens.mjs cannot sign ${alg}`);
}

// A signed JWT.  kid: which issuer key signs (default: idp.defaultKid);
// key: a key from oidc.mjs makeKey() to sign with instead (the kid header
// stays `kid`, or that key's kid); claims: merged over accessClaims(idp);
// header: merged over {alg, typ, kid}; undefined values drop a field.
export function mint(idp, { kid, key, claims = {}, header = {}, rawClaims } = {}) {
  const signer = key ?? idp.key(kid);
  const h = dropUndefined({ alg: 'RS256', typ: 'JWT', kid: kid ?? signer.kid, ...header });
  const c = rawClaims ?? accessClaims(idp, claims);
  const input = signingInput(h, c);
  return `${input}.${b64url(sign(h.alg, input, signer.privateKey))}`;
}

// alg "none" with an empty signature, claims otherwise valid.
export function forgeAlgNone(idp, { kid, claims = {}, alg = 'none' } = {}) {
  const h = { alg, typ: 'JWT', kid: kid ?? idp.defaultKid };
  return `${signingInput(h, accessClaims(idp, claims))}.`;
}

// HS256 with the issuer's public key PEM as the HMAC secret: the classic
// RS256 -> HS256 key confusion (libjwt 1.10.2 falls for it, see LIBRARY-NOTES).
export function forgeHs256WithPem(idp, { kid, claims = {} } = {}) {
  const k = idp.key(kid);
  const h = { alg: 'HS256', typ: 'JWT', kid: k.kid };
  const input = signingInput(h, accessClaims(idp, claims));
  return `${input}.${b64url(crypto.createHmac('sha256', k.publicPem).update(input).digest())}`;
}

// New claims, re-encoded, under the original header and signature.
export function tamperPayload(token, changes) {
  const { claims, segments } = decode(token);
  return `${segments[0]}.${b64url(dropUndefined({ ...claims, ...changes }))}.${segments[2]}`;
}

// The same token with one bit of its signature flipped.
export function tamperSignature(token) {
  const { signature, segments } = decode(token);
  signature[signature.length >> 1] ^= 0x01;
  return `${segments[0]}.${segments[1]}.${b64url(signature)}`;
}

// A valid token spelled in a way strict base64url forbids, decoding to the
// same bytes under a lenient decoder: 'plus' uses the +/ alphabet, 'pad'
// adds = padding to the signature.  A verifier that accepts it is lenient.
export function malformBase64url(token, kind = 'plus') {
  const [h, p, s] = token.split('.');
  if (kind === 'pad') {
    const padded = (x) => x + '='.repeat((4 - (x.length % 4)) % 4);
    if (s.length % 4 !== 0) return `${h}.${p}.${padded(s)}`;
    if (p.length % 4 !== 0) return `${h}.${padded(p)}.${s}`;
    return `${h}.${p}.${s}==`; // nothing needs padding: stray '=' at the end
  }
  const std = (x) => x.replace(/-/g, '+').replace(/_/g, '/');
  const out = `${std(h)}.${std(p)}.${std(s)}`;
  if (out !== token) return out;
  return `${h}.${p.slice(0, 4)}+${p.slice(4)}.${s}`; // no - or _ anywhere: insert a '+'
}

// A correctly signed token longer than 8 KiB (a padding claim).
export function oversized(idp, { kid, bytes = OVERSIZE_BYTES + 512 } = {}) {
  return mint(idp, { kid, claims: { filler: 'x'.repeat(bytes) } });
}
