// Checks an AWS SigV4 request as AWS would: the signature is recomputed
// with AWS's own signer (@smithy/signature-v4, configured per service as the
// AWS SDKs configure it) from the request as received, and compared.  The
// test fronts of the egress tests (71, 73) answer with it.
//
//   const v = await checkSigV4(req, body, keys, { region: 'us-east-1', service: 's3' });
//   // v.ok, or v.code: AccessDenied, InvalidAccessKeyId,
//   //   AuthorizationHeaderMalformed, SignatureDoesNotMatch (S3's error codes)
// keys: Map of access key id -> { secret, token }.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const fromNode = createRequire(path.resolve(here, '../node/package.json'));
const { SignatureV4 } = await import(pathToFileURL(fromNode.resolve('@smithy/signature-v4')).href);
const { Sha256 } = await import(pathToFileURL(fromNode.resolve('@aws-crypto/sha256-js')).href);

function parseAuthorization(value) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(value || '');
  return m && { keyId: m[1], region: m[3], service: m[4], signedHeaders: m[5].split(';') };
}

function amzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || '');
  return m && new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

function parseQuery(raw) {
  const query = {};
  for (const part of raw ? raw.split('&') : []) {
    const [k, v = ''] = part.split('=').map(decodeURIComponent);
    query[k] = k in query ? [].concat(query[k], v) : v;
  }
  return query;
}

// expect: { region, service } the request must be signed for (each optional).
export async function checkSigV4(req, body, keys, expect = {}) {
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) return { ok: false, code: 'AccessDenied' };
  const key = keys.get(auth.keyId);
  if (!key) return { ok: false, code: 'InvalidAccessKeyId', keyId: auth.keyId };
  if ((expect.region && auth.region !== expect.region) || (expect.service && auth.service !== expect.service)) {
    return { ok: false, code: 'AuthorizationHeaderMalformed', keyId: auth.keyId };
  }
  const s3 = auth.service === 's3';
  const headers = {};
  for (const name of auth.signedHeaders) headers[name] = req.headers[name];
  const [rawPath, rawQuery] = req.url.split(/\?(.*)/s);
  const request = { method: req.method, protocol: 'http:', hostname: req.headers.host, path: rawPath,
    query: parseQuery(rawQuery), headers, body: body && body.length ? body : undefined };
  const signer = new SignatureV4({ service: auth.service, region: auth.region, sha256: Sha256,
    credentials: { accessKeyId: auth.keyId, secretAccessKey: key.secret, sessionToken: key.token },
    uriEscapePath: !s3, applyChecksum: s3 });
  const signed = await signer.sign(request, { signingDate: amzDate(req.headers['x-amz-date']) });
  if (signed.headers.authorization !== req.headers.authorization) {
    return { ok: false, code: 'SignatureDoesNotMatch', keyId: auth.keyId };
  }
  return { ok: true, keyId: auth.keyId, service: auth.service };
}
