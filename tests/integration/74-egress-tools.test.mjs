// Tools that fetch, through the whole system: real mcpd (supervisor,
// workers, the egress process) and a real HTTPS upstream with a test CA.
// The test tools http_get and http_fanout (tests/tools/) call mcpd_fetch;
// the operator allows the upstream with --egress-allow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns/promises';
import { rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { startMcpd } from '../lib/mcpd.mjs';
import { freePort } from '../lib/ports.mjs';
import { post, rpc, ACCEPT_BOTH } from '../lib/http.mjs';
import { makeCerts, startUpstream } from '../lib/upstream.mjs';
import { waitUntil } from '../lib/wait.mjs';

const PROTOCOL = '2025-11-25';
let certs, up, server, loopbackName, metricsPort;
const base = () => `https://127.0.0.1:${up.port}`;

function call(name, args, { id = 1, protocol = PROTOCOL, headers = {} } = {}) {
  return post(server.url, rpc(id, 'tools/call', { name, arguments: args }),
    { 'mcp-protocol-version': protocol, ...headers });
}

// The tool's structuredContent, or a failure naming what came back instead.
async function structured(name, args) {
  const r = await call(name, args);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.result.isError, false, r.text);
  return r.json.result.structuredContent;
}

async function toolError(name, args) {
  const r = await call(name, args);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.result.isError, true, r.text);
  return r.json.result.content[0].text;
}

before(async () => {
  certs = makeCerts();
  up = await startUpstream(certs);
  // A name other than localhost that resolves to loopback (this host's own, in many /etc/hosts).
  const found = await dns.lookup(os.hostname()).catch(() => null);
  if (found && /^127\./.test(found.address) && os.hostname() !== 'localhost') loopbackName = os.hostname();
  metricsPort = await freePort();
  const allow = [`127.0.0.1:${up.port}`, ...(loopbackName ? [`${loopbackName}:${up.port}`] : [])];
  server = await startMcpd({
    workers: 2,
    args: ['--egress-allow', allow.join(','), '--egress-ca-file', certs.ca, '--metrics-listen', `127.0.0.1:${metricsPort}`],
  });
  await server.waitForLog((l) => l.event === 'egress_ready');
});

after(async () => {
  if (server) assert.equal((await server.stop()).code, 0);
  up.close();
  rmSync(certs.dir, { recursive: true, force: true });
});

test('a tool fetches through the egress: the upstream\'s answer comes back exact', async () => {
  const s = await structured('http_get', { url: `${base()}/hello?x=1` });
  assert.equal(s.status, 201);
  assert.equal(s.content_type, 'application/json');
  const echo = JSON.parse(s.body);
  assert.equal(echo.method, 'GET');
  assert.equal(echo.url, '/hello?x=1');
  assert.equal(s.length, Buffer.byteLength(s.body));
});

test('method, header and body reach the upstream as the tool set them', async () => {
  const s = await structured('http_get', { url: `${base()}/post`, method: 'POST', body: '{"a":1}', header: 'v1' });
  const echo = JSON.parse(s.body);
  assert.equal(echo.method, 'POST');
  assert.equal(echo.body, '{"a":1}');
  assert.equal(echo.headers['x-test'], 'v1');
});

test('a destination the operator did not allow is a tool error naming it; the upstream sees nothing', async () => {
  const seen = up.requests.length;
  const text = await toolError('http_get', { url: `https://127.0.0.1:${up.port + 1}/x` });
  assert.match(text, /^http_get: refused_destination: /);
  const metadata = await toolError('http_get', { url: 'http://169.254.169.254/latest/meta-data/' });
  assert.match(metadata, /refused_destination/);
  const decimal = await toolError('http_get', { url: 'http://2852039166/latest/meta-data/' });
  assert.match(decimal, /refused_destination/);
  assert.equal(up.requests.length, seen);
});

test('an allowed name that resolves to loopback is refused at the address: DNS cannot open loopback', async (t) => {
  if (!loopbackName) return t.skip('no name but localhost resolves to a loopback address on this machine');
  const seen = up.requests.length;
  const text = await toolError('http_get', { url: `https://${loopbackName}:${up.port}/x` });
  assert.match(text, /^http_get: refused_destination: .*127\.0\.0\.1/);
  assert.equal(up.requests.length, seen);
});

test('a redirect to the metadata address is refused, even when the tool follows redirects', async () => {
  const to = encodeURIComponent('http://169.254.169.254/latest/meta-data/iam/security-credentials/');
  const text = await toolError('http_get', { url: `${base()}/redirect?to=${to}`, follow: true });
  assert.match(text, /refused_destination: redirect to 169\.254\.169\.254:80 refused/);
});

test('a slow upstream: the call ends with a timeout error at its deadline', async () => {
  const text = await toolError('http_get', { url: `${base()}/slow`, timeout_ms: 300 });
  assert.match(text, /^http_get: timeout: /);
});

test('a body over the tool\'s cap fails with too_large', async () => {
  const text = await toolError('http_get', { url: `${base()}/huge`, max_response: 1000 });
  assert.match(text, /too_large/);
});

test('a bad request the tool makes (timeout over 300 s) fails before it leaves, naming why', async () => {
  const text = await toolError('http_get', { url: `${base()}/x`, timeout_ms: 400000 });
  assert.equal(text, 'http_get: bad_request: timeout_ms 400000 is over 300000');
});

test('several requests at once: the call waits for all and each continuation sees its own', async () => {
  const r = await call('http_fanout', { urls: [`${base()}/a`, 'http://169.254.169.254/', `${base()}/b`] });
  assert.equal(r.json.result.isError, false, r.text);
  assert.equal(r.json.result.structuredContent.result, '201,refused_destination,201');
});

