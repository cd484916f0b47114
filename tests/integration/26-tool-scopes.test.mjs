// Per-tool scopes and the caller's identity over HTTP, with a real OIDC
// issuer: whoami (a test tool) needs mcpd/admin. Without it the call is 403
// with the step-up challenge; with it the tool sees the verified claims.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMcpd } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { post, rpc } from '../lib/http.mjs';
import { startIssuer } from '../lib/oidc.mjs';
import { CLIENT_ID, accessClaims, mint, decode } from '../lib/tokens.mjs';

const PROTOCOL = '2025-11-25';
let idp;
let server;

async function verifying(args = []) {
  const s = await startMcpd({
    auth: false,
    args: ['--discovery-url', idp.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID, ...args],
  });
  await waitUntil(async () => (await fetch(`${s.origin}/ping`)).status === 200, { timeout: 20000, what: 'the first key set' });
  return s;
}

function call(s, token, name, args = {}) {
  return post(s.url, rpc(7, 'tools/call', { name, arguments: args }),
    { authorization: `Bearer ${token}`, 'mcp-protocol-version': PROTOCOL });
}

before(async () => {
  idp = await startIssuer({ keys: 1 });
  server = await verifying();
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
  await idp.close();
});

test('a token without the tool\'s scope: 403 with the step-up challenge, the JSON-RPC error, and the log says which', async () => {
  const token = mint(idp, { claims: { scope: 'mcp/tools openid' } });
  const res = await call(server, token, 'whoami');
  assert.equal(res.status, 403, res.text);
  assert.equal(res.headers.get('www-authenticate'),
    `Bearer error="insufficient_scope", scope="mcpd/admin", resource_metadata="${server.origin}/.well-known/oauth-protected-resource/mcp"`);
  assert.equal(res.json.id, 7);
  assert.match(res.json.error.message, /whoami needs the scope mcpd\/admin/);
  await waitUntil(() => server.logs.some((l) => l.event === 'request' && l.status === 403 && l.tool === 'whoami' &&
    l.auth_error === 'tool whoami needs scope mcpd/admin'), { timeout: 5000, what: 'the refusal in the request log' });
  // The same token may call a tool that needs no scope.
  const add = await call(server, token, 'sum', { a: 2, b: 3 });
  assert.equal(add.status, 200, add.text);
  assert.deepEqual(add.json.result.structuredContent, { result: 5 });
});

test('a token with the scope: the tool gets the verified identity, also from the token cache', async () => {
  const token = mint(idp, { claims: { scope: 'openid mcpd/admin', sub: 'u-42', username: 'alice' } });
  const { claims } = decode(token);
  for (const round of ['verified', 'cached']) {
    const res = await call(server, token, 'whoami');
    assert.equal(res.status, 200, `${round}: ${res.text}`);
    assert.deepEqual(res.json.result.structuredContent, {
      verified: true, sub: 'u-42', username: 'alice', client_id: CLIENT_ID, scope: 'openid mcpd/admin',
      expires_at: claims.exp, protocol_version: PROTOCOL,
    }, round);
  }
});

test('a claim name holding U+0000 is not the claim it starts with: 401, nothing granted', async () => {
  // No real scope, and "scope\u0000x" naming the admin scope: RFC 7519
  // compares names whole, so this token has no scope at all; it is refused
  // as malformed rather than read as "scope" (which cJSON would do).
  const claims = accessClaims(idp);
  delete claims.scope;
  claims['scope\u0000x'] = 'openid mcpd/admin';
  const forged = mint(idp, { rawClaims: claims });
  assert.ok(Buffer.from(forged.split('.')[1], 'base64url').toString().includes('"scope\\u0000x"'));
  const res = await call(server, forged, 'whoami');
  assert.equal(res.status, 401, res.text);
  assert.match(res.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
  for (const name of ['iss', 'exp', 'client_id', 'token_use']) {
    const c = accessClaims(idp);
    c[`${name}\u0000x`] = c[name];
    delete c[name];
    const r = await call(server, mint(idp, { rawClaims: c }), 'sum', { a: 1, b: 2 });
    assert.equal(r.status, 401, `${name}\\u0000x: ${r.text}`);
  }
});

test('tools/list shows whoami to callers with and without its scope', async () => {
  for (const scope of ['openid', 'openid mcpd/admin']) {
    const res = await post(server.url, rpc(1, 'tools/list'),
      { authorization: `Bearer ${mint(idp, { claims: { scope } })}`, 'mcp-protocol-version': PROTOCOL });
    assert.equal(res.status, 200);
    assert.ok(res.json.result.tools.some((t) => t.name === 'whoami'), scope);
  }
});

test('--required-scopes still refuses first, with the global scopes', async () => {
  const s = await verifying(['--required-scopes', 'mcp/tools']);
  try {
    const res = await call(s, mint(idp, { claims: { scope: 'mcpd/admin' } }), 'whoami');
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate'), /error="insufficient_scope".*scope="mcp\/tools"/);
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});

test('--auth none: per-tool scopes cannot be read, the tool runs and sees no identity', async () => {
  const s = await startMcpd({});
  try {
    const res = await post(s.url, rpc(1, 'tools/call', { name: 'whoami', arguments: {} }), { 'mcp-protocol-version': PROTOCOL });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.result.structuredContent.verified, false);
    assert.equal(res.json.result.structuredContent.sub, '');
  } finally {
    assert.equal((await s.stop()).code, 0);
  }
});
