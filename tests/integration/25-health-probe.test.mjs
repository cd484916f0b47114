// The platform's health probe: AgentCore Runtime POSTs a JSON-RPC ping to
// /mcp/ with no Authorization header, "params": null and
// `Accept: application/json`. Every shape of it is answered 200 with an empty
// result, with tokens verified (before and after the first key set) and
// without; everything else that carries no token stays 401 with the RFC 9728
// challenge, and --public-ping off turns the exception off.
//
// Real supervisor, workers and fetcher; a real OIDC issuer on loopback.
// Requests go through node:http, which (unlike fetch) can leave Accept out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startMcpd } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { startIssuer } from '../lib/oidc.mjs';
import { ALL_TOOLS } from '../lib/tools.mjs';
import { CLIENT_ID, mint, forgeAlgNone, tamperSignature } from '../lib/tokens.mjs';

const PATHS = ['/mcp', '/mcp/'];
const PARAMS = [['null', null], ['absent', undefined], ['{}', {}]];
const ACCEPTS = [['absent', undefined], ['application/json', 'application/json'],
  ['both types', 'application/json, text/event-stream'], ['SSE first', 'text/event-stream, application/json;q=0.5'],
  ['SSE only', 'text/event-stream']];

// One HTTP request; resolves with {status, headers, text, json}.
function request(port, { method = 'POST', path = '/mcp', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.setTimeout(10000, () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

function probeBody(id, params) {
  const msg = { jsonrpc: '2.0', method: 'ping' };
  if (params !== undefined) msg.params = params;
  msg.id = id;
  return JSON.stringify(msg);
}

// Sends the probe in every shape; asserts each is answered 200 {result: {}} as JSON.
async function assertEveryProbeShapeServed(server, what) {
  let id = 100;
  for (const path of PATHS) {
    for (const [paramsName, params] of PARAMS) {
      for (const [acceptName, accept] of ACCEPTS) {
        const headers = { 'content-type': 'application/json' };
        if (accept !== undefined) headers.accept = accept;
        const shape = `${what}: POST ${path}, params ${paramsName}, Accept ${acceptName}`;
        const res = await request(server.port, { path, headers, body: probeBody(++id, params) });
        assert.equal(res.status, 200, `${shape}: ${res.status} ${res.headers['www-authenticate'] ?? ''} ${res.text}`);
        assert.match(res.headers['content-type'] ?? '', /^application\/json/, `${shape}: a JSON answer`);
        assert.deepEqual(res.json, { jsonrpc: '2.0', id, result: {} }, shape);
      }
    }
  }
  return id - 100;
}

// The request log lines of pings served without a token.
function publicPingLines(server) {
  return server.logs.filter((l) => l.event === 'request' && l.rpc_method === 'ping' && l.auth === 'public_ping');
}

async function assertNoTokenChallenge(server, res, what) {
  assert.equal(res.status, 401, `${what}: ${res.status} ${res.text}`);
  const challenge = res.headers['www-authenticate'] ?? '';
  assert.match(challenge, /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"$/,
    `${what}: RFC 9728 challenge without error= (${challenge})`);
}

const rpcBody = (method, params, id = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
const JSON_BOTH = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

// Requests that need a token, as a client without one would send them.
const REFUSED = [
  ['tools/list', rpcBody('tools/list')],
  ['tools/call', rpcBody('tools/call', { name: 'sum', arguments: { a: 1, b: 2 } })],
  ['initialize', rpcBody('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } })],
  ['a batch holding a ping', `[${probeBody(1, null)}]`],
  ['a ping notification', JSON.stringify({ jsonrpc: '2.0', method: 'ping' })],
  ['a ping padded past 4 KiB', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(5000) } })],
  ['ping\\u0000x', '{"jsonrpc":"2.0","id":1,"method":"ping\\u0000x"}'],
  ['a body that is not JSON', '{"jsonrpc":'],
  // Ping-like bodies that fail a check: no version list or error detail without a token.
  ['a ping without "jsonrpc"', '{"id":1,"method":"ping"}'],
  ['a ping whose params are a string', rpcBody('ping', 'x')],
  ['a ping whose id is null', '{"jsonrpc":"2.0","id":null,"method":"ping"}'],
  ['a ping on the 2026-07-28 wire', rpcBody('ping', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': {} } })],
];

// A probe body with headers that fail the 2025 wire's checks.
const REFUSED_HEADERS = [
  ['an unsupported MCP-Protocol-Version', { 'mcp-protocol-version': '1999-01-01' }],
  ['a malformed MCP-Protocol-Version', { 'mcp-protocol-version': 'x'.repeat(40) }],
];

let idp;
before(async () => {
  idp = await startIssuer({ keys: 1 });
});
after(async () => {
  await idp?.close();
});

function verifying(discoveryUrl, args = []) {
  return startMcpd({
    auth: false,
    args: ['--discovery-url', discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID,
      '--jwks-refresh-min', '1', ...args],
  });
}

test('tokens verified: the probe in every shape is answered 200, and logged as served without a token', async () => {
  const s = await verifying(idp.discoveryUrl);
  try {
    await waitUntil(async () => (await request(s.port, { method: 'GET', path: '/ping' })).status === 200, { timeout: 20000, what: 'the first key set' });
    const sent = await assertEveryProbeShapeServed(s, 'after the first key set');
    await waitUntil(() => publicPingLines(s).length >= sent, { timeout: 10000, what: `${sent} request lines with auth public_ping` });
    const line = publicPingLines(s)[0];
    assert.equal(line.status, 200);
    assert.equal(line.auth_error, undefined, 'a served probe is not an auth failure');
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test('tokens verified: the probe is answered before the first key set is loaded', async () => {
  const down = await startIssuer({ keys: 1 });
  await down.setMode('status500');
  const s = await verifying(down.discoveryUrl);
  try {
    await down.waitForFetches(1, 10000);
    assert.equal((await request(s.port, { method: 'GET', path: '/ping' })).status, 503, 'no keys yet');
    await assertEveryProbeShapeServed(s, 'before the first key set');
    // Without a token the answer is 401 whether keys are loaded or not.
    await assertNoTokenChallenge(s, await request(s.port, { headers: JSON_BOTH, body: rpcBody('tools/list') }), 'tools/list before keys');
    // With a token, nothing can be verified yet: 503.
    const res = await request(s.port, { headers: { ...JSON_BOTH, authorization: `Bearer ${mint(down)}` }, body: probeBody(1, null) });
    assert.equal(res.status, 503, `a ping with a token before keys: ${res.status} ${res.text}`);
  } finally {
    assert.equal((await s.stop()).code, 0);
    await down.close();
  }
});

test('tokens verified: everything else without a token is 401 with the RFC 9728 challenge, on both paths', async () => {
  const s = await verifying(idp.discoveryUrl);
  try {
    await waitUntil(async () => (await request(s.port, { method: 'GET', path: '/ping' })).status === 200, { timeout: 20000, what: 'the first key set' });
    for (const path of PATHS) {
      for (const [what, body] of REFUSED) {
        await assertNoTokenChallenge(s, await request(s.port, { path, headers: JSON_BOTH, body }), `${what} at ${path}`);
      }
      for (const [what, headers] of REFUSED_HEADERS) {
        await assertNoTokenChallenge(s, await request(s.port, { path, headers: { ...JSON_BOTH, ...headers }, body: probeBody(1, null) }),
          `a ping with ${what} at ${path}`);
      }
      // No token is no token, whatever else is wrong with the request.
      await assertNoTokenChallenge(s, await request(s.port, { path, headers: { 'content-type': 'text/plain' }, body: probeBody(1, null) }),
        `a ping with Content-Type text/plain at ${path}`);
      await assertNoTokenChallenge(s, await request(s.port, { method: 'GET', path, headers: { accept: 'text/event-stream' } }), `GET ${path}`);
      await assertNoTokenChallenge(s, await request(s.port, { method: 'DELETE', path }), `DELETE ${path}`);
    }
    assert.equal(publicPingLines(s).length, 0, 'nothing above was served as a public ping');
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test('tokens verified: a ping that carries credentials is verified like any request', async () => {
  const s = await verifying(idp.discoveryUrl);
  try {
    await waitUntil(async () => (await request(s.port, { method: 'GET', path: '/ping' })).status === 200, { timeout: 20000, what: 'the first key set' });
    const bad = [
      ['a forged alg-none token', `Bearer ${forgeAlgNone(idp)}`],
      ['a tampered signature', `Bearer ${tamperSignature(mint(idp))}`],
      ['an empty bearer token', 'Bearer '],
      ['Basic credentials', 'Basic dXNlcjpwYXNz'],
    ];
    for (const [what, authorization] of bad) {
      for (const path of PATHS) {
        const res = await request(s.port, { path, headers: { 'content-type': 'application/json', accept: 'application/json', authorization }, body: probeBody(9, null) });
        assert.equal(res.status, 401, `${what} at ${path}: ${res.status} ${res.text}`);
      }
    }
    // A good token: the ping is an ordinary request (the 2025 wire's Accept rule applies).
    const good = `Bearer ${mint(idp)}`;
    const ok = await request(s.port, { path: '/mcp/', headers: { ...JSON_BOTH, authorization: good }, body: probeBody(10, null) });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { jsonrpc: '2.0', id: 10, result: {} });
    const narrow = await request(s.port, { headers: { 'content-type': 'application/json', accept: 'application/json', authorization: good }, body: probeBody(11, null) });
    assert.equal(narrow.status, 406, `a token-bearing ping keeps the Accept rule: ${narrow.text}`);
    // /mcp/ is the same endpoint for every method.
    const call = await request(s.port, { path: '/mcp/', headers: { ...JSON_BOTH, 'mcp-protocol-version': '2025-11-25', authorization: good },
      body: rpcBody('tools/call', { name: 'sum', arguments: { a: 2, b: 3 } }) });
    assert.equal(call.status, 200, call.text);
    assert.match(call.text, /"structuredContent":\{"result":5\}/);
    for (const path of ['/mcpx', '/mcp/x', '/mcp//', '/MCP']) {
      assert.equal((await request(s.port, { path, headers: JSON_BOTH, body: probeBody(1, null) })).status, 404, `${path} is not the endpoint`);
    }
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test('--public-ping off: the probe without a token is 401 like everything else', async () => {
  const s = await verifying(idp.discoveryUrl, ['--public-ping', 'off']);
  try {
    await waitUntil(async () => (await request(s.port, { method: 'GET', path: '/ping' })).status === 200, { timeout: 20000, what: 'the first key set' });
    for (const path of PATHS) {
      await assertNoTokenChallenge(s, await request(s.port, { path, headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: probeBody(4, null) }), `the probe at ${path}`);
    }
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test('--auth none: the probe in every shape is answered 200; other requests keep their rules', async () => {
  const s = await startMcpd({});
  try {
    const sent = await assertEveryProbeShapeServed(s, 'auth none');
    await waitUntil(() => publicPingLines(s).length >= sent, { timeout: 10000, what: `${sent} request lines with auth public_ping` });
    const res = await request(s.port, { path: '/mcp/', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: rpcBody('tools/list') });
    assert.equal(res.status, 406, `tools/list without text/event-stream in Accept: ${res.text}`);
    const list = await request(s.port, { path: '/mcp/', headers: JSON_BOTH, body: rpcBody('tools/list', null) });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.result.tools.map((t) => t.name).sort(), ALL_TOOLS);
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
  const off = await startMcpd({ args: ['--auth', 'none', '--public-ping', 'off'] });
  try {
    const res = await request(off.port, { path: '/mcp/', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: probeBody(4, null) });
    assert.equal(res.status, 406, `--public-ping off keeps the Accept rule for pings too: ${res.text}`);
  } finally {
    assert.equal((await off.stop()).code, 0);
  }
});

test('RFC 9728 metadata follows a resource URL that ends in a slash', async () => {
  const s = await verifying(idp.discoveryUrl, ['--resource-url', 'https://mcp.example.com/mcp/']);
  try {
    await waitUntil(async () => (await request(s.port, { method: 'GET', path: '/ping' })).status === 200, { timeout: 20000, what: 'the first key set' });
    const refused = await request(s.port, { path: '/mcp/', headers: JSON_BOTH, body: rpcBody('tools/list') });
    assert.equal(refused.headers['www-authenticate'],
      'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp/"');
    for (const path of ['/.well-known/oauth-protected-resource/mcp/', '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource']) {
      const doc = await request(s.port, { method: 'GET', path });
      assert.equal(doc.status, 200, `${path}: ${doc.text}`);
      assert.equal(doc.json.resource, 'https://mcp.example.com/mcp/', path);
    }
    assert.equal((await request(s.port, { method: 'GET', path: '/.well-known/oauth-protected-resource/other' })).status, 404);
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});
