// Bearer-token verification end to end: a real OIDC issuer over HTTP
// (tests/lib/oidc.mjs), tokens and forgeries made with node:crypto
// (tests/lib/tokens.mjs), and the real supervisor, fetcher and workers.
//
// Every wait has a deadline; nothing sleeps for a fixed time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMcpd, mcpdBinary } from '../lib/mcpd.mjs';
import { post, rpc } from '../lib/http.mjs';
import { startIssuer, startDecoy, makeKey } from '../lib/oidc.mjs';
import { ALL_TOOLS } from '../lib/tools.mjs';
import { waitUntil } from '../lib/wait.mjs';
import {
  CLIENT_ID, OVERSIZE_BYTES, mint, decode, idToken, now, forgeAlgNone, forgeHs256WithPem,
  tamperPayload, tamperSignature, malformBase64url, oversized,
} from '../lib/tokens.mjs';

const devIssuerBinary = process.env.TEST_DEV_ISSUER_BIN || path.join(path.dirname(mcpdBinary), 'mcpd-dev-issuer');
const PROTOCOL = '2025-11-25';
const SKEW = 60;
const AUDIENCE = 'mcpd-test-audience';
const METADATA_PATH = '/.well-known/oauth-protected-resource';

// ---- helpers ----------------------------------------------------------

// Starts mcpd verifying tokens from `discoveryUrl`; waits until it has keys
// unless waitForKeys is false.  Every token sent to it is remembered so the
// log can be checked for them when it stops.
async function startVerifying(discoveryUrl, { args = [], clients = [CLIENT_ID], waitForKeys = true, workers = 2 } = {}) {
  const server = await startMcpd({
    workers,
    auth: false,
    args: [
      '--discovery-url', discoveryUrl, '--allow-insecure-issuer',
      '--allowed-clients', clients.join(','),
      '--jwks-refresh-min', '1', '--clock-skew', String(SKEW),
      ...args,
    ],
  });
  server.sentTokens = new Set();
  if (waitForKeys) await waitUntil(async () => (await get(server, '/ping')).status === 200, { timeout: 20000, what: 'the first key set (/ping 200)', every: 100 });
  return server;
}

// Stops the server (rejecting on worker crashes or sanitizer reports) and
// checks that no token it was sent ever reached its log.
async function stopVerifying(server) {
  const { code } = await server.stop();
  assert.equal(code, 0, 'mcpd exits 0 on SIGTERM');
  assertNoTokensInLog(server);
}

function assertNoTokensInLog(server) {
  const log = server.logs.map((l) => JSON.stringify(l)).join('\n') + server.stderr;
  for (const token of server.sentTokens) {
    const signature = token.split('.')[2] ?? '';
    assert.ok(!log.includes(token), `the log contains a token: ${token.slice(0, 40)}...`);
    if (signature.length >= 16) {
      assert.ok(!log.includes(signature), `the log contains a token's signature: ${signature.slice(0, 20)}...`);
    }
  }
}

