// HTTP layer of /mcp, /ping and everything else, over real HTTP against the
// real supervisor and workers: every status code and error path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMcpd } from '../lib/mcpd.mjs';
import { post, rpc, connect, readResponse, readUntilClose, ACCEPT_BOTH } from '../lib/http.mjs';

let server;
before(async () => {
  server = await startMcpd({ workers: 2, args: ['--max-body', '4096', '--idle-timeout', '1'] });
});
after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0);
});

const init = rpc(1, 'initialize', {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'it', version: '1' },
});

test('GET /ping answers 200 with a health document', async () => {
  const res = await fetch(`${server.origin}/ping`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, 'Healthy');
  assert.equal(typeof body.time_of_last_update, 'number');
});

test('unknown paths answer 404, including look-alikes of /mcp', async () => {
  for (const p of ['/', '/nope', '/mcpx', '/mcp/extra', '/ping/x']) {
    const res = await fetch(`${server.origin}${p}`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404, p);
    await res.arrayBuffer();
  }
});

test('GET, DELETE and PUT /mcp answer 405 with Allow: POST', async () => {
  for (const method of ['GET', 'DELETE', 'PUT']) {
    const res = await fetch(server.url, { method, headers: { accept: 'text/event-stream' } });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get('allow'), 'POST');
    const body = await res.json();
    assert.equal(body.error.code, -32000);
  }
});

test('a client that does not accept both JSON and SSE gets 406', async () => {
  for (const accept of ['application/json', 'text/event-stream', 'text/html', 'application/json;q=0, text/event-stream']) {
    const res = await post(server.url, init, { accept });
    assert.equal(res.status, 406, accept);
  }
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: '' }, body: JSON.stringify(init) });
  assert.equal(res.status, 406);
});

test('wildcards in Accept count as accepting both', async () => {
  for (const accept of ['*/*', 'application/*, text/*']) {
    const res = await post(server.url, init, { accept });
    assert.equal(res.status, 200, accept);
  }
});

test('a body that is not application/json gets 415', async () => {
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
    const res = await post(server.url, init, { 'content-type': ct });
    assert.equal(res.status, 415, ct);
  }
  const res = await post(server.url, init, { 'content-type': 'application/json; charset=utf-8' });
  assert.equal(res.status, 200);
});

test('a foreign Origin gets 403; loopback origins and no origin are served', async () => {
  assert.equal((await post(server.url, init, { origin: 'http://evil.example' })).status, 403);
  assert.equal((await post(server.url, init, { origin: 'http://localhost.evil.example' })).status, 403);
  assert.equal((await post(server.url, init, { origin: `http://localhost:${server.port}` })).status, 200);
  assert.equal((await post(server.url, init, { origin: 'http://127.0.0.1:3000' })).status, 200);
  assert.equal((await post(server.url, init)).status, 200);
});

test('initialize answers as JSON without minting a session id', async () => {
  const res = await post(server.url, init);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.headers.get('mcp-session-id'), null);
  assert.equal(res.json.result.protocolVersion, '2025-11-25');
});

