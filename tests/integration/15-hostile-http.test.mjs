// Hostile HTTP/1.1 over raw sockets, against the real supervisor and workers:
// message framing that could smuggle a second request past a front end
// (RFC 9112), headers that must carry one value, the absolute-form target,
// and the loopback-origin rule taken exactly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMcpd } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { connect, readResponse, readUntilClose, ACCEPT_BOTH } from '../lib/http.mjs';
import { startIssuer } from '../lib/oidc.mjs';
import { CLIENT_ID, mint } from '../lib/tokens.mjs';

const CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'sum', arguments: { a: 2, b: 3 } } });
const PING = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });

let server;
before(async () => {
  server = await startMcpd({ workers: 1, args: ['--max-body', '4096', '--idle-timeout', '5'] });
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

// A request head from lines, with the CRLFs and the blank line.
const head = (...lines) => `${lines.join('\r\n')}\r\n\r\n`;
const mcpHeaders = ['Content-Type: application/json', `Accept: ${ACCEPT_BOTH}`, 'MCP-Protocol-Version: 2025-11-25'];

// Writes `bytes` on a new connection, half-closes, and returns every
// response the server sent before it closed, parsed.
async function exchange(bytes, port = server.port) {
  const sock = await connect(port);
  sock.end(bytes);
  const raw = await readUntilClose(sock);
  const responses = [];
  let rest = raw;
  for (;;) {
    const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n/.exec(rest);
    if (!m) break;
    const len = Number(/content-length: *(\d+)/i.exec(m[2])?.[1] ?? 0);
    const start = m[0].length;
    responses.push({ status: Number(m[1]), head: m[2], body: rest.slice(start, start + len) });
    rest = rest.slice(start + len);
  }
  return { raw, responses };
}

// The framing refusals: exactly one 400 that closes the connection, so the
// bytes after it are never read as a request.
async function assertRefusedAndClosed(bytes, what, reason) {
  const { raw, responses } = await exchange(bytes);
  assert.equal(responses.length, 1, `${what}: one response, not ${responses.length}:\n${raw}`);
  assert.equal(responses[0].status, 400, `${what}: ${raw}`);
  assert.match(responses[0].head, /^connection: close$/im, `${what}: the connection is closed`);
  assert.match(responses[0].body, reason, what);
  return responses[0];
}

test('two Content-Length headers: 400 and closed, the rest of the body is never a second request', async () => {
  const smuggled = `GET /mcpx HTTP/1.1\r\nHost: x\r\n\r\n`;
  const body = PING + smuggled;
  for (const [first, second] of [[PING.length, body.length], [PING.length, PING.length]]) {
    await assertRefusedAndClosed(head('POST /mcp HTTP/1.1', 'Host: x', ...mcpHeaders,
      `Content-Length: ${first}`, `Content-Length: ${second}`) + body, `Content-Length ${first} then ${second}`,
    /more than one Content-Length/);
  }
});

test('Content-Length with Transfer-Encoding: 400 and closed', async () => {
  const chunked = `${PING.length.toString(16)}\r\n${PING}\r\n0\r\n\r\n`;
  const smuggled = `POST /mcp HTTP/1.1\r\nHost: x\r\n${mcpHeaders.join('\r\n')}\r\nContent-Length: ${PING.length}\r\n\r\n${PING}`;
  await assertRefusedAndClosed(head('POST /mcp HTTP/1.1', 'Host: x', ...mcpHeaders, `Content-Length: ${chunked.length}`,
    'Transfer-Encoding: chunked') + chunked + smuggled, 'Content-Length and Transfer-Encoding',
  /Content-Length together with Transfer-Encoding/);
  await assertRefusedAndClosed(head('POST /mcp HTTP/1.1', 'Host: x', ...mcpHeaders, 'Transfer-Encoding: chunked',
    'Transfer-Encoding: chunked') + chunked + smuggled, 'two Transfer-Encoding headers', /more than one Transfer-Encoding/);
});

test('HTTP/1.1 needs exactly one Host: none or two is 400 and closed; HTTP/1.0 may leave it out', async () => {
  await assertRefusedAndClosed(head('POST /mcp HTTP/1.1', ...mcpHeaders, `Content-Length: ${PING.length}`) + PING,
    'no Host', /no Host header/);
  await assertRefusedAndClosed(head('POST /mcp HTTP/1.1', 'Host: a', 'Host: b', ...mcpHeaders, `Content-Length: ${PING.length}`) + PING,
    'two Host headers', /more than one Host/);
  await assertRefusedAndClosed(head('GET /ping HTTP/1.1', 'Host: a', 'host: a'), 'two Host headers on /ping', /more than one Host/);
  await assertRefusedAndClosed(head('GET /nowhere HTTP/1.1'), 'no Host on a 404 path', /no Host header/);
  const ok = await exchange(head('POST /mcp HTTP/1.0', ...mcpHeaders, `Content-Length: ${CALL.length}`) + CALL);
  assert.equal(ok.responses.length, 1, ok.raw);
  assert.equal(ok.responses[0].status, 200, ok.raw);
  assert.match(ok.responses[0].body, /"structuredContent":\{"result":5\}/);
});

test('sound framing keeps serving pipelined requests on one connection', async () => {
  const one = head('POST /mcp HTTP/1.1', 'Host: x', ...mcpHeaders, `Content-Length: ${CALL.length}`) + CALL;
  const chunked = head('POST /mcp HTTP/1.1', 'Host: x', ...mcpHeaders, 'Transfer-Encoding: chunked') +
    `${CALL.length.toString(16)}\r\n${CALL}\r\n0\r\n\r\n`;
  const last = head('GET /ping HTTP/1.1', 'Host: x', 'Connection: close');
  const { raw, responses } = await exchange(one + chunked + one + last);
  assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200], raw);
});