async function get(server, p, headers = {}) {
  const res = await fetch(`${server.origin}${p}`, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

// The test tools called with a token: [arguments, structuredContent.result].
const TOOL_CALLS = {
  sum: [{ a: 5, b: 3 }, 8],
  echo: [{ text: 'Alice' }, 'echo: Alice'],
  is_even: [{ n: 4 }, true],
};

// POSTs tools/call with `Authorization: <scheme> <token>` (none when token is null).
async function callTool(server, token, { tool = 'sum', scheme = 'Bearer', headers = {} } = {}) {
  const h = { 'mcp-protocol-version': PROTOCOL, ...headers };
  if (token !== null) {
    h.authorization = `${scheme} ${token}`;
    server.sentTokens.add(token);
  }
  return post(server.url, rpc(1, 'tools/call', { name: tool, arguments: TOOL_CALLS[tool][0] }), h);
}

async function assertToolWorks(server, token, tool = 'sum', what = tool) {
  const res = await callTool(server, token, { tool });
  assert.equal(res.status, 200, `${what}: ${res.status} ${res.headers.get('www-authenticate') ?? ''} ${res.text}`);
  assert.equal(res.json.result.isError, false, what);
  assert.deepEqual(res.json.result.structuredContent, { result: TOOL_CALLS[tool][1] }, what);
}

// Parses `Bearer k="v", k2=v2` (RFC 7235) into {scheme, params}.
function parseChallenge(value) {
  assert.ok(value, 'a WWW-Authenticate header');
  const m = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:\s+(.*))?$/s.exec(value);
  assert.ok(m, `WWW-Authenticate parses: ${value}`);
  const params = {};
  const re = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*(,|$)/y;
  const rest = m[2] ?? '';
  while (re.lastIndex < rest.length) {
    const start = re.lastIndex;
    const p = re.exec(rest);
    assert.ok(p, `WWW-Authenticate parameter at ${start}: ${value}`);
    const name = p[1].toLowerCase();
    assert.ok(!(name in params), `duplicate parameter ${name} in ${value}`);
    params[name] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
    if (p[4] === '') break;
  }
  return { scheme: m[1], params };
}

const metadataUrl = (server) => `${server.origin}${METADATA_PATH}/mcp`;

function assertChallenge(server, res, { status, error, what }) {
  assert.equal(res.status, status, `${what}: status ${res.status}, body ${res.text}`);
  const raw = res.headers.get('www-authenticate');
  const ch = parseChallenge(raw);
  assert.equal(ch.scheme, 'Bearer', `${what}: ${raw}`);
  assert.equal(ch.params.resource_metadata, metadataUrl(server), `${what}: ${raw}`);
  if (error === undefined) {
    assert.ok(!('error' in ch.params), `${what}: no error= without credentials: ${raw}`);
  } else {
    assert.equal(ch.params.error, error, `${what}: ${raw}`);
    assert.ok(ch.params.error_description && ch.params.error_description.length > 0, `${what}: error_description: ${raw}`);
  }
  return ch;
}

async function assertRejected(server, token, what) {
  const res = await callTool(server, token);
  const ch = assertChallenge(server, res, { status: 401, error: 'invalid_token', what });
  const signature = token.split('.')[2] ?? '';
  if (signature.length >= 16) assert.ok(!ch.params.error_description.includes(signature), `${what}: description echoes the token`);
  return ch;
}

// A token with a fresh random kid that no key set holds, signed by a key
// nobody publishes.  The key is made once: RSA key generation blocks this
// process, and with it the test issuer that mcpd is fetching from.
let strayKey;
function unknownKidToken(idp) {
  strayKey ??= makeKey({ kid: 'stray' });
  return mint(idp, { key: strayKey, kid: `unknown-${crypto.randomBytes(8).toString('hex')}` });
}

// ---- one issuer and one server for the bulk of the checks ---------------

let idp;
let decoy;
let server;
let attacker;

before(async () => {
  idp = await startIssuer({ keys: 1 });
  attacker = makeKey({ kid: 'attacker-key' });
  decoy = await startDecoy({ jwks: { keys: [attacker.jwk] } });
  server = await startVerifying(idp.discoveryUrl, { args: ['--log-level', 'debug'] });
});

after(async () => {
  try {
    if (server) await stopVerifying(server);
    // Last look: whatever ran after the header tests had time to follow a jku.
    if (decoy) assert.equal(decoy.hits.length, 0, `attacker URLs were fetched: ${JSON.stringify(decoy.hits)}`);
  } finally {
    await decoy?.close();
    await idp?.close();
  }
});

test('/ping needs no token and reports healthy once the keys are in', async () => {
  const res = await get(server, '/ping');
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.text).status, 'Healthy');
});

test('a valid access token calls tools and lists every tool', async () => {
  const token = mint(idp);
  for (const tool of Object.keys(TOOL_CALLS)) await assertToolWorks(server, token, tool);
  const init = await post(server.url, rpc(1, 'initialize', {
    protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'it', version: '1' },
  }), { authorization: `Bearer ${token}` });
  assert.equal(init.status, 200, init.text);
  const list = await post(server.url, rpc(2, 'tools/list'), { authorization: `Bearer ${token}`, 'mcp-protocol-version': PROTOCOL });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.result.tools.map((t) => t.name).sort(), ALL_TOOLS);
});

test('tokens within the clock skew are accepted', async () => {
  const t = now();
  await assertToolWorks(server, mint(idp, { claims: { exp: t + 5, iat: t - 3000 } }), 'sum', 'exp soon');
  await assertToolWorks(server, mint(idp, { claims: { exp: t - SKEW / 2 } }), 'sum', 'exp just past, within skew');
  await assertToolWorks(server, mint(idp, { claims: { nbf: t + SKEW / 2 } }), 'sum', 'nbf within skew');
  await assertToolWorks(server, mint(idp, { claims: { iat: t + SKEW / 2 } }), 'sum', 'iat within skew');
});