test('a client that prefers SSE gets one single-event stream', async () => {
  // Not a ping: a ping without a token is the health probe, answered as JSON whatever Accept says.
  const res = await post(server.url, rpc(7, 'resources/list'), {
    accept: 'application/json;q=0.5, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const events = res.text.split('\n\n').filter(Boolean);
  assert.equal(events.length, 1);
  const data = events[0].split('\n').find((l) => l.startsWith('data: '));
  assert.deepEqual(JSON.parse(data.slice(6)), { jsonrpc: '2.0', id: 7, result: { resources: [] } });
});

test('notifications and client responses get 202 with no body', async () => {
  const n = await post(server.url, { jsonrpc: '2.0', method: 'notifications/initialized' });
  assert.equal(n.status, 202);
  assert.equal(n.text, '');
  const r = await post(server.url, { jsonrpc: '2.0', id: 'abc', result: {} });
  assert.equal(r.status, 202);
  assert.equal(r.text, '');
});

test('session headers from AgentCore are served and logged, never rejected', async () => {
  const sid = 'sess-0123456789abcdef0123456789abcdef';
  const res = await post(server.url, rpc(2, 'tools/call', { name: 'sum', arguments: { a: 2, b: 40 } }), {
    'mcp-session-id': sid,
    'x-amzn-bedrock-agentcore-runtime-session-id': sid,
    'mcp-protocol-version': '2025-06-18',
  });
  assert.equal(res.status, 200);
  assert.equal(res.json.result.structuredContent.result, 42);
  const line = await server.waitForLog((l) => l.event === 'request' && l.session_id === sid);
  assert.equal(line.status, 200);
  assert.equal(line.rpc_method, 'tools/call');
  assert.equal(line.tool, 'sum');
  assert.equal(line.runtime_session_id, sid);
  assert.equal(typeof line.duration_us, 'number');
  assert.equal(typeof line.pid, 'number');
  assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
});

test('JSON-RPC errors carry the codes the specification names', async () => {
  const parse = await post(server.url, '{"jsonrpc":"2.0",');
  assert.equal(parse.status, 400);
  assert.equal(parse.json.error.code, -32700);
  assert.equal(parse.json.id, null);

  const invalid = await post(server.url, { jsonrpc: '1.0', id: 3, method: 'ping' });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.error.code, -32600);
  assert.equal(invalid.json.id, 3);

  const nullId = await post(server.url, { jsonrpc: '2.0', id: null, method: 'ping' });
  assert.equal(nullId.status, 400);
  assert.equal(nullId.json.error.code, -32600);

  const unknown = await post(server.url, rpc(4, 'completion/complete'));
  assert.equal(unknown.status, 200);
  assert.equal(unknown.json.error.code, -32601);
  assert.equal(unknown.json.id, 4);

  const badTool = await post(server.url, rpc(5, 'tools/call', { name: 'nope', arguments: {} }));
  assert.equal(badTool.json.error.code, -32602);

  const badArgs = await post(server.url, rpc(6, 'tools/call', { name: 'sum', arguments: [1, 2] }));
  assert.equal(badArgs.json.error.code, -32602);
});

test('tool failures are isError results, not protocol errors', async () => {
  const cases = [
    [{ name: 'sum', arguments: { a: 9223372036854775807n, b: 1 } }, /does not fit/],
    [{ name: 'sum', arguments: { a: 2.5, b: 2 } }, /integer/],
    [{ name: 'sum', arguments: { a: 1 } }, /missing required argument 'b'/],
    [{ name: 'echo', arguments: { text: 7 } }, /must be a string/],
    [{ name: 'echo', arguments: { text: 'x', extra: 1 } }, /unexpected argument 'extra'/],
  ];
  for (const [params, pattern] of cases) {
    const body = JSON.stringify(rpc(9, 'tools/call', params), (k, v) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(/"@@(-?\d+)@@"/g, '$1');
    const res = await post(server.url, body, { 'mcp-protocol-version': '2025-11-25' });
    assert.equal(res.status, 200);
    assert.equal(res.json.result.isError, true, body);
    assert.match(res.json.result.content[0].text, pattern);
  }
});

test('64-bit integers come back exact, not rounded through a double', async () => {
  const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sum","arguments":{"a":9223372036854775806,"b":1}}}';
  const res = await post(server.url, body, { 'mcp-protocol-version': '2025-11-25' });
  assert.match(res.text, /"text":"9223372036854775807"/);
  assert.match(res.text, /"structuredContent":\{"result":9223372036854775807\}/);
});

test('string arguments and results keep UTF-8 intact', async () => {
  const res = await post(server.url, rpc(1, 'tools/call', { name: 'echo', arguments: { text: 'Zoë 山田 🙂' } }));
  assert.equal(res.json.result.content[0].text, 'echo: Zoë 山田 🙂');
});

test('an unknown MCP-Protocol-Version gets 400', async () => {
  const res = await post(server.url, rpc(1, 'tools/list'), { 'mcp-protocol-version': '1999-01-01' });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, -32000);
});

test('batches are served for 2025-03-26 and refused after it', async () => {
  const batch = [rpc(1, 'ping'), { jsonrpc: '2.0', method: 'notifications/initialized' }, rpc(2, 'tools/list')];
  const ok = await post(server.url, batch);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.map((r) => r.id), [1, 2]);
  const refused = await post(server.url, batch, { 'mcp-protocol-version': '2025-06-18' });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.code, -32600);
  const empty = await post(server.url, []);
  assert.equal(empty.status, 400);
});

