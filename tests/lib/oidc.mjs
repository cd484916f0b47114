// A real OIDC issuer over HTTP for the auth tests: discovery document and
// JWKS on 127.0.0.1, keys made with node:crypto, and switches that make it
// misbehave the ways real issuers do.
//
//   const idp = await startIssuer({ keys: 1 });
//   await startIssuer({ tls: { key, cert }, hostname: 'localhost' });  // https://localhost:PORT
//   idp.discoveryUrl                 -> http://127.0.0.1:PORT/.well-known/openid-configuration
//   idp.issuer                       -> http://127.0.0.1:PORT
//   const k = idp.addKey({ bits: 1024, kid: 'weak' });   // published at once
//   idp.retireKey(k.kid);            // gone from the JWKS (still usable to sign)
//   await idp.setMode('status500');  // ok | garbage | truncated | status500 | hang | redirect-offhost | down
//   idp.setCacheControl('max-age=1');
//   idp.fetches.jwks, idp.fetches.discovery
//   await idp.waitForJwksFetches(3, 5000);
//   await idp.close();
//
// startDecoy() is a second server that only counts hits: tokens point jku,
// x5u and the like at it, and the tests assert nobody ever came.
//
// No npm dependencies; every wait has a deadline.
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import { waitUntil } from './wait.mjs';

export const MODES = ['ok', 'garbage', 'truncated', 'status500', 'hang', 'redirect-offhost', 'down'];

const DISCOVERY_PATH = '/.well-known/openid-configuration';
const JWKS_PATH = '/.well-known/jwks.json';

let kidCounter = 0;

// An RSA key pair (an EC P-256 one with kty 'EC') and its public JWK.
// alg and use default to RS256 (ES256 for EC) and sig; null leaves them out.
// Any other kty is published as that label on an RSA key.
export function makeKey({ bits = 2048, kid, alg, use = 'sig', kty = 'RSA' } = {}) {
  kid ??= `test-${process.pid}-${++kidCounter}-${crypto.randomBytes(3).toString('hex')}`;
  if (alg === undefined) alg = kty === 'EC' ? 'ES256' : 'RS256';
  const { privateKey, publicKey } = kty === 'EC'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid };
  if (kty !== 'RSA' && kty !== 'EC') jwk.kty = kty; // a label the verifier must not understand
  if (use !== null && use !== undefined) jwk.use = use;
  if (alg !== null && alg !== undefined) jwk.alg = alg;
  return { kid, bits, privateKey, publicKey, jwk, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) };
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(server.address().port);
    });
  });
}