test('no credentials: 401 with a bare Bearer challenge naming the resource metadata', async () => {
  assertChallenge(server, await callTool(server, null), { status: 401, what: 'no Authorization' });
  const basic = Buffer.from('user:password').toString('base64');
  assertChallenge(server, await callTool(server, basic, { scheme: 'Basic' }), { status: 401, what: 'Basic' });
});

test('bad tokens: 401 invalid_token with a description', async () => {
  const t = now();
  const good = mint(idp);
  const cases = [
    ['alg none, empty signature', forgeAlgNone(idp)],
    ['alg None, empty signature', forgeAlgNone(idp, { alg: 'None' })],
    ['alg none with a real RS256 signature attached', `${forgeAlgNone(idp)}${good.split('.')[2]}`],
    ['HS256 with the public key PEM as secret', forgeHs256WithPem(idp)],
    ['RS512 signed by the right key (alg pinned to RS256)', mint(idp, { header: { alg: 'RS512' } })],
    ['PS256 signed by the right key', mint(idp, { header: { alg: 'PS256' } })],
    ['tampered payload', tamperPayload(good, { sub: 'admin', scope: 'mcp/tools admin' })],
    ['tampered signature', tamperSignature(good)],
    ['unknown kid', unknownKidToken(idp)],
    ['no kid', mint(idp, { header: { kid: undefined } })],
    ['expired beyond the skew', mint(idp, { claims: { iat: t - 7200, auth_time: t - 7200, exp: t - SKEW - 60 } })],
    ['no exp', mint(idp, { claims: { exp: undefined } })],
    ['nbf in the future beyond the skew', mint(idp, { claims: { nbf: t + SKEW + 600 } })],
    ['iat in the future beyond the skew', mint(idp, { claims: { iat: t + SKEW + 600, exp: t + SKEW + 4200 } })],
    ['wrong issuer', mint(idp, { claims: { iss: 'https://evil.example' } })],
    ['issuer with a trailing slash', mint(idp, { claims: { iss: `${idp.issuer}/` } })],
    ['client_id not allowed', mint(idp, { claims: { client_id: 'someone-else' } })],
    ['id token where only access tokens are allowed', mint(idp, { claims: idToken() })],
    ['id token carrying an allowed client_id', mint(idp, { claims: idToken({ client_id: CLIENT_ID }) })],
    ['missing token_use', mint(idp, { claims: { token_use: undefined } })],
    ['malformed base64url (+/ alphabet)', malformBase64url(good, 'plus')],
    ['malformed base64url (= padding)', malformBase64url(good, 'pad')],
    [`oversized (> ${OVERSIZE_BYTES} bytes, correctly signed)`, oversized(idp)],
    ['two segments', good.split('.').slice(0, 2).join('.')],
    ['four segments', `${good}.${good.split('.')[2]}`],
    ['not a JWT at all', 'not-a-jwt'],
  ];
  assert.ok(cases.find(([n]) => n.startsWith('oversized'))[1].length > OVERSIZE_BYTES);
  for (const [what, token] of cases) await assertRejected(server, token, what);
  await assertToolWorks(server, good, 'sum', 'the untampered token still works');
});

test('jku, x5u and jwk headers are ignored and never fetched', async () => {
  const legit = idp.key();
  const attackerJwk = { ...attacker.jwk, x5u: decoy.url('/embedded-x5u') };
  const forged = [
    ['jku to an attacker JWKS, attacker key', { key: attacker, header: { jku: decoy.url('/jwks.json') } }],
    ['x5u to an attacker URL, attacker key', { key: attacker, header: { x5u: decoy.url('/cert.pem') } }],
    ['embedded jwk, attacker key and kid', { key: attacker, header: { jwk: attackerJwk } }],
    ['embedded jwk, no kid', { key: attacker, header: { kid: undefined, jwk: attackerJwk } }],
    ['embedded jwk with a known kid, attacker signature', { key: attacker, kid: legit.kid, header: { jwk: attackerJwk } }],
    ['jku with a known kid, attacker signature', { key: attacker, kid: legit.kid, header: { jku: decoy.url('/jwks2.json') } }],
  ];
  for (const [what, opts] of forged) await assertRejected(server, mint(idp, opts), what);

  // Correctly signed by a published key: the headers are simply ignored, so
  // either answer is acceptable as long as nothing is fetched.
  const signed = mint(idp, { header: { jku: decoy.url('/jwks3.json'), x5u: decoy.url('/x5u'), x5c: ['AAAA'] } });
  const res = await callTool(server, signed);
  assert.ok(res.status === 200 || res.status === 401, `legit signature with jku/x5u: ${res.status}`);
  assert.equal(decoy.hits.length, 0, `attacker URLs were fetched: ${JSON.stringify(decoy.hits)}`);
});