test('a batch (2025-03-26) with waiting calls answers every member in order, in one body', async () => {
  const body = [
    rpc(1, 'tools/call', { name: 'http_get', arguments: { url: `${base()}/one` } }),
    rpc(2, 'tools/call', { name: 'sum', arguments: { a: 2, b: 3 } }),
    { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
    rpc(3, 'tools/call', { name: 'http_get', arguments: { url: `${base()}/three` } }),
  ];
  const r = await post(server.url, body, { 'mcp-protocol-version': '2025-03-26' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.map((m) => m.id), [1, 2, 3]);
  assert.equal(JSON.parse(JSON.parse(r.json[0].result.content[0].text).body).url, '/one');
  assert.equal(r.json[1].result.content[0].text, '5');
  assert.equal(JSON.parse(JSON.parse(r.json[2].result.content[0].text).body).url, '/three');
});

test('on the 2026-07-28 wire a waiting call\'s result keeps resultType and the server _meta', async () => {
  const body = { jsonrpc: '2.0', id: 9, method: 'tools/call',
    params: { name: 'http_get', arguments: { url: `${base()}/new` },
      _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {} } } };
  const r = await post(server.url, body, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call',
    'mcp-name': 'http_get' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.result.resultType, 'complete');
  assert.equal(r.json.result.isError, false);
  assert.ok(r.json.result._meta['io.modelcontextprotocol/serverInfo']);
});

test('an SSE answer to a waiting call is one event with the whole result', async () => {
  const r = await call('http_get', { url: `${base()}/sse` }, {
    headers: { accept: 'text/event-stream;q=1, application/json;q=0.5' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/event-stream/);
  const data = JSON.parse(r.text.split('\n').find((l) => l.startsWith('data: ')).slice(6));
  assert.equal(data.result.isError, false);
});

test('pings are answered while calls wait on a slow upstream', async () => {
  const waiting = Array.from({ length: 40 }, (_, i) =>
    call('http_get', { url: `${base()}/slow?${i}`, timeout_ms: 5000 }, { id: 100 + i }));
  await waitUntil(() => up.requests.filter((u) => u.startsWith('/slow?')).length >= 40,
    { what: 'the 40 slow requests at the upstream' });
  for (let i = 0; i < 20; i++) {
    const r = await post(server.url, rpc(i, 'ping', {}), { 'mcp-protocol-version': PROTOCOL });
    assert.equal(r.status, 200);
  }
  const answers = await Promise.all(waiting);
  assert.ok(answers.every((a) => /timeout/.test(a.json.result.content[0].text)));
});

test('a client that goes away cancels its call: the upstream sees the request dropped', async () => {
  const closedBefore = up.closedRequests;
  const req = http.request(server.url, { method: 'POST', agent: false, headers: {
    'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-protocol-version': PROTOCOL } });
  req.on('error', () => {});
  req.end(JSON.stringify(rpc(1, 'tools/call', { name: 'http_get',
    arguments: { url: `${base()}/slow?gone`, timeout_ms: 60000 } })));
  await waitUntil(() => up.requests.includes('/slow?gone'), { what: 'the request at the upstream' });
  req.destroy();
  await waitUntil(() => up.closedRequests > closedBefore, { timeout: 10000,
    what: 'the upstream to see the cancelled request closed' });
  await server.waitForLog((l) => l.event === 'egress_request' && l.outcome === 'cancelled');
});

// The value of one series of the metrics process's scrape, or 0 when absent.
async function metric(series) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

test('each outbound request is counted by tool and outcome, and timed', async () => {
  const ok = 'mcpd_egress_requests_total{tool="http_get",outcome="ok"}';
  const refused = 'mcpd_egress_requests_total{tool="http_get",outcome="refused_destination"}';
  const okBefore = await metric(ok), refusedBefore = await metric(refused);
  const countBefore = await metric('mcpd_egress_request_duration_seconds_count');
  await structured('http_get', { url: `${base()}/counted` });
  await structured('http_get', { url: `${base()}/counted` });
  await toolError('http_get', { url: 'http://169.254.169.254/' });
  // The workers write their counters as they answer; the scrape reads them from shared memory.
  await waitUntil(async () => await metric(ok) === okBefore + 2 && await metric(refused) === refusedBefore + 1,
    { what: 'the scrape to count 2 ok and 1 refused_destination more' });
  assert.equal(await metric('mcpd_egress_request_duration_seconds_count'), countBefore + 3);
});

test('kill -9 of the egress: waiting calls fail with egress_restarted, no worker dies, the next call works', async () => {
  const egressPid = server.logs.filter((l) => l.event === 'egress_ready').at(-1).child_pid;
  const restartsBefore = server.logs.filter((l) => l.event === 'egress_ready').length;
  const waiting = call('http_get', { url: `${base()}/slow?kill`, timeout_ms: 60000 });
  await waitUntil(() => up.requests.includes('/slow?kill'), { what: 'the request at the upstream' });
  process.kill(egressPid, 'SIGKILL');
  const r = await waiting;
  assert.equal(r.json.result.isError, true);
  assert.match(r.json.result.content[0].text, /egress_restarted/);
  await server.waitForLog(() => server.logs.filter((l) => l.event === 'egress_ready').length > restartsBefore,
    20000, 'the egress to be respawned');
  await waitUntil(async () => {
    const again = await call('http_get', { url: `${base()}/after` });
    return again.json.result.isError === false;
  }, { timeout: 10000, what: 'a call to work again after the egress restart' });
  assert.equal(server.logs.filter((l) => l.event === 'worker_exited').length, 0);
});