test('a chunked body that declares more than --max-body is answered 413 at once, before it is sent', async () => {
  const cases = [
    ['one chunk of 2 MiB, 100 bytes of it sent', `200000\r\n${'x'.repeat(100)}`],
    ['3000 + 3000 bytes: the second size passes 4096', `bb8\r\n${'x'.repeat(3000)}\r\nbb8\r\n`],
    ['a size line still arriving', 'fffffff'],
  ];
  for (const [what, partial] of cases) {
    const sock = await connect(server.port);
    sock.write(head('POST /mcp HTTP/1.1', 'Host: x', ...mcpHeaders, 'Transfer-Encoding: chunked') + partial);
    // The client sends nothing more and waits: the answer must come anyway.
    const res = await readResponse(sock, 5000);
    assert.equal(res.status, 413, `${what}: ${res.head}`);
    assert.match(res.head, /^connection: close$/im, what);
    await readUntilClose(sock, 10000);
  }
  await waitUntil(() => server.logs.some((l) => l.event === 'request' && l.status === 413 && l.declared_bytes === 0x200000),
    { timeout: 5000, what: 'the refusal in the request log, with the declared size' });
});

test('the absolute-form target is served like its path (RFC 9112 §3.2.2)', async () => {
  const origin = `http://127.0.0.1:${server.port}`;
  for (const target of [`${origin}/mcp`, `${origin}/mcp/`, `HTTP://localhost/mcp`]) {
    const { raw, responses } = await exchange(head(`POST ${target} HTTP/1.1`, 'Host: x', ...mcpHeaders,
      `Content-Length: ${CALL.length}`, 'Connection: close') + CALL);
    assert.equal(responses[0]?.status, 200, `${target}: ${raw}`);
    assert.match(responses[0].body, /"structuredContent":\{"result":5\}/, target);
  }
  const ping = await exchange(head(`GET ${origin}/ping HTTP/1.1`, 'Host: x', 'Connection: close'));
  assert.equal(ping.responses[0]?.status, 200, ping.raw);
  for (const target of [`${origin}/other`, `${origin}`, 'http:///mcp', `ftp://127.0.0.1/mcp`]) {
    const { raw, responses } = await exchange(head(`POST ${target} HTTP/1.1`, 'Host: x', ...mcpHeaders,
      `Content-Length: ${CALL.length}`, 'Connection: close') + CALL);
    assert.equal(responses[0]?.status, 404, `${target}: ${raw}`);
  }
});