test('protected resource metadata (RFC 9728) is served without a token', async () => {
  for (const p of [METADATA_PATH, `${METADATA_PATH}/mcp`]) {
    const res = await get(server, p);
    assert.equal(res.status, 200, `${p}: ${res.text}`);
    assert.match(res.headers.get('content-type'), /^application\/json/, p);
    const doc = JSON.parse(res.text);
    assert.equal(doc.resource, server.url, `${p}: resource is the URL the client used`);
    assert.ok(doc.resource.endsWith('/mcp'), p);
    assert.deepEqual(doc.authorization_servers, [idp.issuer], p);
    assert.deepEqual(doc.bearer_methods_supported, ['header'], p);
  }
});

// ---- separate instances ---------------------------------------------------

test('before the first key set /mcp answers 503 with Retry-After and /ping 503, then serves', async () => {
  const own = await startIssuer({ keys: 1 });
  await own.setMode('status500');
  const s = await startVerifying(own.discoveryUrl, { waitForKeys: false });
  try {
    await own.waitForFetches(1, 10000); // the fetcher tried and failed
    const token = mint(own);
    const res = await callTool(s, token);
    assert.equal(res.status, 503, `no keys yet: ${res.status} ${res.text}`);
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, 'Retry-After in seconds');
    assert.equal((await get(s, '/ping')).status, 503, '/ping is not ready without keys');

    await own.setMode('ok');
    await waitUntil(async () => (await callTool(s, token)).status !== 503, { timeout: 30000, what: '/mcp to stop answering 503', every: 100 });
    await assertToolWorks(s, token);
    assert.equal((await get(s, '/ping')).status, 200);
  } finally {
    await stopVerifying(s);
    await own.close();
  }
});

test('an id token is accepted when its aud is in --allowed-audiences', async () => {
  const s = await startVerifying(idp.discoveryUrl, { args: ['--allowed-audiences', AUDIENCE] });
  try {
    await assertToolWorks(s, mint(idp, { claims: idToken({ aud: AUDIENCE }) }), 'sum', 'id token, allowed aud');
    await assertToolWorks(s, mint(idp), 'sum', 'access token, allowed client');
    await assertRejected(s, mint(idp, { claims: idToken({ aud: 'someone-else' }) }), 'id token, foreign aud');
  } finally {
    await stopVerifying(s);
  }
});

test('--required-scopes: 403 insufficient_scope without the scope, 200 with it', async () => {
  const s = await startVerifying(idp.discoveryUrl, { args: ['--required-scopes', 'mcp/tools'] });
  try {
    for (const [what, scope] of [['other scopes', 'openid profile'], ['no scope claim', undefined], ['a look-alike scope', 'mcp/toolsx mcp/tool']]) {
      const res = await callTool(s, mint(idp, { claims: { scope } }));
      const ch = assertChallenge(s, res, { status: 403, error: 'insufficient_scope', what });
      assert.equal(ch.params.scope, 'mcp/tools', what);
    }
    await assertToolWorks(s, mint(idp, { claims: { scope: 'openid mcp/tools' } }), 'sum', 'with the scope');
    await assertRejected(s, mint(idp, { claims: { exp: now() - 3600 } }), 'expired, with the scope: 401 before 403');
    const meta = JSON.parse((await get(s, `${METADATA_PATH}/mcp`)).text);
    assert.ok(meta.scopes_supported === undefined || meta.scopes_supported.includes('mcp/tools'));
  } finally {
    await stopVerifying(s);
  }
});