function closeServer(server, sockets) {
  return new Promise((resolve) => {
    if (!server.listening) {
      for (const s of sockets) s.destroy();
      resolve();
      return;
    }
    server.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
}

class Issuer {
  // tls: { key, cert } (PEM) serves HTTPS; hostname is the name put in the
  // URLs (the server always listens on 127.0.0.1).
  constructor({ tls, hostname = '127.0.0.1' } = {}) {
    this.scheme = tls ? 'https' : 'http';
    this.hostname = hostname;
    this.keys = new Map(); // kid -> key, every key ever made (retired ones can still sign)
    this.published = []; // kids in the JWKS, in order
    this.mode = 'ok';
    this.cacheControl = null;
    this.fetches = { discovery: 0, jwks: 0, other: 0 };
    this.requests = []; // {method, path, headers, mode, at}
    this.subscribers = new Set();
    this.sockets = new Set();
    this.hanging = new Set();
    const handler = (req, res) => this.onRequest(req, res);
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    this.server.keepAliveTimeout = 1000;
    this.server.on('connection', (sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
    });
  }

  async start(port = 0) {
    this.port = await listen(this.server, port);
    this.origin = `${this.scheme}://${this.hostname}:${this.port}`;
    this.issuer = this.origin;
    this.discoveryUrl = `${this.origin}${DISCOVERY_PATH}`;
    this.jwksUri = `${this.origin}${JWKS_PATH}`;
  }

  notify() {
    for (const check of [...this.subscribers]) check();
  }

  // The key tokens are signed with by default: the first key made.
  get defaultKid() {
    return this.keys.keys().next().value;
  }

  key(kid = this.defaultKid) {
    const k = this.keys.get(kid);
    if (!k) throw new Error(`issuer has no key ${kid}`);
    return k;
  }

  addKey(opts = {}) {
    const k = makeKey(opts);
    if (this.keys.has(k.kid)) throw new Error(`duplicate kid ${k.kid}`);
    this.keys.set(k.kid, k);
    this.published.push(k.kid);
    return k;
  }

  retireKey(kid) {
    const i = this.published.indexOf(kid);
    if (i < 0) throw new Error(`kid ${kid} is not published`);
    this.published.splice(i, 1);
  }

  jwks() {
    return { keys: this.published.map((kid) => this.keys.get(kid).jwk) };
  }

  discovery() {
    return {
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      authorization_endpoint: `${this.origin}/oauth2/authorize`,
      token_endpoint: `${this.origin}/oauth2/token`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  setCacheControl(value) {
    this.cacheControl = value;
  }

  async setMode(name) {
    if (!MODES.includes(name)) throw new Error(`unknown issuer mode ${name}; one of ${MODES.join(', ')}`);
    const was = this.mode;
    this.mode = name;
    for (const res of this.hanging) res.socket?.destroy();
    this.hanging.clear();
    if (name === 'down' && was !== 'down') {
      await closeServer(this.server, this.sockets);
    } else if (name !== 'down' && was === 'down') {
      await listen(this.server, this.port); // same port: the discovery URL stays valid
    }
  }

  waitForJwksFetches(n, timeoutMs = 10000) {
    return waitUntil(() => this.fetches.jwks >= n,
      { timeout: timeoutMs, what: () => `${n} JWKS fetches (have ${this.fetches.jwks})`, wake: this.subscribers });
  }

  // Discovery and JWKS fetches together.
  get totalFetches() {
    return this.fetches.discovery + this.fetches.jwks;
  }

  waitForFetches(n, timeoutMs = 10000) {
    return waitUntil(() => this.totalFetches >= n,
      { timeout: timeoutMs, what: () => `${n} discovery+JWKS fetches (have ${this.totalFetches})`, wake: this.subscribers });
  }

  onRequest(req, res) {
    const path = req.url.split('?')[0];
    this.requests.push({ method: req.method, path, headers: req.headers, mode: this.mode, at: Date.now() });
    let body;
    if (path === DISCOVERY_PATH) {
      this.fetches.discovery++;
      body = this.discovery();
    } else if (path === JWKS_PATH) {
      this.fetches.jwks++;
      body = this.jwks();
    } else {
      this.fetches.other++;
    }
    this.notify();
    req.resume();
    if (body === undefined || req.method !== 'GET') {
      res.writeHead(body === undefined ? 404 : 405, { 'content-type': 'text/plain' });
      res.end('no\n');
      return;
    }
    this.respond(req, res, JSON.stringify(body));
  }

  respond(req, res, text) {
    const headers = { 'content-type': 'application/json' };
    if (this.cacheControl) headers['cache-control'] = this.cacheControl;
    switch (this.mode) {
      case 'ok':
        headers['content-length'] = Buffer.byteLength(text);
        res.writeHead(200, headers);
        res.end(text);
        return;
      case 'garbage': {
        const junk = 'this is not JSON {{{ \u0000\u00ff';
        res.writeHead(200, headers);
        res.end(junk);
        return;
      }
      case 'truncated':
        // Promises the whole document, sends half, and drops the connection.
        headers['content-length'] = Buffer.byteLength(text);
        res.writeHead(200, headers);
        res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
        return;
      case 'status500':
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
        return;
      case 'hang':
        this.hanging.add(res); // answered never; the socket is dropped on the next mode change
        return;
      case 'redirect-offhost':
        res.writeHead(302, { location: `http://evil.invalid${req.url}` });
        res.end();
        return;
      default:
        res.socket?.destroy();
    }
  }

  async close() {
    this.mode = 'closed';
    for (const res of this.hanging) res.socket?.destroy();
    this.hanging.clear();
    await closeServer(this.server, this.sockets);
  }
}

export async function startIssuer({ keys = 1, bits = 2048, tls, hostname } = {}) {
  const idp = new Issuer({ tls, hostname });
  await idp.start();
  for (let i = 0; i < keys; i++) idp.addKey({ bits });
  return idp;
}

// A server that answers everything with a JWKS of `keys` (if given) and
// counts every request: the place attacker-controlled URLs point at.
export async function startDecoy({ jwks = { keys: [] } } = {}) {
  const hits = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    hits.push({ method: req.method, url: req.url, at: Date.now() });
    req.resume();
    const body = JSON.stringify(jwks);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.on('connection', (sock) => {
    // A bare TCP connect counts too: a fetcher that connects and gives up was still tricked.
    hits.push({ connect: true, at: Date.now() });
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  const port = await listen(server, 0);
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: (path = '/jwks.json') => `${origin}${path}`,
    hits,
    close: () => closeServer(server, sockets),
  };
}