test('bodies over --max-body get 413, by length and by chunks', async () => {
  const big = JSON.stringify(rpc(1, 'tools/call', { name: 'echo', arguments: { text: 'x'.repeat(5000) } }));
  const byLength = await post(server.url, big);
  assert.equal(byLength.status, 413);
  // h2o refuses it before any handler runs; the log still has its line.
  await server.waitForLog((l) => l.event === 'request' && l.status === 413 && l.path === '/mcp');

  // One write: h2o 2.2.5 has no lingering close, so bytes arriving after it
  // answered would reset the connection and could discard the 413 client-side.
  const sock = await connect(server.port);
  const chunk = `400\r\n${'x'.repeat(0x400)}\r\n`;
  sock.write(`POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(5)}`);
  const res = await readResponse(sock);
  assert.equal(res.status, 413);
  sock.destroy();
});

test('idle keep-alive connections are closed after --idle-timeout', async () => {
  const sock = await connect(server.port);
  sock.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
  const closed = readUntilClose(sock, 10000);
  const data = await closed;
  assert.match(data, /^HTTP\/1.1 200/);
});

test('a client that trickles its headers is cut off by the timeout', async () => {
  const sock = await connect(server.port);
  sock.write('POST /mcp HTTP/1.1\r\nHost: x\r\n');
  const data = await readUntilClose(sock, 10000);
  assert.doesNotMatch(data, /^HTTP\/1.1 200/);
});

test('HTTP/2 is not offered: an h2c upgrade is answered as HTTP/1.1', async () => {
  const sock = await connect(server.port);
  sock.write('GET /ping HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
  const res = await readResponse(sock);
  assert.equal(res.status, 200);
  sock.destroy();
});

const wire2026Meta = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};
const wire2026Headers = (method, name) => ({
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': method,
  ...(name ? { 'mcp-name': name } : {}),
});

test('2026-07-28 requests are not refused for their Accept header (406 is a 2025 rule)', async () => {
  const res = await post(server.url, rpc(1, 'tools/list', { _meta: wire2026Meta }), {
    ...wire2026Headers('tools/list'),
    accept: 'application/json',
  });
  assert.equal(res.status, 200);
  assert.equal(res.json.result.resultType, 'complete');
});

test('a 2026-07-28 header without the _meta envelope is 400 -32602 with the id echoed', async () => {
  const res = await post(server.url, rpc('d1', 'server/discover', {}), wire2026Headers('server/discover'));
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, -32602);
  assert.equal(res.json.id, 'd1');
});

test('2026-07-28: Mcp-Name must match, also in its base64 form', async () => {
  const body = rpc(3, 'tools/call', { name: 'echo', arguments: { text: 'x' }, _meta: wire2026Meta });
  const ok = await post(server.url, body, wire2026Headers('tools/call', `=?base64?${Buffer.from('echo').toString('base64')}?=`));
  assert.equal(ok.status, 200);
  assert.equal(ok.json.result.structuredContent.result, 'echo: x');
  const wrong = await post(server.url, body, wire2026Headers('tools/call', 'sum'));
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json.error.code, -32020);
  assert.equal(wrong.json.id, 3);
  const unpadded = await post(server.url, body, wire2026Headers('tools/call', '=?base64?ZWNobw?='));
  assert.equal(unpadded.status, 400);
  const removed = await post(server.url, rpc(4, 'ping', { _meta: wire2026Meta }), wire2026Headers('ping'));
  assert.equal(removed.status, 404);
  assert.equal(removed.json.error.code, -32601);
});