test('key rotation: a new kid is fetched on demand, a retired kid is refused', async () => {
  const own = await startIssuer({ keys: 1 });
  const s = await startVerifying(own.discoveryUrl);
  try {
    const oldKid = own.defaultKid;
    const oldToken = mint(own, { kid: oldKid });
    await assertToolWorks(s, oldToken, 'sum', 'old key before rotation');

    const fetchesBefore = own.fetches.jwks;
    const fresh = own.addKey();
    const newToken = mint(own, { kid: fresh.kid });
    await waitUntil(async () => (await callTool(s, newToken)).status === 200, { timeout: 20000, what: 'the new kid to be accepted', every: 100 });
    assert.ok(own.fetches.jwks > fetchesBefore, 'the unknown kid made mcpd refetch the JWKS');
    await assertToolWorks(s, newToken, 'sum', 'new key');
    await assertToolWorks(s, oldToken, 'sum', 'old key, still published');

    own.retireKey(oldKid);
    // A token with an unknown kid asks for a refresh; the refreshed set lacks the old key.
    await waitUntil(async () => {
      await callTool(s, unknownKidToken(own));
      return (await callTool(s, oldToken)).status === 401;
    }, { timeout: 20000, what: 'the retired kid to be refused', every: 100 });
    await assertRejected(s, oldToken, 'retired kid');
    await assertToolWorks(s, newToken, 'sum', 'new key after retirement');
  } finally {
    await stopVerifying(s);
    await own.close();
  }
});

test('issuer outage: the last good keys keep serving and nothing crashes', async () => {
  const own = await startIssuer({ keys: 1 });
  const s = await startVerifying(own.discoveryUrl);
  try {
    const token = mint(own);
    await assertToolWorks(s, token, 'sum', 'before the outage');
    for (const mode of ['status500', 'garbage', 'truncated', 'redirect-offhost', 'hang']) {
      await own.setMode(mode);
      const before = own.totalFetches;
      // Unknown kids ask for refetches; wait until one reached the broken issuer.
      await waitUntil(async () => {
        await callTool(s, unknownKidToken(own));
        return own.totalFetches > before;
      }, { timeout: 20000, what: `a fetch while the issuer is '${mode}'`, every: 100 });
      await assertToolWorks(s, token, 'sum', `issuer '${mode}'`);
      assert.equal((await get(s, '/ping')).status, 200, `/ping while the issuer is '${mode}'`);
    }
    await own.setMode('down');
    const until = Date.now() + 3000; // several refresh intervals (--jwks-refresh-min 1)
    while (Date.now() < until) {
      await callTool(s, unknownKidToken(own));
      await assertToolWorks(s, token, 'sum', "issuer 'down'");
    }
    assert.equal((await get(s, '/ping')).status, 200, "/ping while the issuer is 'down'");
    assert.equal(s.proc.exitCode, null, 'mcpd still running');
    const exits = s.logs.filter((l) => l.event === 'worker_exited' || l.event === 'fetcher_exited');
    assert.deepEqual(exits, [], 'no child exited during the outage');
  } finally {
    await stopVerifying(s);
    await own.close();
  }
});

test('a flood of unknown kids is rate limited to one JWKS fetch per --jwks-refresh-min', async (t) => {
  const own = await startIssuer({ keys: 1 });
  const s = await startVerifying(own.discoveryUrl);
  try {
    const start = Date.now();
    const fetchesBefore = own.fetches.jwks;
    const sends = [];
    for (let i = 0; i < 200; i++) {
      const due = start + i * 10; // 200 requests spread over ~2 s
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now())); // pacing, not a wait for state
      sends.push(callTool(s, unknownKidToken(own)));
    }
    const results = await Promise.all(sends);
    for (const r of results) assert.equal(r.status, 401);
    // The refetch comes --jwks-refresh-min after the start-up fetch, which on
    // a loaded machine can be after the last answer: wait for it (or fail).
    await own.waitForJwksFetches(fetchesBefore + 1, 10000);
    const fetched = own.fetches.jwks - fetchesBefore;
    const seconds = (Date.now() - start) / 1000;
    t.diagnostic(`${results.length} unknown kids in ${seconds.toFixed(2)} s caused ${fetched} JWKS fetches`);
    assert.ok(fetched <= Math.ceil(seconds / 1) + 2, `${fetched} JWKS fetches in ${seconds.toFixed(2)} s`);
    await assertToolWorks(s, mint(own), 'sum', 'a good token after the flood');
  } finally {
    await stopVerifying(s);
    await own.close();
  }
});

test('keys too weak or of the wrong kind are skipped, and the log says which', async () => {
  const own = await startIssuer({ keys: 1 });
  const weak = own.addKey({ bits: 1024, kid: `weak-1024-${process.pid}` });
  const enc = own.addKey({ kid: `enc-${process.pid}`, use: 'enc' });
  const ec = own.addKey({ kid: `ec-${process.pid}`, kty: 'EC' });
  const s = await startVerifying(own.discoveryUrl);
  try {
    await assertToolWorks(s, mint(own), 'sum', 'the 2048-bit key');
    await assertRejected(s, mint(own, { kid: weak.kid }), '1024-bit key');
    await assertRejected(s, mint(own, { kid: enc.kid }), 'use "enc" key');
    await assertRejected(s, mint(own, { kid: ec.kid, header: { alg: 'ES256' } }), 'EC key');
    await s.waitForLog((l) => JSON.stringify(l).includes(weak.kid), 10000, `a log line naming ${weak.kid}`);
  } finally {
    await stopVerifying(s);
    await own.close();
  }
});

