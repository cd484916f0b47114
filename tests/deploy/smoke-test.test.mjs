// ops/smoke-test, the seed's test sequence, against a local mcpd: directly,
// and through a stand-in for AgentCore's InvokeAgentRuntime endpoint that
// checks what the platform checks (path with the URL-encoded ARN, qualifier,
// bearer token, session id) and forwards to mcpd only the headers the
// runtime's allowlist lets through, as AgentCore does.  The script tests the
// reference tools the server lists and skips the others: what it must print
// follows the tools this build has (a fork may have none of them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMcpd, mcpdBinary } from '../lib/mcpd.mjs';
import { post, rpc } from '../lib/http.mjs';
import { repoRoot, run, listen, readBody, terraformListDefault } from './lib.mjs';

// How the local mcpd authenticates: with a signed development token from
// mcpd-dev-issuer that mcpd verifies ('none' would run it with --auth none).
const LOCAL_AUTH = 'dev-issuer';

const smokeTest = path.join(repoRoot, 'ops/smoke-test');
const ARN = 'arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/mcpd_runtime-AbCdEf1234';
const CLIENT_ID = 'mcpd-smoke-client';

let scratch;
let local; // { server, token }
let served; // the names of the tools the local mcpd lists

async function startLocal() {
  if (LOCAL_AUTH === 'none') return { server: await startMcpd({ workers: 2 }), token: '' };
  const issuer = path.join(path.dirname(mcpdBinary), 'mcpd-dev-issuer');
  const dir = path.join(scratch, 'issuer');
  const init = await run(issuer, ['init', dir]);
  assert.equal(init.code, 0, init.stderr);
  const token = await run(issuer, ['token', dir, '--client-id', CLIENT_ID]);
  assert.equal(token.code, 0, token.stderr);
  const server = await startMcpd({ workers: 2, auth: false,
    args: ['--discovery-url', init.stdout.trim(), '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID] });
  await server.waitForLog((l) => l.event === 'jwks_published');
  return { server, token: token.stdout.trim() };
}

before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-smoke-'));
  // mcpd's fetcher runs unprivileged (nobody, when started as root): it must reach the issuer's files.
  fs.chmodSync(scratch, 0o755);
  local = await startLocal();
  const list = await post(local.server.url, rpc(1, 'tools/list'), local.token ? { authorization: `Bearer ${local.token}` } : {});
  assert.equal(list.status, 200, list.text);
  served = list.json.result.tools.map((t) => t.name);
});
after(async () => {
  const { code } = await local.server.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
  assert.equal(code, 0);
});

// What the script prints for each reference tool: when the server lists it
// (the reference pattern's lines), and when it does not.
const REFERENCE = [
  { tool: 'add_numbers', listed: '🔧 add_numbers: Add two numbers together', tested: ['➕ Testing add_numbers(5, 3)...', '   Result: 8'],
    skipped: '⏭️  Skipping add_numbers(5, 3): add_numbers is not in the tool list', result: '8' },
  { tool: 'multiply_numbers', listed: '🔧 multiply_numbers: Multiply two numbers together', tested: ['✖️  Testing multiply_numbers(4, 7)...', '   Result: 28'],
    skipped: '⏭️  Skipping multiply_numbers(4, 7): multiply_numbers is not in the tool list', result: '28' },
  { tool: 'greet_user', listed: '🔧 greet_user: Greet a user by name',
    tested: ["👋 Testing greet_user('Alice')...", '   Result: Hello, Alice! Nice to meet you.'],
    skipped: "⏭️  Skipping greet_user('Alice'): greet_user is not in the tool list", result: 'Hello, Alice! Nice to meet you.' },
];
const servedReference = () => REFERENCE.filter((r) => served.includes(r.tool));

// The lines of the expected output, in order: the reference pattern's for
// the reference tools this build has.
function expectedLines() {
  return [
    '🔄 Initializing MCP session...',
    '🔄 Listing available tools...',
    '📋 Available MCP Tools:',
    ...servedReference().map((r) => r.listed),
    '🧪 Testing MCP Tools:',
    ...REFERENCE.flatMap((r) => (served.includes(r.tool) ? r.tested : [r.skipped])),
    '✅ MCP tool testing completed!',
  ];
}

function assertReferenceOutput(stdout) {
  const lines = stdout.split('\n');
  let at = -1;
  for (const want of expectedLines()) {
    const i = lines.indexOf(want, at + 1);
    assert.ok(i > at, `missing or out of order: ${JSON.stringify(want)}\n${stdout}`);
    at = i;
  }
  assert.match(stdout, /^✓ MCP session initialized \(mcpd \S+, protocol 2025-11-25\)$/m);
}

function smoke(args, { token, env = {} } = {}) {
  return run(smokeTest, args, {
    env: { MCP_BEARER_TOKEN: undefined, AGENTCORE_ENDPOINT: undefined, NODE_OPTIONS: undefined, ...env },
    input: token === undefined ? '' : `${token}\n`,
  });
}

// Headers AgentCore always passes to an MCP container; every other header
// only when the runtime's request_header_allowlist names it.
const PLATFORM_HEADERS = ['content-type', 'accept', 'mcp-session-id', 'x-amzn-bedrock-agentcore-runtime-session-id'];

// A stand-in for https://bedrock-agentcore.REGION.amazonaws.com/runtimes/...
// cold: {status, count}: the first `count` requests get `status`, as from a
// runtime that is still starting (count Infinity: it never starts).
async function agentCoreStandIn({ allowlist, token, sse = false, tamper = null, cold = null }) {
  const seen = [];
  const allowed = new Set([...PLATFORM_HEADERS, ...allowlist.map((h) => h.toLowerCase())]);
  const standIn = await listen(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url, 'http://x');
    const sessionId = req.headers['x-amzn-bedrock-agentcore-runtime-session-id'] || '';
    const entry = { path: url.pathname, qualifier: url.searchParams.get('qualifier'), headers: req.headers, forwarded: [] };
    seen.push(entry);
    const refuse = (status, message, extra = {}) => {
      entry.refused = `${status} ${message}`;
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify({ message }));
    };
    if (req.method !== 'POST' || url.pathname !== `/runtimes/${encodeURIComponent(ARN)}/invocations`) return refuse(404, 'no such runtime');
    if (entry.qualifier !== 'DEFAULT') return refuse(404, 'no such endpoint');
    if (cold && seen.length <= cold.count) return refuse(cold.status, 'runtime starting');
    if (req.headers.authorization !== `Bearer ${token}`) {
      return refuse(401, 'invalid token', { 'www-authenticate': 'Bearer resource_metadata="https://stand-in/.well-known/oauth-protected-resource"' });
    }
    if (sessionId.length < 33 || sessionId.length > 256) return refuse(400, 'session id must be 33 to 256 characters');
    if (req.headers['mcp-session-id'] !== sessionId) return refuse(400, 'Mcp-Session-Id differs from the runtime session id');
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (allowed.has(k)) {
        headers[k] = v;
        entry.forwarded.push(k);
      }
    }
    const upstream = await fetch(local.server.url, { method: 'POST', headers, body });
    let text = await upstream.text();
    if (tamper) text = tamper(text);
    let type = upstream.headers.get('content-type') || 'application/json';
    if (sse && text && type.startsWith('application/json')) {
      text = `event: message\ndata: ${text}\n\n`;
      type = 'text/event-stream';
    }
    res.writeHead(upstream.status, { 'content-type': type, 'mcp-session-id': sessionId });
    res.end(text);
  });
  return { ...standIn, seen };
}

