// A file-based token issuer for the benchmark, and RS256 access tokens from it.
//
//   const issuer = createIssuer(dir);        // dir/openid-configuration.json, dir/jwks.json, dir/private.pem
//   const token = mintToken(issuer.privateKey, { issuer: issuer.issuer });
//   await mintTokenFile(issuer, file, 20000); // one distinct token per line, minted on every CPU
//
// mcpd reads the discovery document from file:// (--discovery-url with
// --allow-insecure-issuer); the peer reads the same two files. The tokens carry
// the claims mcpd checks for a Cognito-style access token (worker/jwt.c):
// iss, exp, iat, token_use "access", client_id, scope.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

export const ISSUER = 'https://issuer.bench.invalid';
export const CLIENT_ID = 'bench-client';
export const KID = 'bench-k1';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function createIssuer(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
  const files = {
    jwks: path.join(dir, 'jwks.json'),
    discovery: path.join(dir, 'openid-configuration.json'),
    key: path.join(dir, 'private.pem'),
  };
  fs.writeFileSync(files.jwks, JSON.stringify({ keys: [jwk] }));
  fs.writeFileSync(files.discovery, JSON.stringify({ issuer: ISSUER, jwks_uri: `file://${files.jwks}` }));
  fs.writeFileSync(files.key, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  // mcpd's fetcher runs as nobody when mcpd starts as root: the public documents must be readable.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(files.jwks, 0o644);
  fs.chmodSync(files.discovery, 0o644);
  return { dir, issuer: ISSUER, clientId: CLIENT_ID, privateKey, files, discoveryUrl: `file://${files.discovery}` };
}

export function loadIssuer(dir) {
  const files = {
    jwks: path.join(dir, 'jwks.json'),
    discovery: path.join(dir, 'openid-configuration.json'),
    key: path.join(dir, 'private.pem'),
  };
  const privateKey = crypto.createPrivateKey(fs.readFileSync(files.key));
  return { dir, issuer: ISSUER, clientId: CLIENT_ID, privateKey, files, discoveryUrl: `file://${files.discovery}` };
}

// One RS256 access token; `n` makes it distinct (jti) from every other.
export function mintToken(privateKey, { issuer = ISSUER, clientId = CLIENT_ID, n = 0, lifetime = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', kid: KID, typ: 'JWT' };
  const claims = {
    iss: issuer,
    sub: `bench-user-${n}`,
    client_id: clientId,
    token_use: 'access',
    scope: 'mcp/tools',
    iat: now,
    exp: now + lifetime,
    jti: `bench-${process.pid}-${now}-${n}`,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), privateKey);
  return `${input}.${b64url(sig)}`;
}

const here = fileURLToPath(import.meta.url);

// Mints `count` distinct tokens into `file`, one per line, on every CPU.
export async function mintTokenFile(issuer, file, count) {
  const threads = Math.max(1, Math.min(os.availableParallelism(), 8));
  const per = Math.ceil(count / threads);
  const parts = await Promise.all(Array.from({ length: threads }, (_, t) => new Promise((resolve, reject) => {
    const from = t * per, to = Math.min(count, from + per);
    const w = new Worker(here, { workerData: { keyDir: issuer.dir, from, to } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`token minting thread exited with ${code}`)); });
  })));
  fs.writeFileSync(file, parts.join(''));
  return count;
}

if (!isMainThread && workerData && workerData.keyDir) {
  const { privateKey } = loadIssuer(workerData.keyDir);
  let out = '';
  for (let n = workerData.from; n < workerData.to; n++) out += `${mintToken(privateKey, { n })}\n`;
  parentPort.postMessage(out);
}