test('the development issuer: mcpd-dev-issuer init and token', async () => {
  assert.ok(fs.existsSync(devIssuerBinary), `${devIssuerBinary} exists (TEST_DEV_ISSUER_BIN)`);
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-dev-issuer-')));
  // mkdtemp makes it 0700; mcpd started as root reads the issuer from its
  // fetcher as --user (nobody), which must be able to get through.
  fs.chmodSync(dir, 0o755);
  const tool = (...args) => spawnSync(devIssuerBinary, args, { encoding: 'utf8', timeout: 30000 });
  const issuerDir = path.join(dir, 'issuer');
  let s;
  try {
    const init = tool('init', issuerDir);
    assert.equal(init.status, 0, init.stderr);
    const discoveryUrl = `file://${issuerDir}/openid-configuration.json`;
    assert.equal(init.stdout.trim(), discoveryUrl);
    const mode = (...p) => fs.statSync(path.join(issuerDir, ...p)).mode & 0o777;
    const jwks = JSON.parse(fs.readFileSync(path.join(issuerDir, 'jwks.json'), 'utf8'));
    assert.equal(jwks.keys.length, 1);
    assert.match(jwks.keys[0].kid, /^dev-[0-9a-f]{8}$/);
    assert.equal(mode('keys'), 0o700, 'the private keys directory is private');
    assert.equal(mode('keys', `${jwks.keys[0].kid}.pem`), 0o600);
    assert.equal(mode(), 0o755, 'the public documents are readable by an unprivileged fetcher');
    assert.equal(mode('jwks.json'), 0o644);
    assert.equal(mode('openid-configuration.json'), 0o644);
    assert.ok(!JSON.stringify(jwks).match(/"(d|p|q|dp|dq|qi)"/), 'no private key parameters in jwks.json');
    const disc = JSON.parse(fs.readFileSync(path.join(issuerDir, 'openid-configuration.json'), 'utf8'));
    assert.equal(disc.jwks_uri, `file://${issuerDir}/jwks.json`);

    const again = tool('init', issuerDir);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout.trim(), discoveryUrl);
    assert.match(again.stderr, /already holds an issuer/);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(issuerDir, 'jwks.json'), 'utf8')), jwks, 'init is idempotent');

    const minted = tool('token', issuerDir);
    assert.equal(minted.status, 0, minted.stderr);
    const token = minted.stdout.trim();
    const { header, claims } = decode(token);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.kid, jwks.keys[0].kid);
    assert.equal(claims.iss, disc.issuer);
    assert.equal(claims.client_id, 'mcpd-dev-client');
    assert.equal(claims.token_use, 'access');
    const [h, p, sig] = token.split('.');
    const key = crypto.createPublicKey({ key: jwks.keys[0], format: 'jwk' });
    assert.ok(crypto.verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(sig, 'base64url')), 'the token verifies against jwks.json');

    s = await startVerifying(discoveryUrl, { clients: ['mcpd-dev-client'] });
    await assertToolWorks(s, token, 'sum', 'dev issuer token');
    await assertToolWorks(s, token, 'echo', 'dev issuer token');
    await assertRejected(s, tool('token', issuerDir, '--client-id', 'other').stdout.trim(), 'dev token, foreign client');
    await assertRejected(s, tool('token', issuerDir, '--ttl', '-600').stdout.trim(), 'dev token, expired');

    const added = tool('add-key', issuerDir);
    assert.equal(added.status, 0, added.stderr);
    const newKid = added.stdout.trim();
    const rotated = tool('token', issuerDir).stdout.trim();
    assert.equal(decode(rotated).header.kid, newKid, 'the added key signs by default');
    await waitUntil(async () => (await callTool(s, rotated)).status === 200, { timeout: 20000, what: 'the dev issuer\'s new key to be accepted', every: 100 });
  } finally {
    if (s) await stopVerifying(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the log never contains a token', () => {
  assert.ok(server.sentTokens.size > 30, 'the main server saw the tokens of the tests above');
  assertNoTokensInLog(server);
});