const agentCoreArgs = ['--arn', ARN, '--region', 'us-west-2', '--token-stdin'];
// Retries wait 10 ms, 20 ms, ... here instead of 2 s, 4 s, ...
const fastRetries = ['--retry-wait', '0.01'];
const stackAllowlist = () => ['Authorization', ...terraformListDefault('mcp_request_headers')];

test('a cold runtime\'s 503s are retried with a bounded wait, and said', async () => {
  const standIn = await agentCoreStandIn({ allowlist: stackAllowlist(), token: local.token || 'tok', cold: { status: 503, count: 2 } });
  try {
    const r = await smoke([...agentCoreArgs, ...fastRetries], { token: local.token || 'tok', env: { AGENTCORE_ENDPOINT: standIn.origin } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const retries = r.stdout.split('\n').filter((l) => l.includes('⏳'));
    assert.equal(retries.length, 2, r.stdout);
    assert.match(retries[0], /initialize: HTTP 503 \(the runtime may still be starting\); retry 1 of 4 in 0\.01 s/);
    assert.match(retries[1], /retry 2 of 4 in 0\.02 s/);
    assertReferenceOutput(r.stdout);
  } finally {
    await standIn.close();
  }
});

test('a runtime that keeps answering 502 fails after the bounded number of tries, with a clear message', async () => {
  const standIn = await agentCoreStandIn({ allowlist: stackAllowlist(), token: 'tok', cold: { status: 502, count: Infinity } });
  try {
    const r = await smoke([...agentCoreArgs, ...fastRetries, '--retries', '3'], { token: 'tok', env: { AGENTCORE_ENDPOINT: standIn.origin } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(standIn.seen.length, 4, 'the first try and 3 retries');
    assert.match(r.stdout, /❌ MCP tool testing failed: initialize: HTTP 502 \(the runtime failed to answer/);
  } finally {
    await standIn.close();
  }
});

test('a 401 is not retried', async () => {
  const standIn = await agentCoreStandIn({ allowlist: stackAllowlist(), token: 'right' });
  try {
    const r = await smoke([...agentCoreArgs, ...fastRetries], { token: 'wrong', env: { AGENTCORE_ENDPOINT: standIn.origin } });
    assert.equal(r.code, 1);
    assert.equal(standIn.seen.length, 1, 'one request, no retry');
    assert.doesNotMatch(r.stdout, /⏳/);
    assert.match(r.stdout, /HTTP 401/);
  } finally {
    await standIn.close();
  }
});

test('bad retry settings are refused with what is accepted', async () => {
  for (const [flag, value, message] of [['--retries', '11', '--retries must be 0..10'], ['--retry-wait', 'soon', '--retry-wait must be 0..30 seconds']]) {
    const r = await smoke(['--url', 'http://127.0.0.1:1/mcp', flag, value]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(message));
  }
});

test('against a local URL it runs the test sequence and prints the reference output', async () => {
  const r = await smoke(['--url', local.server.url], { env: local.token ? { MCP_BEARER_TOKEN: local.token } : {} });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assertReferenceOutput(r.stdout);
  const calls = local.server.logs.filter((l) => l.event === 'request' && l.rpc_method === 'tools/call').map((l) => l.tool);
  for (const { tool } of servedReference()) assert.ok(calls.includes(tool), `mcpd served no ${tool} call`);
  for (const { tool } of REFERENCE) if (!served.includes(tool)) assert.ok(!calls.includes(tool), `${tool} is not listed, yet was called`);
});

test('with token verification on, the same run without the token is refused', { skip: LOCAL_AUTH === 'none' && 'the local mcpd runs with --auth none (LOCAL_AUTH)' }, async () => {
  const r = await smoke(['--url', local.server.url]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /initialize: HTTP 401/);
});

test('against AgentCore it calls the runtime URL with the bearer token and a session id, through the stack\'s header allowlist', async () => {
  const token = local.token || 'opaque-test-token';
  const standIn = await agentCoreStandIn({ allowlist: stackAllowlist(), token });
  try {
    const r = await smoke(agentCoreArgs, { token, env: { AGENTCORE_ENDPOINT: standIn.origin } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assertReferenceOutput(r.stdout);
    assert.equal(standIn.seen.length, 3 + servedReference().length, 'initialize, initialized, tools/list and a tools/call per reference tool listed');
    assert.deepEqual(standIn.seen.filter((s) => s.refused), []);
    const sessions = new Set(standIn.seen.map((s) => s.headers['x-amzn-bedrock-agentcore-runtime-session-id']));
    assert.equal(sessions.size, 1, 'one session id for the whole sequence (microVM affinity)');
    for (const s of standIn.seen.slice(1)) assert.equal(s.headers['mcp-protocol-version'], '2025-11-25');
    // The allowlisted headers reached mcpd, Authorization among them.
    for (const s of standIn.seen) assert.ok(s.forwarded.includes('authorization'), s.forwarded.join(' '));
    for (const s of standIn.seen.slice(1)) assert.ok(s.forwarded.includes('mcp-protocol-version'));
  } finally {
    await standIn.close();
  }
});

test('mcpd still serves the sequence when the runtime forwards no MCP headers at all (MCP-Protocol-Version absent)', async () => {
  const token = local.token || 'opaque-test-token';
  const standIn = await agentCoreStandIn({ allowlist: ['Authorization'], token });
  try {
    const r = await smoke(agentCoreArgs, { token, env: { AGENTCORE_ENDPOINT: standIn.origin } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assertReferenceOutput(r.stdout);
    for (const s of standIn.seen) assert.ok(!s.forwarded.includes('mcp-protocol-version'));
  } finally {
    await standIn.close();
  }
});

test('answers sent as an event stream are read too', async () => {
  const token = local.token || 'opaque-test-token';
  const standIn = await agentCoreStandIn({ allowlist: stackAllowlist(), token, sse: true });
  try {
    const r = await smoke(agentCoreArgs, { token, env: { AGENTCORE_ENDPOINT: standIn.origin } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assertReferenceOutput(r.stdout);
  } finally {
    await standIn.close();
  }
});

test('a refused token fails with the status, the challenge and a hint', async () => {
  const standIn = await agentCoreStandIn({ allowlist: stackAllowlist(), token: 'the-right-token' });
  try {
    const r = await smoke(agentCoreArgs, { token: 'a-wrong-token', env: { AGENTCORE_ENDPOINT: standIn.origin } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /❌ MCP tool testing failed: initialize: HTTP 401 \(the token is missing, expired/);
    assert.match(r.stdout, /WWW-Authenticate: Bearer resource_metadata=/);
    assert.ok(!r.stdout.includes('a-wrong-token'), 'the token must not be printed');
  } finally {
    await standIn.close();
  }
});

// The first reference tool this build has answers wrongly (one more "!").
test('a wrong tool result fails the run', async (t) => {
  const [ref] = servedReference();
  if (!ref) return t.skip('this build has no reference tool whose answer could be wrong');
  const token = local.token || 'opaque-test-token';
  const standIn = await agentCoreStandIn({ allowlist: stackAllowlist(), token,
    tamper: (text) => text.replace(`"text":"${ref.result}"`, `"text":"${ref.result}!"`) });
  try {
    const r = await smoke(agentCoreArgs, { token, env: { AGENTCORE_ENDPOINT: standIn.origin } });
    assert.equal(r.code, 1, r.stdout);
    assert.ok(r.stdout.includes(`   Result: ${ref.result}!\n`), r.stdout);
    assert.ok(r.stdout.includes(`${ref.tool}: expected "${ref.result}", got "${ref.result}!"`), r.stdout);
    assert.doesNotMatch(r.stdout, /✅/);
  } finally {
    await standIn.close();
  }
});

test('without AGENTCORE_ENDPOINT it builds the regional InvokeAgentRuntime URL from the ARN', async () => {
  // fetch is replaced before the script runs: it records the request and
  // fails like an unreachable host, so nothing leaves this machine.
  const record = path.join(scratch, 'fetch.json');
  const preload = path.join(scratch, 'no-network.cjs');
  fs.writeFileSync(preload, `globalThis.fetch = async (url, init) => {
  require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ url: String(url), headers: init.headers, body: init.body }));
  throw new TypeError('fetch failed', { cause: new Error('stand-in: no network') });
};\n`);
  const r = await smoke(['--arn', ARN, '--region', 'eu-west-1', '--qualifier', 'prod_1', '--token-stdin'],
    { token: 'tok', env: { NODE_OPTIONS: `--require ${preload}` } });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /initialize: cannot reach https:\/\/bedrock-agentcore\.eu-west-1\.amazonaws\.com: stand-in: no network/);
  const sent = JSON.parse(fs.readFileSync(record, 'utf8'));
  assert.equal(sent.url, `https://bedrock-agentcore.eu-west-1.amazonaws.com/runtimes/${encodeURIComponent(ARN)}/invocations?qualifier=prod_1`);
  assert.equal(sent.url.split('/runtimes/')[1].split('/')[0], 'arn%3Aaws%3Abedrock-agentcore%3Aus-west-2%3A123456789012%3Aruntime%2Fmcpd_runtime-AbCdEf1234');
  assert.equal(sent.headers.authorization, 'Bearer tok');
  assert.equal(sent.headers['content-type'], 'application/json');
  assert.equal(sent.headers.accept, 'application/json, text/event-stream');
  assert.ok(sent.headers['x-amzn-bedrock-agentcore-runtime-session-id'].length >= 33);
  assert.equal(sent.headers['mcp-session-id'], sent.headers['x-amzn-bedrock-agentcore-runtime-session-id']);
  assert.equal(JSON.parse(sent.body).method, 'initialize');
});

test('AgentCore needs a token: none given is an error before any request', async () => {
  const r = await smoke(['--arn', ARN, '--region', 'us-west-2'], { env: { AGENTCORE_ENDPOINT: 'http://127.0.0.1:9' } });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /AgentCore needs a bearer token/);
});