test('headers that carry one value: a second copy is refused, never resolved by taking the first', async () => {
  const cases = [
    ['Content-Type', ['Content-Type: application/json', 'Content-Type: text/plain'], 400],
    ['MCP-Protocol-Version', ['MCP-Protocol-Version: 2025-11-25', 'MCP-Protocol-Version: 2025-06-18'], 400],
    ['Mcp-Method', ['Mcp-Method: tools/call', 'Mcp-Method: ping'], 400],
    ['Mcp-Name', ['Mcp-Name: sum', 'mcp-name: echo'], 400],
    ['Origin', ['Origin: http://localhost:3000', 'Origin: https://evil.example'], 403],
    ['Authorization', ['Authorization: Bearer a', 'Authorization: Bearer b'], 400],
  ];
  for (const [name, lines, status] of cases) {
    const base = ['Content-Type: application/json', `Accept: ${ACCEPT_BOTH}`, 'MCP-Protocol-Version: 2025-11-25']
      .filter((l) => !lines.some((d) => d.toLowerCase().startsWith(l.split(':')[0].toLowerCase())));
    const { raw, responses } = await exchange(head('POST /mcp HTTP/1.1', 'Host: x', ...base, ...lines,
      `Content-Length: ${CALL.length}`, 'Connection: close') + CALL);
    assert.equal(responses[0]?.status, status, `${name} twice: ${raw}`);
    assert.match(responses[0].body, new RegExp(`more than one ${name} header`), `${name}: the answer says why`);
  }
  await waitUntil(() => server.logs.some((l) => l.event === 'request' && l.refused === 'more than one Mcp-Name header'),
    { timeout: 5000, what: 'the refusal in the request log' });
});

test('an Origin is loopback only when its host is exactly localhost, 127.0.0.1 or [::1]', async () => {
  const port = server.port;
  for (const [origin, status] of [
    ['http://localhost:1.evil.example', 403], ['http://[::1].evil.example', 403], ['foo://localhost', 403],
    [`http://127.0.0.1:${port}/path`, 403], ['http://localhost.evil.example', 403],
    [`http://127.0.0.1:${port}`, 200], ['https://localhost', 200], ['http://[::1]:8080', 200],
  ]) {
    const { raw, responses } = await exchange(head('POST /mcp HTTP/1.1', 'Host: x', ...mcpHeaders, `Origin: ${origin}`,
      `Content-Length: ${CALL.length}`, 'Connection: close') + CALL);
    assert.equal(responses[0]?.status, status, `Origin ${origin}: ${raw}`);
  }
});

test('tokens verified: a second Authorization header is 401 with a challenge, even after a valid one', async () => {
  const idp = await startIssuer({ keys: 1 });
  const s = await startMcpd({
    workers: 1,
    auth: false,
    args: ['--discovery-url', idp.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID],
  });
  try {
    await waitUntil(async () => (await fetch(`${s.origin}/ping`)).status === 200, { timeout: 20000, what: 'the first key set' });
    const token = mint(idp);
    const one = await exchange(head('POST /mcp HTTP/1.1', 'Host: x', ...mcpHeaders, `Authorization: Bearer ${token}`,
      `Content-Length: ${CALL.length}`, 'Connection: close') + CALL, s.port);
    assert.equal(one.responses[0]?.status, 200, one.raw);
    for (const second of ['Bearer garbage', `Bearer ${token}`]) {
      const two = await exchange(head('POST /mcp HTTP/1.1', 'Host: x', ...mcpHeaders, `Authorization: Bearer ${token}`,
        `Authorization: ${second}`, `Content-Length: ${CALL.length}`, 'Connection: close') + CALL, s.port);
      assert.equal(two.responses[0]?.status, 401, two.raw);
      assert.match(two.responses[0].head, /^www-authenticate: Bearer error="invalid_token", error_description="more than one Authorization header"/im);
    }
  } finally {
    assert.equal((await s.stop()).code, 0);
    await idp.close();
  }
});
